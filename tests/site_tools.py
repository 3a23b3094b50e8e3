"""Building the book and looking at it in headless Chromium: shared by test_book.py and test_site.py."""

from __future__ import annotations

import os
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


#: Chromium flags that block every network request: DNS resolves nothing and all traffic goes to a closed
#: port, so a page works only with what the site ships (MathJax included).
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]

_HARNESS = """<!DOCTYPE html><html><body><script>
var pages = %s, results = {}, measure = (%s);
function next(i) {
  if (i === pages.length) {
    var out = document.createElement("pre");
    out.id = "fw-probe-result";
    out.textContent = JSON.stringify(results);
    document.body.appendChild(out);
    return;
  }
  var frame = document.createElement("iframe");
  frame.style.width = "%dpx";
  frame.style.height = "%dpx";
  frame.onload = function () {
    setTimeout(function () {
      try { results[pages[i]] = measure(frame.contentWindow, frame.contentDocument); }
      catch (e) { results[pages[i]] = {error: String(e)}; }
      frame.remove();
      next(i + 1);
    }, %d);
  };
  frame.src = pages[i];
  document.body.appendChild(frame);
}
next(0);
</script></body></html>"""


def measure(site: Path, pages: list[str], script: str, tmp_path: Path, width: int = 1280, height: int = 900,
            wait_ms: int = 2500) -> dict:
    """One Chromium run, offline, that loads each of `pages` (paths under `site`) in a `width` x `height`
    frame (the page's media queries see that width) and returns ``{page: script(window, document)}``: the
    JavaScript function `script` runs `wait_ms` of (virtual) time after the page's load event.
    """
    import html
    import json
    import re

    harness = site / f"_fw_measure_{os.getpid()}.html"  # one per process: xdist workers share the site
    harness.write_text(_HARNESS % (json.dumps(pages), script, width, height, wait_ms))
    budget = (wait_ms + 3000) * len(pages) + 10_000
    try:
        done = subprocess.run([chromium(), *flags(tmp_path), *OFFLINE, "--allow-file-access-from-files",
                               "--disable-web-security", f"--window-size={width + 50},{height + 50}",
                               f"--virtual-time-budget={budget}", "--dump-dom", harness.as_uri()],
                              capture_output=True, text=True, timeout=60 + budget // 1000 * 3)
    finally:
        harness.unlink(missing_ok=True)
    found = re.search(r'<pre id="fw-probe-result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the measuring page did not finish: {done.stdout[-1000:]} {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))
