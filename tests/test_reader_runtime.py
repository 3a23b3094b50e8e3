"""The book as a reader runs it: the wheel, a fresh virtual environment, Colab CPU and TPU.

`test_every_chapter_as_a_reader` is the notebooks' run in CI (`make test-notebooks`): it
builds the wheel, installs it into a virtual environment in a temporary folder outside the
checkout (no ``../shared``), which reuses the dependencies already installed beside this
interpreter (a ``.pth`` file pointing at a folder of links to them, without the library
itself) so nothing is downloaded, gives it a temporary HOME whose Keras cache holds the
mini sample in Keras's layout, blocks the network, and fakes Colab: a `google.colab`
module imported at start-up and a pip that installs nothing but records what it was asked
for. Every chapter (in `_toc.yml`'s order; ``FENWICKS_LITE_READER_CHAPTERS=02_cifar10,...``
picks some while developing) then runs with nbval in the quick profile twice:

* Colab CPU: TensorFlow present;
* Colab TPU: ``KERAS_BACKEND=jax`` and TensorFlow missing until the setup cell "installs"
  ``tensorflow-cpu`` (the fake pip links the real one into that chapter's own folder on
  ``sys.path``; each chapter is a fresh runtime, as each Colab notebook is).

Then it checks what each setup cell asked pip for, and what each kernel ended with (an
IPython start-up file records it after every cell).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest

from fenwicks_lite import data, records

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from fwbook import notebooks as book  # noqa: E402

#: The per-cell time limit (the quick profile's slowest cell takes well under a minute).
CELL_TIMEOUT = 300

# Imported at start-up by every Python of the reader's environment (a .pth line).
SIM = '''
"""The reader test's stand-ins for Colab: google.colab, no network, pip's "installs"."""
import os
import socket
import sys
import types



def _authenticate_user(*args, **kwargs):  # records that a chapter asked the reader to sign in
    import json

    with open(os.environ["FW_READER_LOG"], "a") as f:
        f.write(json.dumps({"cwd": os.getcwd(), "auth": "authenticate_user"}) + "\\n")


if os.environ.get("FW_READER_COLAB") == "1":  # Colab's kernel imports it before any cell
    colab = types.ModuleType("google.colab")
    for name in ("auth", "output"):
        setattr(colab, name, types.ModuleType(f"google.colab.{name}"))
        sys.modules[f"google.colab.{name}"] = getattr(colab, name)
    colab.auth.authenticate_user = _authenticate_user
    sys.modules["google.colab"] = colab
if os.environ.get("FW_READER_SITE"):  # where this runtime's pip "installs" packages
    sys.path.append(os.path.join(os.getcwd(), os.environ["FW_READER_SITE"]))

_LOCAL = {"localhost", "127.0.0.1", "::1", "", None}


def _local(address):
    return not isinstance(address, tuple) or address[0] in _LOCAL


def _refuse(what):
    raise OSError(101, f"Network is unreachable ({what}: the reader test blocks the network)")


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def connect(self, address):
    return _connect(self, address) if _local(address) else _refuse(address)


def connect_ex(self, address):
    return _connect_ex(self, address) if _local(address) else 101


def getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL:
        raise socket.gaierror(-3, f"Temporary failure in name resolution ({host}: blocked)")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
socket.getaddrinfo = getaddrinfo
'''

FAKE_PIP = '''
"""A pip that installs nothing: it records its arguments; "tensorflow-cpu" links the real
TensorFlow into this runtime's site folder (FW_READER_SITE under the working folder)."""
import json
import os
import sys

args = sys.argv[1:]
with open(os.environ["FW_READER_LOG"], "a") as f:
    f.write(json.dumps({"cwd": os.getcwd(), "args": args}) + "\\n")
if "tensorflow-cpu" in args and os.environ.get("FW_READER_SITE"):
    site = os.path.join(os.getcwd(), os.environ["FW_READER_SITE"])
    for src in os.environ["FW_READER_TF"].split(os.pathsep):
        os.symlink(src, os.path.join(site, os.path.basename(src)))
