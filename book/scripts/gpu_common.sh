# Sourced by gpu_run.sh (chapter 9) and gpu_fast.sh (chapter 10): the lines both GPU
# commands share. It sets root (the repository), out ($OUT, default ./_gpu_out), t0 (the
# start), lim (a `timeout $LIMIT_S` prefix, or nothing without LIMIT_S), exports what a run
# needs, and defines pack_on_exit NAME WORK: whatever happens later, WORK/results goes
# back as $out/NAME, one file (the device tool returns at most 8 files from $OUT).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${OUT:-$root/_gpu_out}"
: "${CIFAR10_DIR:?set CIFAR10_DIR to the folder holding cifar-10-batches-py/ (assemble.sh does)}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
mkdir -p "$out"
t0=$(date +%s)
lim=()
if [ -n "${LIMIT_S:-}" ]; then lim=(timeout "$LIMIT_S"); fi
_pack_name="" _pack_work=""
_pack() { tar -czf "$out/$_pack_name" -C "$_pack_work" results 2>/dev/null || true; }
pack_on_exit() { _pack_name="$1" _pack_work="$2"; trap _pack EXIT; }
