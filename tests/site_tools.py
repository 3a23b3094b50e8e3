"""Building the book and looking at it in headless Chromium: shared by test_book.py and test_site.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

JB = Path(sys.executable).parent / "jupyter-book"


def build(source: Path, out: Path) -> Path:
    """`jupyter-book build -W -n` of `source` into `out`/_build/html (warnings fail it); returns the html dir."""
    cmd = [str(JB), "build", str(source), "-W", "-n", "--keep-going"]
    if out != source:
        cmd += ["--path-output", str(out)]
    done = subprocess.run(cmd, cwd=source, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, "jupyter-book build -W failed:\n" + (done.stdout + done.stderr)[-6000:]
    return out / "_build" / "html"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is needed for this test: `make chromium` installs it"
    return found


def flags(tmp_path: Path) -> list[str]:
    """Headless, and no background connections (this machine's network is closed), a fresh profile."""
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars"]


def screenshot(url: str, shot: Path, tmp_path: Path, window: str) -> None:
    """Saves Chromium's picture of `url` to `shot` and fails if there is none or it is (nearly) blank."""
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    subprocess.run([chromium(), *flags(tmp_path), f"--window-size={window}", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 20_000, "no screenshot, or a blank one"
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.std() > 0.05, "the screenshot is (nearly) one colour: the page did not render"
