"""CIFAR-10: loading it safely from a local copy or the web (Chapter 2, CIFAR-10 and
channel normalization).

`load_cifar10` reads the official python layout (Krizhevsky 2009): five training batches
of 10,000 images and one test batch, each a pickled dict with `b"data"` (N x 3072 uint8,
channels first) and `b"labels"`. Where it looks, in order: the `path` argument, the
environment variable ``CIFAR10_DIR``, Keras's cache (``~/.keras/datasets``, where
`keras.datasets.cifar10.load_data` puts it), else a download through Keras (checksummed,
once). `load_profile_data` is what the notebooks call: the quick profile also knows the
sample beside a checkout, and takes a balanced subset of 2,500 + 1,000 real images.
Stand-in images only when asked for (``FENWICKS_LITE_DATA=synthetic``).
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from fenwicks_lite import transform

# the seed's May 2019 names: the tutorial's later versions (a22231b .. 04cbdc7) call the
# TFRecord functions as fw.data.*; they live in fenwicks_lite.io (Chapters 3 and 5)
from fenwicks_lite.io import (  # noqa: F401 (re-exported)
    numpy_tfrecord,
    tfexample_numpy_image_parser,
    tfrecord_ds,
)
from fenwicks_lite.profiles import Profile, get_profile

#: the environment variable that names a local copy of CIFAR-10 (`load_cifar10`).
ENV_VAR = "CIFAR10_DIR"
#: the official archive, the python version (Krizhevsky's page lists it).
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
#: SHA-256 of the official archive (the value Keras checks too).
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
#: the folder the archive unpacks to: five training batches and a test batch.
BATCHES_DIR = "cifar-10-batches-py"
#: the archive's file name on the official site.
ARCHIVE = "cifar-10-python.tar.gz"
#: the training batches' file names (10,000 images each).
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
#: the test batch's file name (10,000 images).
TEST_FILE = "test_batch"
#: the ten classes, in label order: label 3 is "cat".
CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
#: the number of training and test images.
FULL_SIZES = (50_000, 10_000)

#: one split as `load_cifar10` returns it: ``(images, labels)``.
Split = tuple[np.ndarray, np.ndarray]


class CIFAR10NotFoundError(FileNotFoundError):
    """No CIFAR-10 where we looked, and no way to download it.

    Explained in the Introduction, "Profiles: quick and full" (where the data comes
    from).
    """


class CIFAR10FormatError(ValueError):
    """A CIFAR-10 file exists but is missing, truncated or not in the official
    format.

    Explained in the Introduction, "Profiles: quick and full" (where the data comes
    from).
    """


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and plain containers only.

    A pickle can name any importable callable (`os.system` ...) and the unpickler would
    call it, so a tampered batch file could run code. The official batches need exactly
    these globals (numpy < 2 and numpy >= 2 spell `multiarray` differently); anything
    else is refused. Same idea as Keras's own `RestrictedUnpickler`, which older Keras 3
    releases lack.
    """

    _ALLOWED = frozenset({
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    })

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) in self._ALLOWED:
            if module.startswith("numpy._core.") and not hasattr(np, "_core"):
                # pickled under numpy >= 2, read under numpy 1.x
                module = module.replace("numpy._core.", "numpy.core.")
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not part of a "
                                     "CIFAR-10 batch")


def parse_batch(f: IO[bytes], name: str) -> Split:
    """One CIFAR-10 batch file (an open binary file) -> (images uint8 NHWC, labels
    int32). `name` is only for error messages. Chapter 2 shows it.

    The file is a pickled dict; only the classes such a file needs may be unpickled, so
    a tampered file cannot run code. A corrupt or foreign file raises
    `CIFAR10FormatError` naming `name`.
    """
    try:
        d = _RestrictedUnpickler(f, encoding="bytes").load()
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
    ) as e:
        raise CIFAR10FormatError(
            f"{name}: not a readable CIFAR-10 batch ({type(e).__name__}: {e}). The "
            f"file is truncated or corrupt: download the archive again from {URL}."
        ) from e
    try:
        data = np.asarray(d[b"data"], dtype=np.uint8)
        labels = np.asarray(d[b"labels"], dtype=np.int32)
    except (KeyError, TypeError) as e:
        raise CIFAR10FormatError(
            f"{name}: missing b'data' or b'labels' - not a CIFAR-10 batch file."
        ) from e
    if (
        data.ndim != 2
        or data.shape[1] != 3 * 32 * 32
        or labels.shape != (data.shape[0],)
    ):
        raise CIFAR10FormatError(
            f"{name}: expected data of shape (N, 3072) and N labels, got {data.shape} "
            f"and {labels.shape}."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASS_NAMES)):
        raise CIFAR10FormatError(f"{name}: labels outside 0..9.")
    # Stored channels-first (3 planes of 32 x 32); Keras and tf.data want NHWC.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def _read_folder(folder: Path) -> tuple[Split, Split]:
    def read(fname: str) -> Split:
        path = folder / fname
        if not path.is_file():
            raise CIFAR10FormatError(
                f"{path.name} is missing from {folder.name}/: a CIFAR-10 copy needs "
                f"{', '.join(TRAIN_FILES)} and {TEST_FILE}. Unpack the archive from "
                f"{URL} again."
            )
        with open(path, "rb") as f:
            return parse_batch(f, f"{folder.name}/{fname}")

    return _concat([read(f) for f in TRAIN_FILES]), read(TEST_FILE)


