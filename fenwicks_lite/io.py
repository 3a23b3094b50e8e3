"""Files: project directories (Chapter 1, Where the data lives) and TFRecords (Chapter
3, TFRecords).

Everything here goes through `tf.io.gfile`, TensorFlow's file layer, so the same call
serves a local path, a Google Cloud Storage bucket (``gs://bucket/...``) and TF's
in-memory ``ram://`` file system (the tests use it: no network, no account). TensorFlow
is imported inside each function, never at module level, so ``import fenwicks_lite``
stays TensorFlow-free on a JAX-only machine.

The 2019 names are kept: `get_gcs_dirs`, `create_clean_dir`, `numpy_tfrecord`,
`tfexample_numpy_image_parser`, `tfrecord_ds` (the last one lives in
`fenwicks_lite.pipeline`, Chapter 5).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fenwicks_lite import needs_tensorflow
from fenwicks_lite.pipeline import IN_MEMORY_PIPELINE, _is_folder

# --------------------------------------------------------------- Chapter 1: directories

#: a project name becomes one path component: letters, digits, '.', '_' and '-' only, so
#: it can neither climb out of `root` ('..') nor create nested folders ('a/b') nor be
#: hidden by the shell ('~', '$').
_PROJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class UnsafeDirectoryError(ValueError):
    """`create_clean_dir` was asked to empty a directory whose loss would hurt (home,
    cwd, the repo ...): Chapter 1, "Emptying a folder, safely"."""


def _is_remote(path: str) -> bool:
    """`gs://`, `ram://`, `s3://` ...: a URL-like path that `tf.io.gfile` handles (not a
    local file)."""
    return "://" in path


def _check_project(project: str) -> None:
    if not isinstance(project, str) or not project.strip():
        raise ValueError(
            "project must be a non-empty name such as 'cifar10' (it becomes one folder "
            "name)."
        )
    if not _PROJECT_RE.match(project) or project in {".", ".."}:
        raise ValueError(
            f"project {project!r} is not a plain folder name: use letters, digits, "
            f"'.', '_' and '-' only "
            "(no '/', '..', '~' or spaces), e.g. 'cifar10'. Put any nesting into "
            "`root` instead."
        )


@needs_tensorflow
def get_project_dirs(root: str | os.PathLike, project: str) -> tuple[str, str]:
    """Creates and returns ``(data_dir, work_dir)`` = ``root/data/project`` and
    ``root/work/project``.

    Why two folders: data (TFRecords) is written once and read by every run; the work
    folder (checkpoints, logs) belongs to one experiment and is emptied freely. In 2019
    `root` had to be a GCS bucket because the TPU could not see the notebook's disk
    (Chapter 1); today it is usually a local folder. Both work, through `tf.io.gfile`.
    """
    import tensorflow as tf

    _check_project(project)
    root = os.fspath(root)
    if not root:
        raise ValueError(
            "root is empty: give a folder such as '.' or 'gs://my-bucket'."
        )
    if not _is_remote(root):
        root = str(Path(root).expanduser())
    if tf.io.gfile.exists(root) and not tf.io.gfile.isdir(root):
        raise NotADirectoryError(
            f"root {root!r} is a file, not a folder: choose a folder (or a gs:// "
            f"bucket)."
        )
    dirs = (f"{root.rstrip('/')}/data/{project}", f"{root.rstrip('/')}/work/{project}")
    for d in dirs:
        try:
            tf.io.gfile.makedirs(d)
        except tf.errors.OpError as e:
            raise PermissionError(
                f"cannot create {d!r} ({type(e).__name__}: {e.message}). Choose a root "
                f"you can write to "
                "(for gs://, check your credentials with fw.colab_tpu.setup_gcs())."
            ) from e
    if not _is_remote(root) and not os.access(dirs[1], os.W_OK):
        raise PermissionError(
            f"{dirs[1]!r} exists but is not writable: choose a root you can write to."
        )
    return dirs


@needs_tensorflow
def get_gcs_dirs(bucket: str, project: str) -> tuple[str, str]:
    """The seed's name: `get_project_dirs` on a bucket, ``gs://bucket/data/project`` and
    ``.../work/project``.

    `bucket` may be given as ``my-bucket`` or ``gs://my-bucket`` (Chapter 1).
    """
    if not isinstance(bucket, str) or not bucket.strip().removeprefix("gs://").strip(
        "/"
    ):
        raise ValueError(
            "bucket must name a GCS bucket, e.g. 'my-bucket' or 'gs://my-bucket'."
        )
    root = bucket if bucket.startswith("gs://") else f"gs://{bucket}"
    return get_project_dirs(root, project)


def _package_home() -> tuple[Path, str]:
    """The folder that holds the fenwicks_lite package, and what it is: the book's
    repository in a checkout, the environment's packages (site-packages) once
    installed."""
    home = Path(__file__).resolve().parent.parent
    checkout = (home / "pyproject.toml").is_file() and (home / "book").is_dir()
    return home, (
        "the book's repository root"
        if checkout
        else "the folder fenwicks_lite is installed in (your Python packages)"
    )


def _protected_dirs() -> list[Path]:
    """Directories `create_clean_dir` must never empty (see its docstring): the home
    directory, the folder that holds the library (the repository in a checkout), the
    cwd, and every folder that holds one of them."""
    keep = [Path.home().resolve(), _package_home()[0]]
    keep.append(Path.cwd().resolve())
    return [Path("/"), *keep, *(up for d in keep for up in d.parents)]


@needs_tensorflow
def create_clean_dir(path: str | os.PathLike) -> str:
    """Makes `path` an existing, EMPTY directory: creates it, or deletes everything
    inside it.

    The seed called it before each training run so that an old checkpoint could not be
    resumed by mistake. Deleting is dangerous, so a typo must not cost data: it refuses
    ``""``, ``/``, the home directory, the current working directory, the folder that
    holds the library (the book's repository in a checkout, site-packages once
    installed), and any folder above one of them (Chapter 1). Returns the path.
    """
    import tensorflow as tf

    p = os.fspath(path)
    if not isinstance(p, str) or not p.strip():
        raise UnsafeDirectoryError(
            "path is empty: refusing to guess which directory to empty."
        )
    if not _is_remote(p):
        resolved = Path(p).expanduser().resolve()
        for protected in _protected_dirs():
            if resolved == protected:
                why = dict(
                    [
                        (Path("/"), "the file system root"),
                        (Path.home().resolve(), "your home directory"),
                        _package_home(),
                    ]
                ).get(protected, "the current working directory or a folder above it, "
                      "your home directory or the library's folder")
                raise UnsafeDirectoryError(
                    f"refusing to empty {p!r}: it is {why}, and emptying it would "
                    f"delete files you need. "
                    "Give a dedicated sub-folder such as './work/run1'."
                )
        if resolved.exists() and not resolved.is_dir():
            raise NotADirectoryError(
                f"{p!r} is a file, not a folder: nothing was deleted."
            )
        p = str(resolved)
    elif re.fullmatch(r"[a-z0-9]+://[^/]*/?", p):
        raise UnsafeDirectoryError(
            f"refusing to empty {p!r}: it is a whole bucket; give a folder inside it."
        )
    if tf.io.gfile.exists(p):
        for child in tf.io.gfile.listdir(p):
            full = f"{p.rstrip('/')}/{child.rstrip('/')}"
            if tf.io.gfile.isdir(full):
                tf.io.gfile.rmtree(full)
            else:
                tf.io.gfile.remove(full)
    else:
        tf.io.gfile.makedirs(p)
    return p


# ----------------------------------------------------------------- Chapter 3: TFRecords

#: dtypes an image may be stored as. `tf.io.decode_raw` reads each of them back
#: bit-exactly. By default uint8 pixels are stored as uint8 (CIFAR-10's pixels ARE
#: uint8, 4x smaller than float32) and floats as float32, as the seed did (Chapter 3).
SUPPORTED_DTYPES = (
    "uint8",
    "int8",
    "uint16",
    "int16",
    "int32",
    "int64",
    "float16",
    "float32",
    "float64",
)

#: feature names inside each tf.train.Example. `dtype` records how `image` was written,
#: so a reader that expects another dtype fails with a message instead of decoding
#: garbage (Chapter 3).
IMAGE_KEY, LABEL_KEY, DTYPE_KEY = "image", "label", "dtype"


class TFRecordCorruptError(IOError):
    """A TFRecord file is truncated or corrupt (TensorFlow's DataLossError), named in
    the message: Chapter 3, "When things go wrong"."""


#: what the parser reads without being told: one byte per value is uint8, four float32.
AUTO_DTYPES = ("uint8", "float32")


def default_dtype(x: np.ndarray) -> str:
    """The dtype `numpy_tfrecord` stores `x` as when not told: "float32" for any float
    array (the seed's normalized images), "uint8" for uint8, bool and integer arrays
    whose values all lie in 0..255; other integers need an explicit dtype (Chapter 3).
    """
    if x.dtype.kind == "f":
        return "float32"
    if x.dtype == np.uint8 or x.dtype == np.bool_:
        return "uint8"
    if x.dtype.kind in "iu" and (x.size == 0 or (x.min() >= 0 and x.max() <= 255)):
        return "uint8"
    raise ValueError(
        f"x has dtype {x.dtype} with values outside 0..255: pass dtype= explicitly "
        f"(one of {', '.join(SUPPORTED_DTYPES)}), e.g. dtype=\"{x.dtype.name}\"."
    )


def _check_dtype(dtype: Any) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    if name not in SUPPORTED_DTYPES:
        raise ValueError(
            f"unsupported dtype {dtype!r}: choose one of {', '.join(SUPPORTED_DTYPES)}."
        )
    return name


def shard_paths(path: str, shards: int) -> list[str]:
    """The file names `numpy_tfrecord` writes: `path` itself for one shard, else
    ``path-00000-of-00004`` ... (TensorFlow's own sharding convention, sorted by name =
    by order). Chapter 3's "Shards" writes them."""
    if shards == 1:
        return [path]
    return [f"{path}-{i:05d}-of-{shards:05d}" for i in range(shards)]


@needs_tensorflow(instead=IN_MEMORY_PIPELINE)
def image_example(image_bytes: bytes, label: int, dtype_name: bytes) -> bytes:
    """One serialized `tf.train.Example`, as `numpy_tfrecord` writes it for each image:
    three features, `image` (the raw pixel bytes), `label` (int64) and `dtype` (the
    dtype's name, e.g. ``b"uint8"``). Chapter 3 builds one by hand and reads it back.
    """
    import tensorflow as tf

    if not isinstance(image_bytes, bytes) or not isinstance(dtype_name, bytes):
        raise TypeError(
            "image_bytes and dtype_name must be bytes: pass image.tobytes() and the "
            "dtype's name encoded, e.g. b\"uint8\"."
        )

    feature = {
        IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_bytes])),
        LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        DTYPE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[dtype_name])),
    }
    return tf.train.Example(
        features=tf.train.Features(feature=feature)
    ).SerializeToString()


