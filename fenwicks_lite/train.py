"""The seed's `fenwicks.train`, re-exported (Chapters 7 and 9).

The 2019 tutorial called `fw.train.triangular_lr` and `fw.train.sgd_optimizer`; they
live in `fenwicks_lite.optim` (Chapter 7), as do the May versions' `one_cycle_lr` and
`linear_decay` (the same triangle) and the first version's `sgd_triangle_one_cycle`.
Its May versions also called `fw.train.get_clf_model_func` and
`fw.train.get_tpu_estimator` (April's `fw.tpuest.*`, the Appendix). The whole training
loop is `fw.train.train(config)` (`fenwicks_lite.fit`, Chapters 8 and 9) and ``python -m
fenwicks_lite.train --profile full --seeds 5 --out results/`` is its command line
(`fenwicks_lite.cli`). This module is the top of the package's layering: it imports
those, nothing imports it.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    # `python -m fenwicks_lite.train`: --backend must set KERAS_BACKEND before anything
    # imports Keras, so the command line runs before this module's imports below do.
    from fenwicks_lite.cli import main

    sys.exit(main())

from fenwicks_lite.cli import main  # noqa: E402
from fenwicks_lite.fit import train  # noqa: E402
from fenwicks_lite.optim import (  # noqa: E402
    NesterovSGD,
    OneCycleLR,
    TriangularLR,
    linear_decay,
    one_cycle_lr,
    schedule_steps,
    sgd_optimizer,
    sgd_triangle_one_cycle,
    torch_sgd_numpy,
    triangular_lr,
)

# the seed's May 2019 names (fw.train.get_tpu_estimator, ...; April's fw.tpuest.*)
from fenwicks_lite.tpuest import get_clf_model_func, get_tpu_estimator  # noqa: E402

__all__ = ["NesterovSGD", "OneCycleLR", "TriangularLR", "get_clf_model_func",
           "get_tpu_estimator", "linear_decay", "main", "one_cycle_lr",
           "schedule_steps", "sgd_optimizer", "sgd_triangle_one_cycle",
           "torch_sgd_numpy", "train", "triangular_lr"]

