"""Which accelerator is here, for the active Keras backend (Chapter 8, Training on
accelerators).

Detection asks the active backend only: under ``KERAS_BACKEND=jax`` TensorFlow is never
imported.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """The devices the active backend sees: their platform, how many, and their name.

    Explained in Chapter 8, Training on accelerators (what `setup` finds).
    """

    #: "cpu", "gpu" or "tpu"
    platform: str
    #: how many of them the backend sees
    count: int
    #: a human name: "NVIDIA H100 80GB HBM3", "TPU v5 lite", "Intel Xeon ... (2 cores)"
    name: str

    def __str__(self) -> str:
        if self.platform == "cpu":
            return f"CPU, {self.name}"
        return f"{self.count} x {self.platform.upper()} {self.name}"


def cpu_name() -> str:
    """The processor's model name and core count, so a timing can say which machine
    produced it.

    Every chapter's environment line prints it (the Introduction, "How to read it"),
    and Chapter 8's timings name the machine with it.
    """
    return f"{cpu_model()} ({cpu_cores()} cores)"


def cpu_model() -> str:
    """The processor's model name (Linux: /proc/cpuinfo), e.g. "AMD EPYC".

    Every chapter's environment line prints it (the Introduction, "How to read it"),
    and Chapter 8's timings name the machine with it.
    """
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return model


def cpu_cores() -> int | None:
    """The cores this process may use (None where the system cannot tell).

    Every chapter's environment line prints it (the Introduction, "How to read it"),
    and Chapter 8's timings name the machine with it.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


@functools.cache
def device_info() -> DeviceInfo:
    """The accelerators the active Keras backend would use (cached: it does not change
    in a process)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devs = jax.devices()
        kind = devs[0].platform
        if kind != "cpu":
            return DeviceInfo(kind, len(devs), devs[0].device_kind)
    elif backend == "tensorflow":
        import tensorflow as tf

        for kind in ("TPU", "GPU"):
            devs = tf.config.list_physical_devices(kind)
            if devs:
                details = tf.config.experimental.get_device_details(devs[0])
                return DeviceInfo(
                    kind.lower(), len(devs), details.get("device_name", kind)
                )
    return DeviceInfo("cpu", 1, cpu_name())


def backend_version() -> str:
    """The version of the library behind the active Keras backend (TF or JAX).

    Every chapter's environment line prints it (the Introduction, "How to read it").
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.__version__
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.__version__
    return ""


# --------------------------------------------------------------------------------------
# Setting the accelerator up: strategy / distribution and mixed precision (Chapter 8).
#
# In 2019 the seed wrapped everything in a `TPUEstimator`
# (`fw.tpuest.get_tpu_estimator`). Keras 3 asks for two things instead: where the
# model's variables live and how a batch is split (a TF `tf.distribute.Strategy`, or a
# `keras.distribution` on JAX), and which dtype the layers compute in.

#: The Keras backends fenwicks_lite supports (torch and numpy lack what the training
#: loop needs).
BACKENDS = ("tensorflow", "jax")
#: Keras dtype policies `setup` accepts; "auto" picks one from the hardware
#: (`choose_precision`).
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
#: NVIDIA compute capability from which a GPU has bfloat16 tensor cores (8.0 = Ampere,
#: A100). Older cards (V100 = 7.0, T4 = 7.5) have float16 tensor cores only.
BF16_MIN_COMPUTE_CAPABILITY = (8, 0)


def check_backend(name: str) -> str:
    """`name` if fenwicks_lite supports that Keras backend, else a ValueError saying how
    to choose one.

    Why: Keras also runs on torch and numpy, where the training loop's fast paths do not
    exist; failing at the start is better than a confusing error in the middle of a run.

    Chapter 8's `setup` and training loop, and Chapter 9's ``--backend``, check the
    backend with it.
    """
    key = (name or "").strip().lower()
    if key not in BACKENDS:
        raise ValueError(
            f"Keras backend {name!r} is not supported by fenwicks_lite: set the "
            f"environment variable KERAS_BACKEND to one of {', '.join(BACKENDS)} "
            f"before Python starts (or before importing keras)."
        )
    return key


def check_batch_size(batch_size: int, device_count: int) -> int:
    """The per-device batch size; a ValueError when `batch_size` does not split evenly
    over the devices.

    Why: data parallelism gives every device the same share of each batch (a TPU's 8
    cores in 2019, several GPUs now). 512 / 8 = 64 works; 500 / 8 does not, and XLA
    would fail later with a shape error.

    Explained in Chapter 8, Training on accelerators (a batch spread over the
    devices).
    """
    if batch_size <= 0 or device_count <= 0:
        raise ValueError(
            f"batch size ({batch_size}) and device count ({device_count}) must be "
            f"positive."
        )
    if batch_size % device_count:
        lower = batch_size - batch_size % device_count
        upper = lower + device_count
        hint = f"{lower} or {upper}" if lower else f"{upper}"
        raise ValueError(
            f"batch size {batch_size} does not divide over {device_count} devices: "
            f"choose a multiple of {device_count} (e.g. {hint})."
        )
    return batch_size // device_count


