"""Which accelerator is here, for the active Keras backend (Chapter 8, Training on accelerators).

Detection asks the active backend only: under ``KERAS_BACKEND=jax`` TensorFlow is never imported.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
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
    """The processor's model name and core count, so a timing can say which machine produced it."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model} ({n} cores)"


@functools.lru_cache(maxsize=None)
def device_info() -> DeviceInfo:
    """The accelerators the active Keras backend would use (cached: it does not change in a process)."""
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
                return DeviceInfo(kind.lower(), len(devs), details.get("device_name", kind))
    return DeviceInfo("cpu", 1, cpu_name())


def backend_version() -> str:
    """The version of the library behind the active Keras backend (TF or JAX)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.__version__
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.__version__
    return ""
