"""The input pipeline: tf.data from TFRecords, and the in-memory accelerator pipeline
(Chapter 5).

Two ways to feed the chip, both measured side by side by `python -m
fenwicks_lite.bench_pipeline`:

- `tfrecord_ds` (also `fw.io.tfrecord_ds`, the 2019 name): the seed's tf.data pipeline -
  read the record files in parallel, cache, shuffle the whole epoch, parse (and augment)
  in parallel, batch, prefetch - with two tunings the chapter measures: per-*batch*
  (vectorized) augmentation through `batch_transform`, and caching the decoded images
  rather than the serialized records.
- `DeviceDataset`: CIFAR-10 is only 150 MB of uint8 (600 MB as float32), so it fits on
  any GPU or TPU. Keep it there as ONE tensor; each step then needs only a vector of
  `batch_size` indices (a seeded permutation per epoch) and the augmentation of Chapter
  4 runs on the device (`fw.transform.augment_batch`). No host pipeline can be the
  bottleneck. This is the fast path on the GPU machine and Colab TPUs.

TensorFlow is imported only inside the tf.data functions, so `DeviceDataset` works on a
JAX-only machine.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from fenwicks_lite import needs_tensorflow, transform

#: The seed's `shuffle_buf_sz` default: CIFAR-10's training set, i.e. a buffer that
#: holds a full epoch.
CIFAR10_TRAIN_SIZE = 50_000

#: what the tf.data functions' error names where TensorFlow is missing (JAX-only
#: installs, Colab's TPU runtimes): the pipeline that needs no TensorFlow.
IN_MEMORY_PIPELINE = "fw.pipeline.DeviceDataset, the arrays in memory (Chapter 5)"


def _is_folder(path: str) -> bool:
    """`tf.io.gfile.isdir`, but not asked on ``ram://``, whose isdir is True for any
    prefix of a file name (``r`` when ``r-00000-of-00002`` exists)."""
    import tensorflow as tf

    return not path.startswith("ram://") and tf.io.gfile.isdir(path)


def _check_batch_size(batch_size: Any) -> int:
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):
        raise ValueError(
            f"batch_size must be a positive int (images per step; Page: 512), got "
            f"{batch_size!r}."
        )
    return int(batch_size)


# ---------------------------------------------------------------- tf.data (TensorFlow)

def _check_parsed(spec: Any, what: str) -> None:
    """A parser must give (image, label): a rank-3 image and a scalar label. Say so
    clearly otherwise."""
    import tensorflow as tf

    ok = (isinstance(spec, tuple) and len(spec) == 2
          and all(isinstance(s, tf.TensorSpec) for s in spec)
          and spec[0].shape.rank == 3 and spec[1].shape.rank == 0)
    if not ok:
        raise TypeError(
            f"{what} must return (image, label) for ONE record: an image (height, "
            f"width, channels) and a scalar label, e.g. "
            f"fw.io.tfexample_numpy_image_parser(example, 32, 32). It returned {spec}."
        )


@needs_tensorflow(instead=IN_MEMORY_PIPELINE)
def tf_augment(
    pad: int = transform.PAD,
    cutout: int = transform.CUTOUT,
    flip: bool = True,
    mean: Any = None,
    std: Any = None,
) -> Callable[[Any, Any, Any], tuple[Any, Any]]:
    """A `batch_transform` for `tfrecord_ds`: Page's augmentation on a whole batch,
    reproducibly.

    Returns ``fn(images, labels, seed) -> (images, labels)``. With `mean` and `std` (per
    channel, in pixel units) uint8 batches come out normalized float32, so the records
    can stay uint8 (4x smaller, Chapter 3) and the float work happens once per batch,
    vectorized. The augmentation is `fw.transform.augment_batch_tf`: one
    stateless draw per batch from its `seed`, one gather for crop and flip together, one
    multiply for normalization and cutout.
    """
    if mean is not None and std is not None:
        transform.check_mean_std(mean, std)  # here, not at the first batch

    def fn(images: Any, labels: Any, seed: Any) -> tuple[Any, Any]:
        return transform.augment_batch_tf(
            images, seed, pad=pad, cutout=cutout, flip=flip, mean=mean, std=std
        ), labels

    return fn


@needs_tensorflow(instead=IN_MEMORY_PIPELINE)
def tfrecord_ds(
    file_pattern: str | list[str],
    parser: Callable[[Any], tuple[Any, Any]],
    batch_size: int,
    training: bool = True,
    *,
    batch_transform: Callable[[Any, Any, Any], tuple[Any, Any]] | None = None,
    shuffle_buf_sz: int | None = None,
    n_cores: int | None = None,
    cache: str | None = "records",
    seed: int | None = None,
) -> Any:
    """The seed's tf.data pipeline over TFRecord files (Chapter 5). Returns a
    `tf.data.Dataset` of batches.

    Stages, in order (the chapter times each):

    1. list the files matching `file_pattern` (a glob, or a list of paths) and read them
       interleaved, `n_cores` at a time (default: tf.data's AUTOTUNE);
    2. ``cache="records"``: keep the serialized records in memory after the first epoch
       (the book's addition: the seed read its files again every epoch); ``"parsed"``:
       cache after `parser` instead, so decoding also happens once - only valid when
       `parser` is deterministic (augmentation then goes in `batch_transform`); None:
       no cache;
    3. training: shuffle with a buffer of `shuffle_buf_sz` records (default: every
       record, a full-epoch shuffle, so each epoch is a fresh permutation);
    4. `parser(record) -> (image, label)` in parallel, e.g.
       `fw.io.tfexample_numpy_image_parser` - the seed also augmented here, one image at
       a time;
    5. batch; in training with ``drop_remainder=True`` (every step has the same shape,
       which XLA and the learning-rate schedule want), in evaluation keeping the last
       partial batch;
    6. training: ``batch_transform(images, labels, seed)`` on each whole batch in
       parallel, with a stateless per-batch seed (see `tf_augment`) - the vectorized
       augmentation;
    7. prefetch, so the next batches are ready while the chip works.

    `seed` makes it deterministic: the same seed gives the same order and augmentation,
    epoch by epoch (each pass over the dataset - each epoch - draws anew). Without it,
    each run differs. The dataset is one epoch; Keras's `fit` iterates it once per
    epoch.
    """
    import tensorflow as tf

    batch_size = _check_batch_size(batch_size)
    if cache not in ("records", "parsed", None):
        raise ValueError(f"cache must be 'records', 'parsed' or None, got {cache!r}.")
    if cache == "parsed" and training and batch_transform is None:
        raise ValueError(
            "cache='parsed' with training=True freezes whatever the parser does on the "
            "first epoch, so per-image random augmentation in the parser would repeat "
            "every epoch. Put the augmentation in batch_transform (e.g. "
            "fw.pipeline.tf_augment()), or use cache='records'."
        )
    patterns = (
        [file_pattern]
        if isinstance(file_pattern, str)
        else [str(p) for p in file_pattern]
    )
    files = sorted({f for p in patterns for f in tf.io.gfile.glob(p)})
    folders = [f for f in files if _is_folder(f)]
    if folders:
        raise IsADirectoryError(
            f"{folders[0]} is a folder: pass the TFRecord files in it, e.g. "
            f"os.path.join({folders[0]!r}, 'train*.tfrec')."
        )
    if not files:
        raise FileNotFoundError(
            f"no TFRecord files match {file_pattern!r}: check the path and the glob "
            "(e.g. 'data/train*.tfrec'); write them first with fw.io.numpy_tfrecord "
            "(Chapter 3)."
        )
    auto = tf.data.AUTOTUNE
    parallel = auto if n_cores is None else int(n_cores)
    ds = tf.data.Dataset.from_tensor_slices(files)
    ds = ds.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(files), 16),
        block_length=1,
        num_parallel_calls=parallel,
        deterministic=True,
    )
    if cache == "records":
        ds = ds.cache()
    if cache == "parsed":
        ds = _map_parser(ds, parser, parallel).cache()
    if training:
        if shuffle_buf_sz is None:
            shuffle_buf_sz = int(ds.reduce(np.int64(0), lambda n, _: n + 1))
            steps_per_epoch(shuffle_buf_sz, batch_size)  # raises if no batch is full
        ds = ds.shuffle(int(shuffle_buf_sz), seed=seed, reshuffle_each_iteration=True)
    if cache != "parsed":
        ds = _map_parser(ds, parser, parallel)
    ds = ds.batch(
        batch_size,
        drop_remainder=training,
        num_parallel_calls=parallel,
        deterministic=True,
    )
    if training and batch_transform is not None:
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        ).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda xy, s: batch_transform(xy[0], xy[1], s),
            num_parallel_calls=parallel,
            deterministic=True,
        )
        spec = ds.element_spec
        if not (isinstance(spec, tuple) and len(spec) == 2 and spec[0].shape.rank == 4):
            raise TypeError(
                f"batch_transform must return (images (n, h, w, c), labels), got "
                f"{spec}."
            )
    return ds.prefetch(auto)


def _map_parser(ds: Any, parser: Callable, parallel: Any) -> Any:
    n_args = len(
        [
            p
            for p in inspect.signature(parser).parameters.values()
            if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    )
    if n_args > 1:
        raise TypeError(
            f"parser takes {n_args} required arguments, but it is called with one "
            "serialized record; bind the rest, e.g. lambda e: "
            "fw.io.tfexample_numpy_image_parser(e, 32, 32)."
        )
    ds = ds.map(parser, num_parallel_calls=parallel, deterministic=True)
    _check_parsed(ds.element_spec, "parser")
    return ds


# ----------------------------------------------- in memory, on the device (any backend)

def steps_per_epoch(n: int, batch_size: int) -> int:
    """Full batches per epoch: the remainder sits the epoch out, as Page did
    (50,000 / 512 -> 97).

    The one place that counts steps: `DeviceDataset`, `fw.train.schedule_steps` and the
    training loop (Chapter 9) all call it. Every step then has the same batch shape.
    """
    if n < batch_size:
        raise ValueError(
            f"{n} images cannot fill one batch of {batch_size} (the remainder is "
            "dropped): use a smaller batch size (--batch-size)."
        )
    return n // batch_size


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch `epoch`'s shuffle in a run seeded with `seed`: one integer per
    pair.

    `DeviceDataset` and the training loop (Chapter 9) draw each epoch's order from it,
    so the order depends on (seed, epoch) alone and a resumed run repeats the
    interrupted one.
    """
    if int(seed) < 0 or int(epoch) < 0:
        raise ValueError(
            f"seed and epoch must be >= 0, got seed={seed!r}, epoch={epoch!r}."
        )
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0])