def choose_precision(
    platform: str, compute_capability: tuple[int, int] | None = None
) -> str:
    """The Keras dtype policy for this hardware: what runs fastest without losing the
    94%.

    TPUs (every generation) and NVIDIA GPUs from Ampere on (compute capability >= 8.0:
    A100, L4, H100) compute in bfloat16 natively: same exponent range as float32, so no
    loss scaling. Older GPUs (T4, V100) have float16 tensor cores only:
    ``mixed_float16`` (Keras then scales the loss). CPUs: float32, the safe default: a
    CPU runs the quick profile, where agreeing with float32 references matters more
    than speed, and whether bfloat16 is faster there depends on the chip and the
    backend's kernels (chapter 8 measures the CPU it runs on).
    """
    platform = platform.lower()
    if platform == "tpu":
        return "mixed_bfloat16"
    if platform == "gpu":
        if (
            compute_capability is not None
            and tuple(compute_capability) >= BF16_MIN_COMPUTE_CAPABILITY
        ):
            return "mixed_bfloat16"
        return "mixed_float16"
    if platform == "cpu":
        return "float32"
    raise ValueError(f"unknown platform {platform!r}: expected 'cpu', 'gpu' or 'tpu'.")


def compute_capability() -> tuple[int, int] | None:
    """The first GPU's NVIDIA compute capability (major, minor), or None when there is
    no GPU.

    Chapter 8's precision table: bfloat16 on GPUs from compute capability 8.0.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        dev = jax.devices()[0]
        cc = getattr(dev, "compute_capability", None)
        if dev.platform == "gpu" and cc:
            major, minor = str(cc).split(".")[:2]
            return int(major), int(minor)
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            cc = tf.config.experimental.get_device_details(gpus[0]).get(
                "compute_capability"
            )
            if cc:
                return int(cc[0]), int(cc[1])
    return None


def _tpu_vm_present() -> bool:
    """A Cloud/Colab TPU VM exposes its chips as /dev/accel* (v2-v4) or /dev/vfio/N
    (v5e, v6e)."""
    import glob

    return bool(glob.glob("/dev/accel[0-9]*") or glob.glob("/dev/vfio/[0-9]*"))


@dataclasses.dataclass
class Accelerator:
    """What `setup` chose: the device, the dtype policy, and how a batch is spread over
    the devices.

    Explained in Chapter 8, Training on accelerators: `setup` replaces the seed's
    estimator.
    """

    backend: str
    device: DeviceInfo
    #: the Keras dtype policy now global ("float32", "mixed_bfloat16", "mixed_float16")
    precision: str
    #: TensorFlow: the `tf.distribute.Strategy` to build and fit the model under; JAX:
    #: None
    strategy: object | None = None
    #: JAX: the `keras.distribution.DataParallel` set globally when there are several
    #: devices; else None
    distribution: object | None = None

    @property
    def replicas(self) -> int:
        """How many devices share each batch."""
        return self.device.count

    def scope(self):  # noqa: ANN201 - a context manager
        """``with acc.scope(): model = ...``: the strategy's scope on TF, a no-op on
        JAX."""
        import contextlib

        return (
            self.strategy.scope()
            if self.strategy is not None
            else contextlib.nullcontext()
        )

    def __str__(self) -> str:
        return (
            f"backend {self.backend} | device: {self.device} | devices: "
            f"{self.device.count} | precision: {self.precision}"
        )


def _tf_strategy(info: DeviceInfo):  # noqa: ANN202 - a tf.distribute.Strategy
    import tensorflow as tf

    if info.platform == "tpu":
        # On a TPU VM the chips are local ("local"), not a remote gRPC worker as on the
        # 2019 Colab TPUs.
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if info.platform == "gpu" and info.count > 1:
        return tf.distribute.MirroredStrategy()
    # the default strategy: one GPU or the CPU, no replication
    return tf.distribute.get_strategy()


def setup(precision: str = "auto", *, verbose: bool = True) -> Accelerator:
    """Prepares the active Keras backend's accelerator and prints one line about it.

    TensorFlow: a `TPUStrategy` on a TPU VM (``TPUClusterResolver(tpu="local")``), a
    `MirroredStrategy` on several GPUs, the default strategy on one GPU or the CPU. JAX:
    `keras.distribution.DataParallel` over all devices when there are several, nothing
    for one (JAX places everything on its first device). Then sets Keras's global dtype
    policy: `precision` ("auto" = `choose_precision`). Call it before building the
    model. Explained in Chapter 8.
    """
    import keras

    backend = check_backend(keras.backend.backend())
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    info = device_info()
    if backend == "tensorflow" and info.platform == "cpu" and _tpu_vm_present():
        # TF on a TPU VM lists no TPU device until the TPU system is initialised: try
        # it.
        info = DeviceInfo("tpu", 1, "TPU (local)")
    strategy = distribution = None
    if backend == "tensorflow":
        strategy = _tf_strategy(info)
        if info.platform == "tpu":
            info = DeviceInfo("tpu", strategy.num_replicas_in_sync, info.name)
    else:
        import jax

        # several host CPU "devices" (XLA_FLAGS): count them all
        if len(jax.devices()) != info.count:
            info = DeviceInfo(info.platform, len(jax.devices()), info.name)
    if backend == "jax" and info.count > 1:
        import jax

        distribution = keras.distribution.DataParallel(devices=jax.devices())
        keras.distribution.set_distribution(distribution)
    policy = (
        choose_precision(info.platform, compute_capability())
        if precision == "auto"
        else precision
    )
    keras.mixed_precision.set_global_policy(policy)
    acc = Accelerator(backend, info, policy, strategy, distribution)
    if verbose:
        print(acc)
    return acc
