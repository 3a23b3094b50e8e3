#!/usr/bin/env bash
# Chapter 9's GPU run as ONE command: train the seeds in one process (one XLA compile for all),
# write one JSON record per seed and the summary, print one line per seed, and pack the records
# into $OUT/records.tar.gz (the device tool returns at most 8 files; 10 seeds write 11).
#
# On the GPU machine (see ../shared/gpu/README.md), the device call that carries the last staged
# part runs, from the repository root:
#
#   source .gpu/pN/assemble.sh || exit 1; bash book/scripts/gpu_run.sh
#
# (with FENWICKS_LITE_GIT_COMMIT, SEEDS and LIMIT_S as gpu_common.sh's plan says)
#
# assemble.sh unpacks CIFAR-10 to /root/d and exports CIFAR10_DIR, KERAS_BACKEND=jax and the
# PYTHONPATH of the wheels it installed. The run itself is `python -m fenwicks_lite.train` with
# TensorFlow made unimportable (tests/no_tensorflow.py), as it is on that machine, so the CPU
# rehearsal below runs exactly what the GPU runs (python3 a Python 3.12 with jax 0.11.2,
# a stub nvidia-smi on PATH: gpu_common.sh):
#
#   PART_MB=50 bash ../shared/gpu/prepare.sh /work/shared/data/cifar10-mini
#   (source .gpu/p1/assemble.sh && PROFILE=quick SEEDS=2 OUT=/tmp/rehearsal \
#      bash book/scripts/gpu_run.sh)
#
# Settings (environment): SEEDS (default 10; issue 10: never fewer than 5), PROFILE (full),
# OUT (where the device tool collects files; default ./_gpu_out), WORK (checkpoints and the
# persistent compile cache, kept out of $OUT: default /tmp/fenwicks-gpu-run). Run it again on the
# same warm machine to continue: finished seeds are skipped, an interrupted one resumes.
# LIMIT_S (none): stop training after this many seconds, so that the records written so far
# are packed before the device call's own limit kills the whole command (set it about 40 s
# under the call's timeout_s).
#
# After the run (CPU, any session) only the records are committed and chapters 9 and 8
# re-executed; chapter 9 shows its tables once 5 or more full records exist, chapter 8's
# "What to expect" prints the run's figures (`fw.report.what_to_expect`):
#
#   mkdir -p /tmp/gpu && tar -xzf <files_at>/records.tar.gz -C /tmp/gpu
#   cp /tmp/gpu/results/full-seed*.json /tmp/gpu/results/full-summary.json fenwicks_lite/results/
#   for nb in 09_full_run 08_accelerators; do CIFAR10_DIR=/srv/cifar10 \
#      PYTHONPATH=$PWD:$PWD/book/_ext python -m fwbook.notebooks execute --profile full \
#      book/$nb.ipynb; done
#   pytest tests/test_report.py   # every number chapters 9 and 8 print, against the records
#   git add fenwicks_lite/results book/09_full_run.ipynb book/08_accelerators.ipynb && git commit
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/gpu_common.sh"
seeds="${SEEDS:-10}"
profile="${PROFILE:-full}"
work="${WORK:-/tmp/fenwicks-gpu-run}"
mkdir -p "$work/results"
resume=()
if compgen -G "$work/results/$profile-seed*.json" >/dev/null || [ -d "$work/checkpoints" ]; then
  resume=(--resume)
  echo "continuing the run in $work"
fi
pack_on_exit records.tar.gz "$work"  # whatever happens, the records go back
"${lim[@]}" python3 "$root/tests/no_tensorflow.py" fenwicks_lite.train --profile "$profile" \
  --seeds "$seeds" --out "$work/results" --work-dir "$work/checkpoints" --quiet "${resume[@]}"
echo "wall time: $(( $(date +%s) - t0 )) s for $seeds seed(s), profile $profile"