'''

# The inner pytest's conftest.py (harness only, not the reader's): nbval starts each kernel
# over TCP on ports it finds free, per process, and the two passes run side by side, so both
# can be handed the same port and one kernel die at its start: the likely cause of "Kernel
# died before replying to kernel_info", seen once in CI (02_cifar10, CPU pass; unconfirmed,
# as nbval drops a kernel's stderr). Here kernels talk over Unix sockets under FW_READER_IPC
# instead, and each kernel's stderr goes to a file there, so that one that dies says why.
KERNELS = '''
import os
import uuid

import nbval.kernel
from jupyter_client.manager import KernelManager

_DIR = os.environ["FW_READER_IPC"]


class IpcKernelManager(KernelManager):
    """nbval's own start_new_kernel builds it: the transport and the stderr change."""

    def __init__(self, **kwargs):
        super().__init__(transport="ipc", ip=os.path.join(_DIR, uuid.uuid4().hex[:12]),
                         **kwargs)

    def start_kernel(self, **kwargs):
        kwargs["stderr"] = open(self.ip + ".stderr", "w")
        return super().start_kernel(**kwargs)


nbval.kernel.KernelManager = IpcKernelManager
'''

# Runs in each kernel after every cell: what the chapter ended with.
RECORDER = '''
import json
import os
import sys
import time



def _process_start():
    """When this kernel's process started (Linux: /proc), else when this file ran."""
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return time.time()


_STARTED = _process_start()


def _record(result=None):
    state = {"cwd": os.getcwd(), "executable": sys.executable,
             "started": _STARTED, "last_cell_end": time.time(),
             "fenwicks_lite": getattr(sys.modules.get("fenwicks_lite"), "__file__", None),
             "tensorflow": "tensorflow" in sys.modules, "colab": "google.colab" in sys.modules}
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        state["backend"] = keras.backend.backend()
    with open(os.path.join(os.environ["FW_READER_STATE"], f"{os.getpid()}.json"), "w") as f:
        json.dump(state, f)


