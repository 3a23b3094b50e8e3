"""Makes `import tensorflow` fail, as on a machine without it (Colab TPU runtimes, the GPU machine).

`SOURCE` is plain Python so that subprocess tests can prepend it to their code; `conftest.py` runs it in
the test process itself under ``FENWICKS_LITE_BLOCK_TF=1`` (how `make test` runs the JAX pass).
"""

SOURCE = '''
import importlib.abc as _abc
import sys as _sys


class _BlockTensorFlow(_abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ImportError(f"TensorFlow is blocked here ({name}), as on a machine without it")
        return None


_sys.meta_path.insert(0, _BlockTensorFlow())
'''


def install() -> None:
    exec(SOURCE, {})
