# The GPU session (issues 10 and 14), 15 minutes of device time in all, start included.
# Here: `PART_MB=50 bash ../shared/gpu/prepare.sh /srv/cifar10` stages .gpu/p1..p3 (remove
# an old .gpu first), and SHA=$(git rev-parse HEAD) with fenwicks_lite/ and book/scripts/
# as committed (`git status --short fenwicks_lite book/scripts` prints nothing): the GPU
# machine gets the files without .git, so the records name their commit only through
# FENWICKS_LITE_GIT_COMMIT (fw.records.git_commit). Then device calls back to back (the
# machine goes back when idle; write SHA's value into calls 3 and 4):
#   1. carry .gpu/p1: mkdir -p /root/d && cp .gpu/p1/part* /root/d/ && nvidia-smi -L
#   2. carry .gpu/p2: mkdir -p /root/d && cp .gpu/p2/part* /root/d/
#   3. carry .gpu/p3, timeout_s 420: source .gpu/p3/assemble.sh || exit 1;
#      export FENWICKS_LITE_GIT_COMMIT=SHA;
#      SEEDS=10 LIMIT_S=380 bash book/scripts/gpu_run.sh      (SEEDS=5 if time is short)
#   4. no carry, timeout_s 360: export PYTHONPATH=/tmp/site KERAS_BACKEND=jax
#      PYTHONUNBUFFERED=1 CIFAR10_DIR=/root/d FENWICKS_LITE_GIT_COMMIT=SHA;
#      test -d /tmp/site/keras || exit 3; LIMIT_S=320 bash book/scripts/gpu_fast.sh
# then give the machine back; each script's header says how its records are committed.
# Rehearsed on the CPU with the GPU machine's versions (Python 3.12, jax 0.11.2, numpy
# 2.5.2, keras 3.15.1) and with mixed_bfloat16, the precision an H100/H200 gets; again
# on 2026-12-07 after report.py began importing fw.plt (ba6d77c; at 7039bfd; quick, mini
# sample staged by prepare.sh, TF unimportable, rc 0): gpu_run.sh SEEDS=2 in 251 s wall
# on a busy 2-core CPU, its rerun skipped both seeds (9 s), LIMIT_S killed it mid-seed
# (rc 124, the finished seed packed) and the next call resumed; gpu_fast.sh (SEEDS=1
# BUDGET_S=100000, every row) in 76 s; both also in a copy of the files without .git. A
# rehearsal venv (pyenv's 3.12) needs `jax[cpu]==0.11.2 numpy==2.5.2` and what the GPU
# image already holds but the staged wheels lack (keras imports them): typing_extensions,
# absl-py, h5py, rich (the image's package list: the device library's KINDS.md); and a
# stub `nvidia-smi` on PATH, since assemble.sh ends by calling it. Again at 96df92d,
# after the CLI began choosing its backend before Keras loads (704a1c0) and printing one
# summary per seed (82809eb): gpu_run.sh SEEDS=2 in 62 s wall on the quiet CPU (the
# second seed's compile reused), gpu_fast.sh every row in 77 s, both rc 0. The call of step 3,
# rehearsed (a fresh environment, as on the device; /tmp/rv is that venv):
#   env -i PATH=STUBDIR:/tmp/rv/bin:/usr/bin:/bin HOME=$HOME bash -c 'source \
#     .gpu/p1/assemble.sh && PROFILE=quick SEEDS=2 OUT=/tmp/rehearsal bash \
#     book/scripts/gpu_run.sh'
#
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
if [ -z "${FENWICKS_LITE_GIT_COMMIT:-}" ] \
    && ! git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
  echo "note: no git checkout here and FENWICKS_LITE_GIT_COMMIT unset: the records will" \
    "name no commit (see gpu_common.sh)" >&2
fi
_pack_name="" _pack_work=""
_pack() { tar -czf "$out/$_pack_name" -C "$_pack_work" results 2>/dev/null || true; }
pack_on_exit() { _pack_name="$1" _pack_work="$2"; trap _pack EXIT; }