def epoch_indices(n: int, batch_size: int, rng_seed: Any) -> np.ndarray:
    """One epoch's batches as rows of image indices, shape ``(n // batch_size,
    batch_size)``, int32.

    A permutation of 0..n-1 drawn on the host from `rng_seed` (anything
    `np.random.default_rng` takes), cut into full batches; the remainder (fewer than a
    batch) sits this epoch out. Drawing it from a seed per epoch, not from a running
    generator, is what lets a resumed run repeat the interrupted one (Chapter 5;
    `DeviceDataset` and the training loop, Chapter 9, both use it).
    """
    steps = steps_per_epoch(n, batch_size)
    perm = np.random.default_rng(rng_seed).permutation(n)
    return perm[: steps * batch_size].reshape(steps, batch_size).astype(np.int32)


class DeviceDataset:
    """The whole training set as one device tensor; per-step index batches; augmentation
    on the device.

    ``x`` (N, H, W, C) and ``y`` (N,) are NumPy arrays (or backend tensors). `x` should
    already be normalized floats (Chapter 2); uint8 pixels are accepted together with
    `mean` and `std`, then stored as uint8 (4x less device memory) and normalized per
    batch on the device. Each epoch is a permutation of 0..N-1 drawn from
    ``epoch_seed(seed, epoch)`` on the host (a few hundred kB), cut into
    `steps_per_epoch` batches, dropping the remainder; step i of epoch e is augmented
    with ``fw.transform.step_seed(seed, e * steps + i)``. So the data order and
    augmentation depend only on (seed, epoch, step): a resumed run sees the same
    batches. `batch(indices, step)` is a pure function of its inputs: put it inside
    your own jitted training step (`jax.jit` / `tf.function`); iterating the object
    runs it compiled. Chapter 5.
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        batch_size: int,
        *,
        seed: int = 0,
        augment: bool = True,
        pad: int = transform.PAD,
        cutout: int = transform.CUTOUT,
        flip: bool = True,
        mean: Any = None,
        std: Any = None,
    ) -> None:
        from keras import ops

        self.batch_size = _check_batch_size(batch_size)
        shape = tuple(x.shape)
        if len(shape) != 4:
            raise ValueError(
                f"x must be a batch of images (N, H, W, C), got shape {shape}; for "
                f"grey "
                "images add a channel axis (x[..., None])."
            )
        if tuple(y.shape) != shape[:1]:
            raise ValueError(
                f"y must hold one label per image, shape ({shape[0]},), got "
                f"{tuple(y.shape)}."
            )
        steps_per_epoch(shape[0], self.batch_size)  # at least one full batch
        integer = np.issubdtype(np.dtype(ops.convert_to_numpy(x[:1]).dtype), np.integer)
        if integer and (mean is None or std is None):
            raise ValueError(
                "x holds integer pixels: pass mean= and std= (per channel, pixel "
                "units, from fw.data.channel_stats) to normalize on the device, or "
                "normalize x first (fw.data.normalize, Chapter 2)."
            )
        if (mean is None) != (std is None):
            raise ValueError("pass both mean and std, or neither.")
        if mean is not None:
            transform.check_mean_std(mean, std, shape[3])
        transform._check_pad(pad, shape[1], shape[2])
        transform._check_cutout(cutout, cutout, shape[1], shape[2])
        self.seed, self.augment, self.pad, self.cutout, self.flip = (
            int(seed),
            augment,
            pad,
            cutout,
            flip,
        )
        self.x = ops.convert_to_tensor(x)
        self.y = ops.convert_to_tensor(y)
        self.mean = (
            None
            if mean is None
            else ops.convert_to_tensor(np.asarray(mean, np.float32))
        )
        self.std = (
            None if std is None else ops.convert_to_tensor(np.asarray(std, np.float32))
        )
        self.n = shape[0]
        self._compiled: Callable | None = None

    @property
    def steps_per_epoch(self) -> int:
        """Full batches per epoch (the remainder, N mod batch_size images, sits out that
        epoch)."""
        return steps_per_epoch(self.n, self.batch_size)

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """(steps_per_epoch, batch_size) int32 image indices of epoch `epoch`: a
        permutation, remainder dropped."""
        return epoch_indices(self.n, self.batch_size, epoch_seed(self.seed, epoch))

    def batch(self, indices: Any, step: Any) -> tuple[Any, Any]:
        """(images, labels) of one step: `device_batch` on this dataset's tensors and
        settings."""
        return device_batch(
            self.x,
            self.y,
            indices,
            step,
            self.seed,
            self.mean,
            self.std,
            augment=self.augment,
            pad=self.pad,
            cutout=self.cutout,
            flip=self.flip,
        )

    def _compiled_batch(self) -> Callable:
        """`device_batch` compiled for the backend, the data passed as arguments (a
        jitted function that closed over 600 MB would bake them into the program as a
        constant)."""
        if self._compiled is None:
            import keras

            static = dict(
                seed=self.seed,
                augment=self.augment,
                pad=self.pad,
                cutout=self.cutout,
                flip=self.flip,
            )
            if keras.backend.backend() == "jax":
                import jax

                fn = jax.jit(device_batch, static_argnames=tuple(static))
            elif keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                fn = tf.function(device_batch)
            else:
                fn = device_batch
            self._compiled = lambda idx, step: fn(
                self.x, self.y, idx, step, mean=self.mean, std=self.std, **static
            )
        return self._compiled

    def epoch(self, epoch: int) -> Iterator[tuple[Any, Any]]:
        """Yields the (images, labels) batches of epoch `epoch`, each computed on the
        device, compiled."""
        fn = self._compiled_batch()
        steps = self.steps_per_epoch
        for i, idx in enumerate(self.epoch_indices(epoch)):
            yield fn(idx, np.int32(epoch * steps + i))

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self.epoch(0)

    def __len__(self) -> int:
        return self.steps_per_epoch


def device_batch(
    x: Any,
    y: Any,
    indices: Any,
    step: Any,
    seed: int,
    mean: Any = None,
    std: Any = None,
    *,
    augment: bool = True,
    pad: int = transform.PAD,
    cutout: int = transform.CUTOUT,
    flip: bool = True,
) -> tuple[Any, Any]:
    """One training step's batch, on the device: gather `indices` of `x`/`y`, normalize
    (when `mean`/`std` are given, for uint8 `x`), augment with
    ``fw.transform.step_seed(seed, step)`` (Chapter 4).

    Pure keras.ops and jit-friendly: `indices` and `step` may be traced (`step` is the
    global step number); `seed`, `augment`, `pad`, `cutout` and `flip` are static.
    `DeviceDataset` calls it; a custom jitted training step can call it directly with
    the data as arguments (Chapter 5).
    """
    from keras import ops

    xb = ops.take(x, indices, axis=0)
    yb = ops.take(y, indices, axis=0)
    if mean is not None:
        xb = (ops.cast(xb, "float32") - mean) / std
    if augment:
        xb = transform.augment_batch(
            xb, transform.step_seed(seed, step), pad=pad, cutout=cutout, flip=flip
        )
    return xb, yb