def _stale_family(path: str, paths: list[str]) -> list[str]:
    """Files named `path` or ``path-?????-of-?????`` that are not in `paths`: shards
    of an earlier write with another shard count, which a glob ``path*`` reads too."""
    import tensorflow as tf

    parent, name = os.path.split(path)
    if not tf.io.gfile.isdir(parent or "."):
        return []
    family = re.compile(re.escape(name) + r"(-\d{5}-of-\d{5})?")
    names = [f.rstrip("/") for f in tf.io.gfile.listdir(parent or ".")]
    found = [os.path.join(parent, f) for f in sorted(names) if family.fullmatch(f)]
    return [f for f in found if f not in paths]


@contextlib.contextmanager
def _written_together(paths: list[str]) -> Iterator[list[str]]:
    """Yields temporary names next to `paths` to write to; renames them onto `paths`
    only when the block completes. On any error (Ctrl-C too) it removes them, and the
    old files stay as they were: no short file that reads as valid."""
    import tensorflow as tf

    tag = uuid.uuid4().hex[:8]
    tmps = [
        os.path.join(os.path.dirname(p), f".{os.path.basename(p)}.partial-{tag}")
        for p in paths
    ]
    try:
        yield tmps
        for tmp, p in zip(tmps, paths, strict=True):
            tf.io.gfile.rename(tmp, p, overwrite=True)
    except BaseException:
        for tmp in tmps:
            if tf.io.gfile.exists(tmp):
                tf.io.gfile.remove(tmp)
        raise


