"""What data the tests of the command lines run on (`quick_data_env`)."""

from __future__ import annotations


def quick_data_env() -> dict[str, str]:
    """For a test that runs the CLI or a benchmark in the quick profile for its mechanics,
    not its accuracy: nothing when real CIFAR-10 is at hand without a download (the
    sample beside the checkout, or Keras's cache), else ``FENWICKS_LITE_DATA=synthetic``,
    so a checkout without ``../shared`` and without network still tests them."""
    from fenwicks_lite import data

    if data.mini_sample_dir() or data.keras_cached():
        return {}
    return {data.DATA_ENV_VAR: "synthetic"}
