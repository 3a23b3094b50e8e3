"""Profiles: one switch for every notebook and the training CLI (explained in the
Introduction).

`full` is the seed's recipe on all of CIFAR-10 (what the rendered book shows); `quick`
is a small version that CI and a laptop run in about a minute or two per notebook on
two CPU cores (`fw.report.chapter_minutes()` prints the measured times). Choose with
the environment variable ``FENWICKS_LITE_PROFILE=quick|full``; unset, the profile is
``full`` when an accelerator is visible and ``quick`` otherwise.
"""

from __future__ import annotations

import dataclasses
import os

#: the environment variable that picks the profile (`get_profile`): quick or full.
ENV_VAR = "FENWICKS_LITE_PROFILE"


@dataclasses.dataclass(frozen=True)
class Profile:
    """Every setting that differs between a quick check and the real run, in one
    place.

    Explained in the Introduction, "Profiles: quick and full".
    """

    name: str
    #: images taken from each split (None: all). The mini sample already has 2,500 /
    #: 1,000.
    train_limit: int | None
    test_limit: int | None
    #: DavidNet's base width c: channels are c, 2c, 4c, 8c (Page and the seed: 64).
    width: int
    #: passes over the training set (Page: 24, the shortest schedule that still reaches
    #: 94%).
    epochs: int
    #: images per step (Page and the seed: 512).
    batch_size: int
    #: the learning rate rises linearly to its peak at this epoch, then falls to 0
    #: (Page: 5 of 24).
    warmup_epochs: float
    #: the peak learning rate for MEAN-reduced loss (Page: 0.4).
    peak_lr: float
    #: coupled L2 weight decay (Page: 5e-4; the seed's 0.000125 acted as 0.001: its
    #: fenwicks code added it on each of 8 TPU cores, chapter 7).
    weight_decay: float
    #: Nesterov momentum (Page: 0.9).
    momentum: float
    #: cutout square side in pixels (Page: 8, wholly inside the image).
    cutout: int


#: Page's recipe as the finale runs it (chapter 9): all of CIFAR-10, 24 epochs.
FULL = Profile(
    name="full", train_limit=None, test_limit=None, width=64, epochs=24, batch_size=512,
    warmup_epochs=5, peak_lr=0.4, weight_decay=5e-4, momentum=0.9, cutout=8,
)
# Quick: a quarter of the width (1/16 of the FLOPs), two epochs of the mini sample; only
# checks that everything runs and learns something, in seconds on a CPU.
QUICK = Profile(
    name="quick", train_limit=2_500, test_limit=1_000, width=16, epochs=2,
    batch_size=128,
    warmup_epochs=0.5, peak_lr=0.4, weight_decay=5e-4, momentum=0.9, cutout=8,
)
#: every profile by its name.
PROFILES: dict[str, Profile] = {p.name: p for p in (FULL, QUICK)}


def get_profile(name: str | None = None) -> Profile:
    """The profile named by `name`, else by ``$FENWICKS_LITE_PROFILE``, else chosen by
    the hardware.

    Explained in the Introduction, "Profiles: quick and full".
    """
    name = name or os.environ.get(ENV_VAR) or None
    if name is None:
        from fenwicks_lite import accel

        return FULL if accel.device_info().platform != "cpu" else QUICK
    key = name.strip().lower()
    if key not in PROFILES:
        raise ValueError(
            f"Unknown profile {name!r}: choose one of {sorted(PROFILES)} "
            f"(argument `profile=` or environment variable {ENV_VAR})."
        )
    return PROFILES[key]


def environment_line(dataset: str, profile: Profile | None = None,
                     origin: str = "") -> str:
    """The lines every notebook prints under its setup cell: where its outputs come
    from.

    Short lines (library and backend; device; profile and data; where the data was read
    from, when `origin` says), so that none is cut off in the rendered page.

    `dataset` is a short description such as `fw.data.Dataset.describe()` returns,
    `origin` where it was read from (`fw.data.Dataset.origin()`).

    Explained in the Introduction ("each page says which backend, device, profile
    and data"); every chapter prints it.
    """
    import keras

    from fenwicks_lite import __version__, accel

    profile = profile or get_profile()
    dev = accel.device_info()
    return (
        f"fenwicks_lite {__version__} | Keras {keras.__version__}, backend "
        f"{keras.backend.backend()} {accel.backend_version()}\ndevice: {dev}\nprofile: "
        f"{profile.name} | data: {dataset}"
        + (f"\nread from: {origin}" if origin else "")
    )
