"""Makes `import tensorflow` fail, as on a machine without it (Colab TPU runtimes, the GPU machine).

`SOURCE` is plain Python so that subprocess tests can prepend it to their code; `conftest.py` runs it in
the test process itself under ``FENWICKS_LITE_BLOCK_TF=1`` (how `make test` runs the JAX pass).

As a script, ``python tests/no_tensorflow.py MODULE ARGS...`` runs ``python -m MODULE ARGS...`` with
TensorFlow blocked, then prints the third-party modules it imported and fails if TensorFlow is among
them: the GPU commands (book/scripts/gpu_run.sh, gpu_fast.sh) run so, on the GPU machine and in their
CPU rehearsal alike.
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


def main(argv: list[str]) -> int:
    """``python tests/no_tensorflow.py MODULE ARGS...`` (see the module docstring)."""
    import runpy
    import sys

    if not argv or argv[0].startswith("-"):
        print("usage: python tests/no_tensorflow.py MODULE [ARGS...] (runs python -m MODULE "
              "with TensorFlow blocked)", file=sys.stderr)
        return 2
    install()
    sys.argv = list(argv)
    code = 0
    try:
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
    except SystemExit as e:  # the module's own exit status, or its message
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        std = set(sys.stdlib_module_names) | {"__main__"}
        third = sorted({m.split(".")[0] for m in sys.modules} - std)
        print("third-party modules imported:", " ".join(m for m in third if not m.startswith("_")),
              flush=True)
    if "tensorflow" in sys.modules:
        print("TensorFlow was imported despite the block", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