def _read_archive(archive: Path) -> tuple[Split, Split]:
    """Reads the batches straight out of the .tar.gz: nothing is extracted or
    written."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            def read(fname: str) -> Split:
                member = f"{BATCHES_DIR}/{fname}"
                try:
                    f = tar.extractfile(member)
                except KeyError:
                    f = None
                if f is None:
                    raise CIFAR10FormatError(f"{archive.name}: has no {member}; is it "
                                             "the python version?")
                return parse_batch(io.BytesIO(f.read()), f"{archive.name}:{member}")

            return _concat([read(f) for f in TRAIN_FILES]), read(TEST_FILE)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise CIFAR10FormatError(
            f"{archive.name}: not a complete .tar.gz ({e}). Download it again from "
            f"{URL}."
        ) from e


def _concat(parts: list[Split]) -> Split:
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _locate(root: Path) -> Callable[[], tuple[Split, Split]]:
    """What to read under `root`: the batches folder itself, a folder holding it, or the
    archive."""
    if root.is_file() and root.name in (*TRAIN_FILES, TEST_FILE):
        raise CIFAR10NotFoundError(
            f"{root} is one of CIFAR-10's batch files, not the data set: point at the "
            f"folder that holds it, {root.parent}."
        )
    candidates = [
        (root, _read_folder)
        if (root / TRAIN_FILES[0]).exists() or (root / TEST_FILE).exists()
        else None,
        (root / BATCHES_DIR, _read_folder) if (root / BATCHES_DIR).is_dir() else None,
        (root / ARCHIVE, _read_archive) if (root / ARCHIVE).is_file() else None,
        (root, _read_archive) if root.is_file() else None,
    ]
    for found in candidates:
        if found is not None:
            where, reader = found
            return lambda: reader(where)
    raise CIFAR10NotFoundError(
        f"No CIFAR-10 at {root}: expected a folder holding {BATCHES_DIR}/ "
        f"(data_batch_1..5, test_batch) or {ARCHIVE}, the official python version from "
        f"{URL}."
    )


#: `keras.datasets.cifar10.load_data()` (Keras 3.15) keeps CIFAR-10 in
#: ``<Keras home>/datasets/``: the archive as ``cifar-10-batches-py-target_archive``,
#: unpacked into ``cifar-10-batches-py-target/``.
KERAS_NAME = "cifar-10-batches-py-target"
#: What counts as a copy in Keras's cache, in the order looked at: Keras 3's folder and
#: archive, then the layout of tf.keras and Keras 2 (``cifar-10-batches-py/`` beside
#: ``cifar-10-batches-py.tar.gz``).
KERAS_CACHE = (f"{KERAS_NAME}/{BATCHES_DIR}", f"{KERAS_NAME}_archive",
               BATCHES_DIR, f"{BATCHES_DIR}.tar.gz")
#: ``FENWICKS_LITE_DATA=synthetic`` asks for stand-in images instead of CIFAR-10 (never
#: chosen silently).
DATA_ENV_VAR = "FENWICKS_LITE_DATA"
#: Seconds a stalled download may wait for the server before it counts as offline.
DOWNLOAD_TIMEOUT = 60


def keras_cache_dir() -> Path:
    """Where Keras keeps data sets: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``
    (Keras's rule, with ``/tmp/.keras`` when the home folder is not writable).

    Explained in the Introduction, "Profiles: quick and full" (where the data comes
    from).
    """
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home) / "datasets"


def keras_cached() -> Path | None:
    """CIFAR-10 in Keras's cache (a folder or the archive), if
    `keras.datasets.cifar10.load_data` or this library put it there; else None.

    Explained in the Introduction, "Profiles: quick and full" (where the data comes
    from).
    """
    cache = keras_cache_dir()
    for name in KERAS_CACHE:
        cand = cache / name
        archive = name.endswith(("_archive", ".gz"))
        if (cand / TEST_FILE).is_file() or (archive and cand.is_file()):
            return cand
    return None


def not_found_message(reason: str, *, kernels: bool = False) -> str:
    """The one message for a machine without CIFAR-10: what to download and where to
    point ``CIFAR10_DIR``. `kernels`: the message of a tool whose notebooks read the
    data in kernels of their own (the grader's), where neither a `path` argument nor
    stand-in images would do.

    Explained in the Introduction, "Profiles: quick and full" (where the data comes
    from).
    """
    path = "" if kernels else " (or pass that folder as `path`)"
    return (
        f"CIFAR-10 is not on this machine and {reason}. Download {URL} (the python "
        f"version, 163 MB), unpack it, and set the environment variable {ENV_VAR} to "
        f"the folder that holds {BATCHES_DIR}/{path}; or put the archive in Keras's "
        f"cache as {keras_cache_dir() / KERAS_NAME}_archive."
        + (
            ""
            if kernels
            else f" Without any copy, {DATA_ENV_VAR}=synthetic runs on stand-in images"
            " that are not CIFAR-10."
        )
    )


def _download() -> Path:
    """Downloads CIFAR-10 through Keras, once, into its cache (`load_data`'s layout)."""
    import socket

    import keras

    cache = keras_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)  # else Keras falls back to /tmp/.keras
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(old or DOWNLOAD_TIMEOUT)  # a dead network fails, not hangs
    try:
        path = keras.utils.get_file(KERAS_NAME, origin=URL, extract=True,
                                    file_hash=SHA256, cache_dir=str(cache.parent))
    except Exception as e:  # Keras wraps URL/HTTP errors in plain Exception
        why = f"could not be downloaded ({type(e).__name__}: {e})"
        raise CIFAR10NotFoundError(not_found_message(why)) from e
    finally:
        socket.setdefaulttimeout(old)
    return Path(path)


def load_cifar10(path: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """Loads CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``.

    Images are uint8 NHWC ``(N, 32, 32, 3)``, labels int32 ``(N,)`` indexing
    `CLASS_NAMES`. Where it looks, in order: `path`, else ``$CIFAR10_DIR`` (the
    `cifar-10-batches-py` folder, a folder holding it, or the archive); else Keras's
    cache (`keras_cached`); else it downloads the official archive through Keras, once
    (SHA-256 checked), into that cache. Errors name the file at fault and never delete
    anything; without a copy or a network, one error says what to download and where
    to put it.

    The Introduction, "Profiles: quick and full", says where it looks; Chapter 2,
    CIFAR-10 and channel normalization, shows what it returns.
    """
    where = path if path is not None else os.environ.get(ENV_VAR) or None
    if where is not None:
        root = Path(where).expanduser()
        if not root.exists():
            source = "path" if path is not None else f"${ENV_VAR}"
            raise CIFAR10NotFoundError(
                f"{source} points to {root}, which does not exist. Set it to the "
                f"folder holding {BATCHES_DIR}/ (the python version from {URL})."
            )
        return _locate(root)()
    return _locate(keras_cached() or _download())()


def synthetic_cifar10(
    n_train: int = 2_500, n_test: int = 1_000, seed: int = 0
) -> tuple[Split, Split]:
    """CIFAR-10-shaped stand-in data for machines without any copy: each class is a
    coloured stripe pattern plus noise, so a network can learn it and every code path
    runs. Not CIFAR-10.

    Explained in the Introduction, "Profiles: quick and full" (where the data comes
    from).
    """
    rng = np.random.default_rng(seed)

    def make(n: int) -> Split:
        y = np.arange(n, dtype=np.int32) % len(CLASS_NAMES)
        rng.shuffle(y)
        yy, xx = np.mgrid[0:32, 0:32]
        base = np.empty((len(CLASS_NAMES), 32, 32, 3), np.float32)
        for k in range(len(CLASS_NAMES)):
            stripes = np.sin((xx * np.cos(k) + yy * np.sin(k)) * (0.3 + 0.05 * k))
            colour = np.array([np.sin(k), np.cos(k), np.sin(2 * k)]) * 60
            base[k] = 128 + 50 * stripes[..., None] + colour
        x = base[y] + rng.normal(0, 25, (n, 32, 32, 3))
        return np.clip(x, 0, 255).astype(np.uint8), y

    return make(n_train), make(n_test)


def balanced_subset(y: np.ndarray, per_class: int, extra: int = 0) -> np.ndarray:
    """Indices of the first `per_class` images of each class, in their stored order
    (one more for each of the first `extra` classes, so that any total can be met).

    A fixed choice: the same images every time from the same copy (the official batches
    are already shuffled, so the first images of a class are as good a sample as any).
    Fewer images of a class than asked is an error, not a quietly unbalanced subset.

    Explained in the Introduction, "Profiles: quick and full" (the quick profile's
    sample).
    """
    y = np.asarray(y)
    picked = []
    for k in range(len(CLASS_NAMES)):
        want = per_class + (k < extra)
        idx = np.flatnonzero(y == k)[:want]
        if len(idx) < want:
            raise ValueError(
                f"class {k} ({CLASS_NAMES[k]}) has {len(idx)} images, fewer than the "
                f"{want} asked for: the copy is not a balanced CIFAR-10 sample.")
        picked.append(idx)
    return np.sort(np.concatenate(picked))


@dataclasses.dataclass
class Dataset:
    """What a notebook works on, with a note of what it is (printed in the environment
    line).

    Explained in the Introduction, "Profiles: quick and full"; every chapter's
    `fw.book.start()` returns one.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    #: "full", "mini" or "synthetic"
    kind: str
    class_names: tuple[str, ...] = CLASS_NAMES
    #: where it came from: "CIFAR10_DIR", "checkout sample", "Keras cache", "download"
    #: or "synthetic"
    source: str = ""

    def describe(self) -> str:
        """What the data is, for the environment line and a run's record: "CIFAR-10
        (full)" only when it holds all 50,000 + 10,000 images; fewer images of a "full"
        copy (a slice taken in a chapter) are a "CIFAR-10 subset"."""
        synthetic = f"synthetic stand-in, NOT CIFAR-10 ({DATA_ENV_VAR}=synthetic)"
        name = {"full": "CIFAR-10 (full)", "mini": "CIFAR-10 sample",
                "synthetic": synthetic}
        if self.kind not in name:
            raise ValueError(f"Dataset.kind={self.kind!r}: use one of {sorted(name)}.")
        label = name[self.kind]
        sizes = (len(self.x_train), len(self.x_test))
        if self.kind == "full" and sizes != FULL_SIZES:
            label = "CIFAR-10 subset"
        return f"{label}, {sizes[0]:,} train / {sizes[1]:,} test images"

    def origin(self) -> str:
        """Where the images were read from, in words, for the environment line ("" for
        stand-in images, which `describe` announces, or an unknown `source`)."""
        return _ORIGINS.get(self.source, "")

    def identity(self) -> dict[str, Any]:
        """What a checkpoint records of the data it was trained on, so that a resume on
        other data (more images, another ``CIFAR10_DIR``) is refused: the sizes,
        `describe` and a CRC-32 of the images and labels (one pass, no copy)."""
        crc = 0
        for a in (self.x_train, self.y_train, self.x_test, self.y_test):
            a = np.ascontiguousarray(a)
            crc = zlib.crc32(f"{a.dtype.str}{a.shape}".encode(), crc)
            crc = zlib.crc32(memoryview(a).cast("B"), crc)
        return {"n_train": len(self.x_train), "n_test": len(self.x_test),
                "dataset": self.describe(), "crc32": crc}


def checked(ds: Dataset) -> Dataset:
    """`ds`, checked before any training: images ``(N, 32, 32, 3)``, one integer label
    in ``0..9`` per image. Labels shaped ``(N, 1)``, as
    `keras.datasets.cifar10.load_data` returns them, are flattened (a copy of `ds` is
    returned); anything else is a `ValueError` that says how to fix it.

    The training loops of Chapters 8, 9 and 10 call it on their data.
    """
    if not isinstance(ds, Dataset):
        raise TypeError(f"data must be a fw.data.Dataset, got {type(ds).__name__}: "
                        "wrap the arrays as fw.data.Dataset(x_train, y_train, x_test, "
                        "y_test, kind).")
    labels = {}
    for split in ("train", "test"):
        x, y = getattr(ds, f"x_{split}"), np.asarray(getattr(ds, f"y_{split}"))
        shape = tuple(np.shape(x))
        if len(shape) != 4 or shape[1:] != (32, 32, 3):
            hint = ("channels-first data needs x.transpose(0, 2, 3, 1)"
                    if shape[1:] == (3, 32, 32) else
                    "flat rows need x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)"
                    if shape[1:] == (3072,) else "use 32 x 32 RGB images")
            raise ValueError(f"x_{split} must be images shaped (N, 32, 32, 3), got "
                             f"{shape}: {hint}.")
        if shape[0] == 0:
            raise ValueError(f"x_{split} holds no images: give it at least one batch.")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.reshape(-1)  # Keras's load_data() gives labels (N, 1)
        if y.shape != (shape[0],):
            hint = (": one-hot labels need y.argmax(1)"
                    if y.ndim == 2 and y.shape[1] == len(CLASS_NAMES) else "")
            raise ValueError(f"y_{split} must hold one label per image of x_{split}, "
                             f"shape ({shape[0]},), got {y.shape}{hint}.")
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y_{split} must hold integer class labels, got dtype "
                             f"{y.dtype}: use y.astype('int32').")
        if y.min() < 0 or y.max() >= len(CLASS_NAMES):
            raise ValueError(f"y_{split} holds labels {y.min()}..{y.max()}, outside "
                             f"the classes 0..{len(CLASS_NAMES) - 1}: check which "
                             "array holds the labels.")
        labels[f"y_{split}"] = y
    ds.describe()  # a bad kind is an error now, not after the run
    return dataclasses.replace(ds, **labels)


def mini_sample_dir() -> Path | None:
    """The real 2,500 + 1,000-image sample beside a checkout of the book
    (``../shared``), when this library is that checkout's (development and CI); None for
    an installed package.

    Explained in the Introduction, "Profiles: quick and full" (where the data comes
    from).
    """
    checkout = Path(__file__).resolve().parent.parent
    cand = checkout.parent / "shared" / "data" / "cifar10-mini"
    if (checkout / ".git").exists() and (cand / BATCHES_DIR / TEST_FILE).is_file():
        return cand
    return None


#: `Dataset.origin` of each `Dataset.source` that `load_profile_data` gives
_ORIGINS = {
    ENV_VAR: f"${ENV_VAR}",
    "checkout sample": "the sample beside this checkout (../shared)",
    "Keras cache": "Keras's cache (keras.datasets.cifar10)",
    "download": "a download through Keras, now in its cache",
}


def _local_copy(quick: bool) -> tuple[Path, str] | None:
    """The copy of CIFAR-10 on this machine that `load_profile_data` reads, and where it
    came from (a key of `_ORIGINS`), in its order: ``$CIFAR10_DIR``; in the quick
    profile, the sample beside a checkout; Keras's cache. None: there is none (it then
    downloads). The grader hands the same copy to its kernels."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser(), ENV_VAR
    mini = mini_sample_dir() if quick else None
    if mini is not None:
        return mini, "checkout sample"
    cached = keras_cached()
    if cached is not None:
        return cached, "Keras cache"
    return None


def _find(profile: Profile) -> tuple[tuple[Split, Split], str]:
    """The data and where it came from, in the order of `load_profile_data`."""
    found = _local_copy(profile.name == "quick")
    if found is None:
        return _locate(_download())(), "download"
    where, source = found
    # read through $CIFAR10_DIR itself, so that its errors name the variable
    return load_cifar10(None if source == ENV_VAR else where), source


def load_profile_data(profile: Profile | None = None) -> Dataset:
    """The data a notebook or the CLI uses under `profile`.

    Where it looks, in order: ``$CIFAR10_DIR``; in the quick profile, the sample beside
    a checkout (`mini_sample_dir`); Keras's cache (`keras_cached`); a download through
    Keras (once, cached); else one error that says what to download and where to point
    ``CIFAR10_DIR``. Stand-in images only when asked for with
    ``FENWICKS_LITE_DATA=synthetic`` (and then `describe` says so).

    A profile with limits takes a balanced subset of exactly that many images
    (`balanced_subset`: the first ``limit / 10`` images of each class, the remainder
    spread one each over the first classes), so the quick profile works on
    2,500 + 1,000 real images, the same every time.

    Explained in the Introduction, "Profiles: quick and full" (where the data comes
    from).
    """
    profile = profile or get_profile()
    choice = os.environ.get(DATA_ENV_VAR, "").strip().lower()
    if choice not in ("", "cifar10", "synthetic"):
        raise ValueError(f"{DATA_ENV_VAR}={choice!r}: use 'synthetic' for stand-in "
                         "images, or unset it for CIFAR-10.")
    if choice == "synthetic":
        n_train = profile.train_limit or FULL_SIZES[0]
        n_test = profile.test_limit or FULL_SIZES[1]
        (xtr, ytr), (xte, yte) = synthetic_cifar10(n_train, n_test)
        return Dataset(xtr, ytr, xte, yte, "synthetic", source="synthetic")
    ((xtr, ytr), (xte, yte)), source = _find(profile)
    kind = "full" if (len(xtr), len(xte)) == FULL_SIZES else "mini"
    if profile.train_limit is not None and profile.train_limit < len(xtr):
        keep = balanced_subset(ytr, *divmod(profile.train_limit, len(CLASS_NAMES)))
        xtr, ytr, kind = xtr[keep], ytr[keep], "mini"
    if profile.test_limit is not None and profile.test_limit < len(xte):
        keep = balanced_subset(yte, *divmod(profile.test_limit, len(CLASS_NAMES)))
        xte, yte, kind = xte[keep], yte[keep], "mini"
    return Dataset(xtr, ytr, xte, yte, kind, source=source)


# ------------------------------------------------- channel statistics and normalization

def _check_images(x: np.ndarray, what: str = "x") -> None:
    if x.ndim != 4:
        raise ValueError(f"{what} must be a batch of images (N, H, W, C), got shape "
                         f"{x.shape}; for one image use x[None].")
    if x.shape[-1] != 3:
        raise ValueError(f"{what} must have 3 colour channels last (N, H, W, 3), got "
                         f"{x.shape[-1]} in {x.shape}; channels-first data needs "
                         "x.transpose(0, 2, 3, 1).")
    if x.shape[0] == 0:
        raise ValueError(f"{what} is empty: statistics of no images are undefined.")


#: images per step of `channel_stats` unless told: 5,000 CIFAR-10 images are 123 MB in
#: float64, a tenth of the 1.2 GB copy that `x.std()` makes of the training set.
STATS_BATCH = 5000


def channel_stats(
    x: np.ndarray, batch_size: int | None = STATS_BATCH
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and (population) standard deviation over N, H and W, in ONE
    streaming pass.

    Why streaming: `x.std()` on 50,000 uint8 images makes a float64 copy of 1.2 GB;
    here each batch of `batch_size` images (`STATS_BATCH`; None: all of `x` at once,
    with that same copy) is reduced in float64 to (count, mean, M2) and merged with
    Chan, Golub and LeVeque's parallel update, which stays exact where the textbook
    E[x^2] - E[x]^2 loses digits. `x` may be any sequence of images that supports
    slicing (a NumPy array, a memory map). Pixels are used as stored: divide by 255
    first for the [0, 1] values of Chapter 2.
    """
    if not hasattr(x, "shape") or not hasattr(x, "__getitem__"):
        x = np.asarray(x)
    _check_images(x)
    n_images = x.shape[0]
    if batch_size is None:
        batch_size = n_images
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError("batch_size must be a positive integer (images per step) or "
                         f"None, got {batch_size!r}.")
    count = 0
    mean = np.zeros(3)
    m2 = np.zeros(3)  # sum of squared deviations from the running mean
    for start in range(0, n_images, batch_size):
        b = np.asarray(x[start:start + batch_size], dtype=np.float64).reshape(-1, 3)
        nb = b.shape[0]
        b_mean = b.mean(axis=0)
        b_m2 = ((b - b_mean) ** 2).sum(axis=0)
        delta = b_mean - mean
        total = count + nb
        mean = mean + delta * (nb / total)
        m2 = m2 + b_m2 + delta**2 * (count * nb / total)
        count = total
    return mean, np.sqrt(m2 / count)


def normalize(
    x: np.ndarray, mean: np.ndarray | tuple, std: np.ndarray | tuple
) -> np.ndarray:
    """``(x - mean) / std`` per channel, as float32: each channel then has mean 0 and
    std 1 (Chapter 2).

    `mean` and `std` must be in the units of `x` (pixels 0..255 or 0..1 alike) and
    should come from the TRAINING set, also when normalizing the test set: the network
    learnt on that scale.
    """
    x = np.asarray(x)
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"x must have 3 colour channels last, got shape {x.shape}.")
    transform.check_mean_std(mean, std, 3)  # one finite value per channel, std > 0
    # float32 throughout: a float64 intermediate of all 50,000 images would take 1.2 GB.
    return (x.astype(np.float32) - mean.astype(np.float32)) / std.astype(np.float32)
