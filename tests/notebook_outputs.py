"""What a chapter's committed notebook printed, for the tests that recompute chapter 9's
and chapter 10's outputs from their records (test_report.py, test_fast.py)."""

from __future__ import annotations

import re


def printed(cell) -> str:
    """What a code cell printed: streams and plain-text results (not figures, not the
    folded library source)."""
    out = []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            out.append(o["text"])
        elif o["output_type"] in ("execute_result", "display_data"):
            if "text/plain" in o["data"] and not set(o["data"]) - {"text/plain"}:
                out.append(o["data"]["text/plain"])
    return "".join(out).rstrip("\n")


def committed_runtime(nb) -> tuple:
    """The device of the chapter's committed run (a CPU's `DeviceInfo`; None where it
    ran on an accelerator or was not executed) and its Keras backend, from the
    environment line the chapter's second code cell prints."""
    from fenwicks_lite.accel import DeviceInfo

    env = printed([c for c in nb["cells"] if c["cell_type"] == "code"][1])
    backend = re.search(r"backend (\w+)", env)
    cpu = re.search(r"^device: CPU, (.+)$", env, re.M)
    return (DeviceInfo("cpu", 1, cpu.group(1)) if cpu else None,
            backend.group(1) if backend else None)