get_ipython().events.register("post_run_cell", _record)
'''


def _is_tf(name: str) -> bool:
    return name.lower().startswith("tensorflow")


def _deps(dest: Path, hide_tf: bool) -> list[Path]:
    """A folder of links to this interpreter's installed packages, without the library (the
    wheel provides it), pip (the fake one does) and, with `hide_tf`, TensorFlow. Returns
    what was hidden of TensorFlow."""
    site = Path(sysconfig.get_paths()["purelib"])
    dest.mkdir()
    hidden = []
    for entry in site.iterdir():
        name = entry.name
        if name.startswith(("fenwicks_lite", "__editable__", "pip", "_distutils_hack",
                            "distutils-precedence")) or name.endswith(".pth"):
            continue
        if hide_tf and _is_tf(name):
            hidden.append(entry)
            continue
        (dest / name).symlink_to(entry)
    return hidden


def _venv(tmp: Path, wheel: Path, hide_tf: bool) -> tuple[Path, list[Path]]:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig"
                                ".get_paths()['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    # the wheel, installed by pip into the environment's site-packages (nothing downloaded)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--target", str(site), str(wheel)], check=True, timeout=300)
    hidden = _deps(tmp / "deps", hide_tf)
    (site / "zz_deps.pth").write_text(f"{tmp / 'deps'}\n")
    (site / "zz_reader_sim.pth").write_text("import reader_sim\n")
    (site / "reader_sim.py").write_text(SIM)
    (site / "pip").mkdir()
    (site / "pip" / "__init__.py").write_text("")
    (site / "pip" / "__main__.py").write_text(FAKE_PIP)
    return python, hidden


def _home(tmp: Path) -> Path:
    """A HOME whose Keras cache holds the mini sample where `keras.datasets.cifar10.load_data`
    would have put it, and an IPython start-up file that records each kernel's state."""
    home = tmp / "home"
    cache = home / ".keras" / "datasets" / data.KERAS_NAME / data.BATCHES_DIR
    cache.parent.mkdir(parents=True)
    mini = data.mini_sample_dir()
    if mini is not None:
        shutil.copytree(mini / data.BATCHES_DIR, cache)
    else:  # no sample beside this checkout (a bare CI runner): the quick profile's data
        _write_official(cache, data.load_profile_data(_quick()))
    startup = home / ".ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-reader-record.py").write_text(RECORDER)
    return home


def _quick():
    from fenwicks_lite import profiles

    return profiles.QUICK


def _write_official(folder: Path, ds) -> None:
    import pickle

    import numpy as np

    folder.mkdir()

    def dump(name, x, y):
        rows = np.ascontiguousarray(x.transpose(0, 3, 1, 2).reshape(len(x), 3072))
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": rows, b"labels": [int(v) for v in y]}, f)

    for i, part in enumerate(np.array_split(np.arange(len(ds.x_train)), 5)):
        dump(data.TRAIN_FILES[i], ds.x_train[part], ds.y_train[part])
    dump(data.TEST_FILE, ds.x_test, ds.y_test)


def _run(tmp: Path, wheel: Path, runtime: str) -> dict:
    """Every chapter in its own folder, through nbval, as `runtime` ("cpu" or "tpu")."""
    tpu = runtime == "tpu"
    python, hidden_tf = _venv(tmp, wheel, hide_tf=tpu)
    if tpu:
        assert hidden_tf, "TensorFlow is not installed here: the TPU pass cannot hide it"
    home = _home(tmp)
    log, state = tmp / "pip.jsonl", tmp / "state"
    state.mkdir()
    notebooks = []
    only = os.environ.get("FENWICKS_LITE_READER_CHAPTERS")  # e.g. "02_cifar10,03_tfrecords"
    (tmp / "chapters").mkdir()
    (tmp / "chapters" / "conftest.py").write_text(KERNELS)
    ipc = tmp / "ipc"  # a Unix socket's path must stay under 108 bytes
    ipc.mkdir()
    (tmp / "tmpdir").mkdir()  # the chapters' temporary folders, checked after the run
    assert len(str(ipc)) < 70, f"{ipc}: too long a path for the kernels' sockets"
    for path in book.chapters():
        if only and path.stem not in only.split(","):
            continue
        folder = tmp / "chapters" / path.stem
        (folder / ".site").mkdir(parents=True)
        shutil.copy2(path, folder / path.name)
        notebooks.append(folder / path.name)
    drop = ("PYTHONPATH", "CIFAR10_DIR", "KERAS_BACKEND", "KERAS_HOME", "VIRTUAL_ENV",
            "IPYTHONDIR", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "MPLCONFIGDIR", "XDG_CACHE_HOME",
            "XDG_CONFIG_HOME", "XDG_DATA_HOME")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("FENWICKS_LITE")}
    env.update(HOME=str(home), PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
               FENWICKS_LITE_PROFILE="quick", FW_READER_COLAB="1", FW_READER_LOG=str(log),
               FW_READER_STATE=str(state), PYTHONDONTWRITEBYTECODE="1",
               TMPDIR=str(tmp / "tmpdir"), FW_READER_IPC=str(ipc))
    if tpu:
        env.update(KERAS_BACKEND="jax", FW_READER_SITE=".site",
                   FW_READER_TF=os.pathsep.join(map(str, hidden_tf)))
    # the stand-ins work before anything runs: Colab's module, no network, the wheel
    probe = ("import socket, sys, fenwicks_lite\n"
             "try:\n    socket.create_connection(('example.org', 80), timeout=5)\n"
             "except OSError as e:\n    print('blocked:', e)\n"
             "print('google.colab' in sys.modules, fenwicks_lite.__file__)")
    check = subprocess.run([str(python), "-c", probe], cwd=tmp, env=env, capture_output=True,
                           text=True, timeout=120)
    assert not check.stderr and "blocked: " in check.stdout, check.stdout + check.stderr
    assert f"True {tmp / 'venv'}" in check.stdout, check.stdout
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    out = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={CELL_TIMEOUT}",
         "--rootdir", str(tmp / "chapters"), f"--junitxml={tmp / 'cells.xml'}",
         *map(str, notebooks)],
        cwd=tmp / "chapters", env=env, capture_output=True, text=True, timeout=3000)
    seconds = time.perf_counter() - t0
    print(f"\n{runtime}: {len(notebooks)} chapters in {seconds:.0f} s")
    for stem, t in _per_chapter(tmp / "cells.xml").items():
        print(f"  {stem:<22} {t:6.1f} s (cells only)")
    if out.returncode:
        logs = {p.name: p.read_text() for p in sorted(ipc.glob("*.stderr"))}
        died = [f"--- {name}\n{text[-1500:]}" for name, text in logs.items()
                if "Traceback" in text]
        pytest.fail(f"{runtime} pass failed:\n{out.stdout[:3000]}\n[...]\n{out.stdout[-5000:]}\n"
                    f"{out.stderr[-3000:]}\n"
                    f"kernels' stderr with a traceback:\n" + "\n".join(died[-3:]))
    asked = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    states = [json.loads(p.read_text()) for p in state.glob("*.json")]
    if os.environ.get(TIMES_ENV_VAR):  # only when asked: CI writes nothing
        record = times_record(runtime, tmp / "cells.xml", states, seconds,
                              load=(load_before, os.getloadavg()))
        print(f"  times written to {write_times(Path(os.environ[TIMES_ENV_VAR]), runtime, record)}")
    # (TensorFlow's autograph leaves its generated sources there, tiny and not ours)
    left = sorted(p.name for p in (tmp / "tmpdir").iterdir()
                  if not p.name.startswith("__autograph_generated_file"))
    return {"asked": asked, "states": states, "notebooks": notebooks, "seconds": seconds,
            "tmp_left": left, "venv": python.parent.parent,
            "folders": {nb.stem: sorted(p.name for p in nb.parent.iterdir()) for nb in notebooks},
            "kernels": len(list(ipc.glob("*.stderr")))}


def _per_chapter(junit: Path) -> dict[str, float]:
    """Seconds per chapter, summed over its cells (nbval's test cases), from pytest's JUnit XML."""
    import xml.etree.ElementTree as ET

    if not junit.is_file():
        return {}
    times: dict[str, float] = {}
    for case in ET.parse(junit).iter("testcase"):
        stem = case.get("classname", "").split(".")[0]
        times[stem] = times.get(stem, 0.0) + float(case.get("time", 0))
    return times


#: ``FENWICKS_LITE_READER_TIMES=<path>`` makes each pass write its seconds per chapter into
#: that JSON file (merged by pass: the CPU and TPU passes share it), the record that
#: `fw.report.chapter_minutes` reads (committed as fenwicks_lite/results/reader_times.json).
#: ``FENWICKS_LITE_READER_NOTE`` sets its note (e.g. that the machine was busy).
TIMES_ENV_VAR = "FENWICKS_LITE_READER_TIMES"
NOTE_ENV_VAR = "FENWICKS_LITE_READER_NOTE"

#: What each pass stands for, in the record.
SIMULATES = {
    "cpu": "Colab CPU runtime: Keras on TensorFlow, quick profile",
    "tpu": ("Colab TPU runtime (TPU-like pass): Keras on JAX, TensorFlow only where a "
            "chapter's setup cell installs tensorflow-cpu; run on this CPU, not on a TPU"),
}


def toc_stems() -> list[str]:
    """The pages of `_toc.yml`'s "Chapters" and "Appendix" parts: every page a reader runs
    (a chapter still written as Markdown included, so the record can say it is missing)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [Path(c["file"]).name for part in toc["parts"]
            if part.get("caption") in ("Chapters", "Appendix") for c in part["chapters"]]


def machine() -> dict:
    """This machine as the record names it: CPU model and the cores this process may use."""
    from fenwicks_lite import accel

    return {"cpu": accel.cpu_model(), "cores": accel.cpu_cores(), "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0]}


def _git_commit() -> dict:
    changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                              "--untracked-files=no"], capture_output=True, text=True,
                             timeout=60).stdout.strip()
    return {"git_commit": records.git_commit(), "tracked_changes": bool(changed)}


def times_record(runtime: str, junit: Path, states: list[dict], seconds: float,
                 load: tuple = ()) -> dict:
    """One pass's entry of the record: seconds per chapter (``cells_s``: nbval's times of its
    cells summed, from the JUnit XML, the first including the kernel's start; ``wall_s``: its
    kernel's process from its start to its last cell's end), the machine, the date, the commit
    and the library's version."""
    from importlib import metadata

    cells = _per_chapter(junit)
    wall = {Path(s["cwd"]).name: s["last_cell_end"] - s["started"] for s in states
            if "started" in s}
    backends = sorted({s["backend"] for s in states if s.get("backend")})
    chapters = {stem: {"cells_s": round(t, 1),
                       **({"wall_s": round(wall[stem], 1)} if stem in wall else {})}
                for stem, t in cells.items()}
    return {
        "simulates": SIMULATES[runtime],
        "backend": ", ".join(backends) or None,
        "profile": "quick",
        "chapters": chapters,
        "pass_wall_s": round(seconds, 1),
        "machine": {**machine(), **({"load_avg_1_5_15_before": [round(x, 2) for x in load[0]],
                                     "load_avg_1_5_15_after": [round(x, 2) for x in load[1]]}
                                    if load else {})},
        "date": records.now(),
        **_git_commit(),
        "fenwicks_lite": metadata.version("fenwicks_lite"),
    }


def write_times(path: Path, runtime: str, entry: dict) -> Path:
    """Merges one pass's `entry` into the record at `path` (a new record if there is none,
    or it is not one), keyed by its pass ("cpu" or "tpu")."""
    from fenwicks_lite import report

    record = {}
    if path.is_file():
        try:
            record = json.loads(path.read_text())
        except ValueError:
            record = {}
        if report._reader_times_problem(record):
            record = {}
    record.update(
        what=("Seconds per chapter of the book run as a reader runs it "
              "(tests/test_reader_runtime.py): the quick profile, from the installed wheel, "
              "network blocked, each chapter in its own kernel; cells_s sums nbval's times "
              "of its cells (the first includes starting the kernel), wall_s runs from the "
              "kernel process's start to its last cell's end (whole seconds at the start: "
              "Linux's boot time); minutes shown are wall_s"),
        profile="quick",
        note=os.environ.get(NOTE_ENV_VAR, record.get("note", "")),
        toc=toc_stems(),
    )
    record.setdefault("passes", {})[runtime] = entry
    record["chapters_measured"] = sorted({c for p in record["passes"].values()
                                          for c in p["chapters"]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


@pytest.mark.notebooks
@pytest.mark.parametrize("runtime", ["cpu", "tpu"])
def test_every_chapter_as_a_reader(runtime, wheel, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"reader-{runtime}")
    assert ROOT not in tmp.parents and not (tmp.parent / "shared").exists()
    r = _run(tmp, wheel, runtime)
    url = book.install_url()
    pip = [a for a in r["asked"] if "args" in a]
    by_chapter = {Path(a["cwd"]).name: a["args"] for a in pip}
    assert len(pip) == len(r["notebooks"]), pip  # one pip call per setup cell
    assert r["kernels"] == len(r["notebooks"]), r["kernels"]  # each over a Unix socket
    # Only chapter 1 (setup_gcs) asks a Colab reader to sign in to Google Cloud.
    signs_in = sorted({Path(a["cwd"]).name for a in r["asked"] if "auth" in a})
    assert set(signs_in) <= {"01_data_location"}, signs_in
    for nb in r["notebooks"]:
        tf_here = runtime == "tpu" and book.needs_tensorflow(nb)
        expected = ["install", "-q", url, *(["tensorflow-cpu"] if tf_here else [])]
        assert by_chapter.get(nb.stem) == expected, (nb.stem, by_chapter.get(nb.stem))
    ends = {Path(s["cwd"]).name: s for s in r["states"]}
    for nb in r["notebooks"]:
        end = ends[nb.stem]
        assert end["colab"] and Path(end["executable"]).parent.parent == r["venv"], end
        assert end["fenwicks_lite"].startswith(str(r["venv"])), f"{nb.stem}: not the wheel: {end}"
        if runtime == "tpu":
            assert end.get("backend", "jax") == "jax", f"{nb.stem}: Keras left JAX: {end}"
            assert end["tensorflow"] == book.needs_tensorflow(nb), (nb.stem, end)
    # a reader's disk keeps nothing of a chapter: each removes the folders it made, and
    # writes nothing beside the notebook (.site: this test's stand-in for pip's installs)
    assert r["tmp_left"] == [], f"left in the temporary folder: {r['tmp_left'][:20]}"
    for nb in r["notebooks"]:
        assert r["folders"][nb.stem] == sorted([".site", nb.name]), r["folders"][nb.stem]


def test_committed_results_are_found_in_the_package(monkeypatch, tmp_path):
    from fenwicks_lite import report

    monkeypatch.delenv(report.RESULTS_ENV_VAR, raising=False)
    folder = Path(report.__file__).parent / "results"
    assert report.committed_results() == sorted(folder.glob("full-seed*.json"))
    (tmp_path / "full-seed1.json").write_text("{}")
    (tmp_path / "quick-seed0.json").write_text("{}")
    monkeypatch.setenv(report.RESULTS_ENV_VAR, str(tmp_path))
    assert report.committed_results() == [tmp_path / "full-seed1.json"]
    monkeypatch.setenv(report.RESULTS_ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="set FENWICKS_LITE_RESULTS"):
        report.committed_results()


@pytest.mark.parametrize("tf_missing", [True, False])
def test_start_keeps_keras_on_jax_where_tensorflow_is_missing(tf_missing):
    """A Colab TPU runtime without KERAS_BACKEND: Keras would fail on its default backend."""
    import no_tensorflow

    code = (no_tensorflow.SOURCE if tf_missing else "") + textwrap.dedent("""
        import os
        from fenwicks_lite import book
        book._keras_on_jax_without_tensorflow()
        print(os.environ.get("KERAS_BACKEND"))
    """)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == (["jax"] if tf_missing else ["None"]), out.stderr[-2000:]


def test_times_record_from_the_junit_xml_and_the_kernels(tmp_path, monkeypatch):
    """What a pass writes under FENWICKS_LITE_READER_TIMES, from a small JUnit XML as nbval
    writes it and the kernels' start-up records; the two passes merge into one record that
    `fw.report.reader_times` accepts."""
    from fenwicks_lite import report

    xml = tmp_path / "cells.xml"
    xml.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="01_data_location.01_data_location.ipynb" name="Cell 0" time="1.25"/>'
        '<testcase classname="01_data_location.01_data_location.ipynb" name="Cell 1" time="2.5"/>'
        '<testcase classname="02_cifar10.02_cifar10.ipynb" name="Cell 0" time="2.0"/>'
        "</testsuite></testsuites>")
    states = [{"cwd": str(tmp_path / "01_data_location"), "started": 100.0,
               "last_cell_end": 130.0, "backend": "jax"},
              {"cwd": str(tmp_path / "02_cifar10"), "backend": "jax"}]  # no times: cells only
    entry = times_record("tpu", xml, states, 42.04, load=((1, 2, 3), (2, 3, 4)))
    assert entry["chapters"] == {"01_data_location": {"cells_s": 3.8, "wall_s": 30.0},
                                 "02_cifar10": {"cells_s": 2.0}}
    assert (entry["backend"], entry["profile"], entry["pass_wall_s"]) == ("jax", "quick", 42.0)
    assert entry["machine"]["cores"] >= 1 and entry["machine"]["cpu"]
    assert entry["machine"]["load_avg_1_5_15_after"] == [2, 3, 4]
    assert entry["fenwicks_lite"] and "git_commit" in entry and entry["date"].endswith("+00:00")
    monkeypatch.setenv(NOTE_ENV_VAR, "busy machine")
    path = write_times(tmp_path / "out" / "times.json", "tpu", entry)
    cpu = {**entry, "simulates": SIMULATES["cpu"], "backend": "tensorflow",
           "chapters": {"02_cifar10": {"cells_s": 90.0, "wall_s": 96.0}}}
    write_times(path, "cpu", cpu)
    record = report.reader_times(path)
    assert set(record["passes"]) == {"cpu", "tpu"} and record["note"] == "busy machine"
    assert record["toc"] == toc_stems() and "01_data_location" in record["toc"]
    assert record["chapters_measured"] == ["01_data_location", "02_cifar10"]
    minutes = report.reader_minutes(record)
    assert minutes["02_cifar10"] == {"cpu": 1.6, "tpu": 2.0 / 60}
    assert minutes["01_data_location"] == {"cpu": None, "tpu": 0.5}
    path.write_text("[]")  # not a record: the next pass starts a new one
    write_times(path, "cpu", cpu)
    assert set(report.reader_times(path)["passes"]) == {"cpu"}