@needs_tensorflow(instead=IN_MEMORY_PIPELINE)
def numpy_tfrecord(
    x: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike,
    shards: int = 1,
    dtype: str | None = None,
    overwrite: bool = False,
) -> list[str]:
    """Writes images `x` (N, H, W, C) and integer labels `y` (N,) or (N, 1) as
    TFRecord file(s); returns the paths.

    One `tf.train.Example` per image: the pixels as ONE bytes feature (raw,
    little-endian `dtype`), the label as int64 and the dtype's name. With ``shards > 1``
    the images are split in order into `shards` files (`shard_paths`), so several
    readers can work in parallel (Chapter 5). Existing files are refused unless
    ``overwrite=True``, and so, even then, are shards of `path` with another count.
    The files appear only once all are complete. The seed's argument order is kept.

    `dtype` None (the default) stores floats as float32 (the seed's normalized arrays;
    float64 values are rounded to float32) and uint8 as uint8 (`default_dtype`); a
    float32 record is 4x larger (Chapter 3 measures it). An explicit `dtype` is used
    only if it keeps every value exactly; otherwise cast x yourself.
    """
    import tensorflow as tf

    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 4:
        raise ValueError(
            f"x must be a batch of images (N, H, W, C), got shape {x.shape}; "
            "add the missing axis, e.g. x[..., None] for grey images."
        )
    if y.ndim == 2 and y.shape[1] == 1:  # Keras's load_data() gives labels (N, 1)
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y must be one label per image, shape (N,) or (N, 1), got {y.shape}; "
            "try y.reshape(-1) if it holds one label per image."
        )
    if len(x) != len(y):
        raise ValueError(
            f"x has {len(x)} images but y has {len(y)} labels: they must match one to "
            f"one."
        )
    if len(x) == 0:
        raise ValueError("x is empty: there is nothing to write.")
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
        raise TypeError(
            f"labels must be integers, got dtype {y.dtype}; e.g. y.astype(np.int64) if "
            f"they are "
            "whole numbers (class indices)."
        )
    if not isinstance(shards, (int, np.integer)) or not 1 <= shards <= len(x):
        raise ValueError(
            f"shards must be an integer between 1 and the number of images ({len(x)}), "
            f"got {shards!r}."
        )
    if x.dtype.name not in SUPPORTED_DTYPES and x.dtype != np.bool_:
        raise ValueError(
            f"x has unsupported dtype {x.dtype}; choose one of "
            f"{', '.join(SUPPORTED_DTYPES)}."
        )
    dtype_name = default_dtype(x) if dtype is None else _check_dtype(dtype)
    stored = x.astype(np.dtype(dtype_name).newbyteorder("<"))
    with np.errstate(invalid="ignore", over="ignore"):
        same = np.array_equal(stored.astype(x.dtype), x, equal_nan=x.dtype.kind == "f")
    if not same and not (dtype is None and x.dtype.kind == "f"):
        raise ValueError(
            f"x ({x.dtype}, values {x.min()}..{x.max()}) cannot be stored as "
            f"{dtype_name} without changing values. Pass dtype=\"{x.dtype.name}\" if "
            f"supported, or cast x yourself if the loss is intended."
        )
    path = os.fspath(path)
    if _is_folder(path):
        raise IsADirectoryError(
            f"{path} is a folder: pass a file path inside it, e.g. "
            f"os.path.join({path!r}, \"train.tfrec\")."
        )
    paths = shard_paths(path, int(shards))
    existing = [p for p in paths if tf.io.gfile.exists(p)]
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing[0]} exists; refusing to overwrite it. Pass overwrite=True to "
            f"replace {'it' if len(existing) == 1 else f'all {len(existing)} files'}, "
            f"or choose another path."
        )
    stale = _stale_family(path, paths)
    if stale:
        raise FileExistsError(
            f"{', '.join(stale)}: left by an earlier write of {path} with another "
            f"shard count; a glob '{path}*' would read them too. Delete them or "
            f"choose another path."
        )
    parent = os.path.dirname(path)
    if parent and not tf.io.gfile.exists(parent):
        tf.io.gfile.makedirs(parent)
    dname = dtype_name.encode()
    labels = y.astype(np.int64)
    with _written_together(paths) as tmps:
        for p, idx in zip(
            tmps, np.array_split(np.arange(len(x)), len(paths)), strict=True
        ):
            with tf.io.TFRecordWriter(p) as writer:
                for i in idx:
                    image = stored[i].tobytes()
                    writer.write(image_example(image, int(labels[i]), dname))
    return paths


