#!/usr/bin/env bash
# Chapter 10's GPU sweep as ONE command: the fast recipe on the test set (5 seeds), then the
# ablation on the 5,000-image validation split (seed recipe -> each idea added -> fast
# recipe, 5 seeds a row), one XLA compile per network shape, one JSON record per run in
# $OUT/results. About 5 minutes on one H100 by estimate; --budget-s 220 starts no new row
# after 220 s (the slow seed-recipe rows run last).
#
# On the GPU machine, the device call that carries the last staged part runs, from the
# repository root (timeout_s 360):
#
#   source .gpu/pN/assemble.sh || exit 1; bash book/drafts/gpu_fast.sh
#
# CPU rehearsal (TensorFlow unimportable, KERAS_BACKEND=jax, the mini sample). With 1,200
# training images the validation runs have enough steps for the weight averaging to fire;
# measured on a busy 2-core AMD EPYC: 251 s wall for 5 seeds (the 220 s budget cut the last
# three rows), 133 s for SEEDS=1 BUDGET_S=100000 (every row):
#
#   PYTHON=.venv/bin/python CIFAR10_DIR=/work/shared/data/cifar10-mini PROFILE=quick \
#     OUT=/tmp/rehearsal EXTRA="--train-limit 1200 --test-limit 200" \
#     bash book/drafts/gpu_fast.sh
#
# Settings (environment): SEEDS (5), PROFILE (full), BUDGET_S (220), OUT (./_gpu_out),
# EXTRA (more sweep arguments), PYTHON (python3; here: the venv's python).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${OUT:-$root/_gpu_out}"
: "${CIFAR10_DIR:?set CIFAR10_DIR to the folder holding cifar-10-batches-py/ (assemble.sh does)}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
mkdir -p "$out/results"
t0=$(date +%s)
# shellcheck disable=SC2086
"${PYTHON:-python3}" - sweep --profile "${PROFILE:-full}" --seeds "${SEEDS:-5}" \
  --budget-s "${BUDGET_S:-220}" --compile-cache /tmp/fenwicks-fast-cache \
  --out "$out/results" ${EXTRA:-} <<PY
import sys
sys.path.insert(0, "$root/tests")
import no_tensorflow  # noqa: E402

no_tensorflow.install()  # import tensorflow fails, as on the GPU machine
from fenwicks_lite import fast  # noqa: E402

rc = fast.main(sys.argv[1:])
assert "tensorflow" not in sys.modules
sys.exit(rc)
PY
# did the weight averaging run? (a run too short for it: the rehearsal's limits)
"${PYTHON:-python3}" - "$out/results" <<'PY'
import json, pathlib, sys

recs = [json.loads(p.read_text()) for p in pathlib.Path(sys.argv[1]).glob("*.json")]
asks = [r for r in recs if r.get("recipe", {}).get("lookahead")]
ran = [r["lookahead_steps"] for r in asks if r.get("lookahead_steps", 0) > 1]
print(f"lookahead: {len(ran)} of {len(asks)} runs that use it averaged "
      f"({min(ran, default=0)}..{max(ran, default=0)} averaging steps)")
PY
echo "wall time: $(( $(date +%s) - t0 )) s, profile ${PROFILE:-full}"
