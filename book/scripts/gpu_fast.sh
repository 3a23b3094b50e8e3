#!/usr/bin/env bash
# Chapter 10's GPU sweep as ONE command: the fast recipe on the test set (5 seeds), then the
# ablation on the 5,000-image validation split (seed recipe -> each idea added -> fast
# recipe, 5 seeds a row), one XLA compile per network shape, one JSON record per run, all
# packed into $OUT/fast-records.tar.gz (the device tool returns at most 8 files; the sweep
# writes 40). About 5 minutes on one H100 by estimate; --budget-s 220 starts no new row
# after 220 s (the slow seed-recipe rows run last).
#
# On the GPU machine, the device call that carries the last staged part runs, from the
# repository root (timeout_s 360):
#
#   source .gpu/pN/assemble.sh || exit 1; bash book/scripts/gpu_fast.sh
#
# In the call right after chapter 9's (gpu_run.sh, which ran assemble.sh on the same warm
# machine: the data in /root/d and the wheels in /tmp/site are still there, the variables
# are not), nothing needs carrying:
#
#   export PYTHONPATH=/tmp/site KERAS_BACKEND=jax PYTHONUNBUFFERED=1 CIFAR10_DIR=/root/d
#   test -d /tmp/site/keras || exit 3; bash book/scripts/gpu_fast.sh
#
# (with FENWICKS_LITE_GIT_COMMIT and LIMIT_S as gpu_common.sh's plan says)
#
# CPU rehearsal (TensorFlow unimportable, KERAS_BACKEND=jax, the mini sample). With 1,200
# training images the validation runs have enough steps for the weight averaging to fire;
# measured on a busy 2-core AMD EPYC: 251 s wall for 5 seeds (the 220 s budget cut the last
# three rows), 133 s for SEEDS=1 BUDGET_S=100000 (every row):
#
#   PYTHON=.venv/bin/python CIFAR10_DIR=/work/shared/data/cifar10-mini PROFILE=quick \
#     OUT=/tmp/rehearsal EXTRA="--train-limit 1200 --test-limit 200" \
#     bash book/scripts/gpu_fast.sh
#
# Settings (environment): SEEDS (5), PROFILE (full), BUDGET_S (220), OUT (./_gpu_out),
# WORK (the records before packing: /tmp/fenwicks-fast-run), EXTRA (more sweep arguments),
# PYTHON (python3; here: the venv's python), LIMIT_S (none: a hard stop after this many
# seconds, so that what was written is packed before the device call's limit; about 40 s
# under its timeout_s).
#
# After the run (CPU, any session): only the full-profile records are committed and chapter
# 10 re-executed; it shows its tables once 5 test runs of the fast recipe exist:
#
#   mkdir -p /tmp/gpu && tar -xzf <files_at>/fast-records.tar.gz -C /tmp/gpu
#   cp /tmp/gpu/results/fast-full-*.json fenwicks_lite/results/
#   CIFAR10_DIR=/srv/cifar10 PYTHONPATH=$PWD:$PWD/book/_ext \
#      python -m fwbook.notebooks execute --profile full book/10_beyond_the_seed.ipynb
#   pytest tests/test_fast.py -k chapter10   # every record-driven output, recomputed
#   git add fenwicks_lite/results book/10_beyond_the_seed.ipynb && git commit
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/gpu_common.sh"
work="${WORK:-/tmp/fenwicks-fast-run}"
rm -rf "$work/results"  # the sweep does not resume: a rerun starts afresh
mkdir -p "$work/results"
pack_on_exit fast-records.tar.gz "$work"  # whatever happens, the records go back
# shellcheck disable=SC2086
"${lim[@]}" "${PYTHON:-python3}" "$root/tests/no_tensorflow.py" fenwicks_lite.fast sweep \
  --profile "${PROFILE:-full}" --seeds "${SEEDS:-5}" --budget-s "${BUDGET_S:-220}" \
  --compile-cache /tmp/fenwicks-fast-cache --out "$work/results" ${EXTRA:-}
# did the weight averaging run? (a run too short for it: the rehearsal's limits)
"${PYTHON:-python3}" - "$work/results" <<'PY'
import json, pathlib, sys

recs = [json.loads(p.read_text()) for p in pathlib.Path(sys.argv[1]).glob("*.json")]
asks = [r for r in recs if r.get("recipe", {}).get("lookahead")]
ran = [r["lookahead_steps"] for r in asks if r.get("lookahead_steps", 0) > 1]
print(f"lookahead: {len(ran)} of {len(asks)} runs that use it averaged "
      f"({min(ran, default=0)}..{max(ran, default=0)} averaging steps)")
PY
echo "wall time: $(( $(date +%s) - t0 )) s, profile ${PROFILE:-full}"