@needs_tensorflow(instead=IN_MEMORY_PIPELINE)
def tfexample_numpy_image_parser(
    example: Any, h: int, w: int, c: int = 3, dtype: str | None = None
) -> tuple[Any, Any]:
    """Parses ONE serialized Example of `numpy_tfrecord` into ``(image (h, w, c),
    label int64)``.

    Meant for ``tf.data.TFRecordDataset(...).map(lambda e: parser(e, 32, 32))``: it runs
    in TF's graph, so the image's output dtype must be fixed in advance. `dtype` None
    (the default, the seed's call) reads either kind of record `numpy_tfrecord` writes
    by default - the byte length tells: ``h*w*c`` bytes are uint8, ``4*h*w*c``
    float32 - and returns float32 either way (the seed's parser returned float32). An
    explicit `dtype` returns that dtype and checks the dtype the record was written
    with; a mismatch fails with a message naming both, instead of decoding four uint8
    pixels as one float (Chapter 3). Chapter 5 passes dtype="uint8" to keep the small
    pixels.
    """
    import tensorflow as tf

    dtype_name = None if dtype is None else _check_dtype(dtype)
    for name, v in (("h", h), ("w", w), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(
                f"{name} must be a positive integer (image height, width, channels), "
                f"got {v!r}."
            )
    n = int(h) * int(w) * int(c)
    spec = {
        IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
        LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
        DTYPE_KEY: tf.io.FixedLenFeature([], tf.string, default_value=""),
    }
    feat = tf.io.parse_single_example(example, spec)
    raw, written = feat[IMAGE_KEY], feat[DTYPE_KEY]
    if dtype_name is None:
        nbytes = tf.strings.length(raw)
        is_u8 = tf.equal(nbytes, n)
        guess = tf.where(is_u8, "uint8", "float32")
        check = tf.debugging.Assert(
            tf.logical_and(
                tf.logical_or(is_u8, tf.equal(nbytes, 4 * n)),
                tf.logical_or(tf.equal(written, ""), tf.equal(written, guess)),
            ),
            [f"the record is neither a {h}x{w}x{c} uint8 image ({n} bytes) nor a "
             f"float32 one ({4 * n} bytes) of numpy_tfrecord; pass the h, w, c and "
             "the dtype it was written with", nbytes, written],
        )
        with tf.control_dependencies([check]):
            image = tf.cond(
                is_u8,
                lambda: tf.cast(tf.io.decode_raw(raw, tf.uint8), tf.float32),
                lambda: tf.io.decode_raw(raw, tf.float32, little_endian=True),
            )
        return tf.reshape(image, [h, w, c]), feat[LABEL_KEY]
    check = tf.debugging.assert_equal(
        written,
        tf.constant(dtype_name),
        message=f"the record was not written with dtype={dtype_name}; pass the dtype "
        "given to numpy_tfrecord",
    )
    with tf.control_dependencies([check]):
        image = tf.io.decode_raw(
            raw, tf.dtypes.as_dtype(dtype_name), little_endian=True
        )
    check_size = tf.debugging.assert_equal(
        tf.size(image),
        n,
        message=f"the record does not hold an image of {h}x{w}x{c}; pass the h, w, c "
        "it was written with",
    )
    with tf.control_dependencies([check_size]):
        image = tf.reshape(image, [h, w, c])
    return image, feat[LABEL_KEY]


def _tf_message(e: Any) -> str:
    """TF's error text without its graph-function noise, for a message a reader can act
    on."""
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", e.message.splitlines()[0])
    text = re.sub(r"\s*\[Op:\w+\].*$", "", text)
    m = re.search(r"assertion failed: \[([^\]]*)\]", text)
    if m:
        return m.group(1)
    # TensorFlow's record reader: "truncated record at 123' failed with Read less bytes
    # than requested" (its stray quote included) - the file ends inside that record.
    return re.sub(
        r"truncated record at (\d+)' failed with Read less bytes than requested",
        r"the file ends inside the record that starts at byte \1",
        text,
    )


@needs_tensorflow(instead=IN_MEMORY_PIPELINE)
def tfrecord_numpy(paths: str | Sequence[str], h: int, w: int, c: int = 3,
                   dtype: str = "uint8") -> tuple[np.ndarray, np.ndarray]:
    """Reads `numpy_tfrecord`'s file(s) back into NumPy ``(x, y)``, in order. For checks
    and small data.

    `h`, `w`, `c` are the image shape and `dtype` the dtype the records were written
    with (default uint8, what `numpy_tfrecord` stores uint8 pixels as); ``x`` comes back
    in that dtype, ``y`` as int64. A record of another dtype or shape is a `ValueError`
    naming the file and the record. A truncated or corrupt file (TFRecords carry CRC
    checksums) raises `TFRecordCorruptError` naming the file and the record, not TF's
    bare DataLossError (Chapter 3).
    """
    import tensorflow as tf

    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    xs, ys = [], []
    for p in map(os.fspath, paths):
        if not tf.io.gfile.exists(p):
            raise FileNotFoundError(f"{p}: no such TFRecord file.")
        if _is_folder(p):
            raise IsADirectoryError(
                f"{p} is a folder: pass the TFRecord file(s) inside it, e.g. "
                f"os.path.join({p!r}, \"train.tfrec\")."
            )
        ds = tf.data.TFRecordDataset(p).map(
            lambda e: tfexample_numpy_image_parser(e, h, w, c, dtype)
        )
        n = 0
        try:
            for img, lab in ds.as_numpy_iterator():
                xs.append(img)
                ys.append(lab)
                n += 1
        except tf.errors.DataLossError as e:
            raise TFRecordCorruptError(
                f"{p}: record {n} is truncated or corrupt ({_tf_message(e)}); records "
                f"before it were fine. "
                "Write the file again with numpy_tfrecord(..., overwrite=True)."
            ) from None
        except tf.errors.InvalidArgumentError as e:
            raise ValueError(f"{p}: record {n}: {_tf_message(e)}.") from None
    if not xs:
        return np.zeros((0, h, w, c), _check_dtype(dtype)), np.zeros((0,), np.int64)
    return np.stack(xs), np.asarray(ys, np.int64)


@needs_tensorflow(instead=IN_MEMORY_PIPELINE)
def tfrecord_ds(*args: Any, **kwargs: Any) -> Any:
    """The seed's `fw.io.tfrecord_ds`: the tf.data input pipeline, which lives in
    `fenwicks_lite.pipeline` (Chapter 5); this name only forwards to it."""
    from fenwicks_lite.pipeline import tfrecord_ds as _tfrecord_ds

    return _tfrecord_ds(*args, **kwargs)
