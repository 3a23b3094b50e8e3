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
            raise ModuleNotFoundError(f"TensorFlow is blocked here ({name}), as on a machine "
                                      "without it", name=name)
        return None


_sys.meta_path.insert(0, _BlockTensorFlow())
'''


def install() -> None:
    exec(SOURCE, {})


def errors_without_tensorflow(calls: dict[str, str], setup: str = "") -> dict[str, dict]:
    """What each of `calls` (a label -> one Python expression) raises in a fresh interpreter
    where TensorFlow is blocked and Keras runs on JAX (`import fenwicks_lite as fw`, `numpy as
    np` and `setup` come first): {label: {"types": the error's class and bases, "name": its
    `name`, "message": str(error), "cause": the class of its __cause__}}, or {"returned": ...}
    for a call that raised nothing."""
    import json
    import os
    import subprocess
    import sys
    import textwrap

    code = SOURCE + textwrap.dedent("""
        import json, sys
        import numpy as np
        import fenwicks_lite as fw
    """) + setup + textwrap.dedent(f"""
        out = {{}}
        for label, expr in {calls!r}.items():
            try:
                out[label] = {{"returned": repr(eval(expr))[:200]}}
            except BaseException as e:
                out[label] = {{"types": [t.__name__ for t in type(e).__mro__], "message": str(e),
                              "name": getattr(e, "name", None),
                              "cause": type(e.__cause__).__name__ if e.__cause__ else None}}
        assert "tensorflow" not in sys.modules
        print(json.dumps(out))
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_says_what_to_install(got: dict, function: str, instead: str | None = None) -> None:
    """`got` (one entry of `errors_without_tensorflow`) is the library's error for a call of
    `function` (e.g. "fw.io.numpy_tfrecord") without TensorFlow: still a ModuleNotFoundError
    about tensorflow, chained from the import's own error, naming the function, the install
    line and, where given, the TensorFlow-free way (`instead`)."""
    assert "returned" not in got, f"{function} ran without TensorFlow: {got}"
    assert "ModuleNotFoundError" in got["types"] and got["name"] == "tensorflow", got
    assert got["cause"] is not None, f"{function}: not chained from the import's error: {got}"
    assert got["message"].startswith(f"{function} needs TensorFlow"), got["message"]
    assert "pip install 'fenwicks_lite[tf]'" in got["message"], got["message"]
    if instead is not None:
        assert f"Without TensorFlow, use {instead}" in got["message"], got["message"]


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
