"""Wall time of the whole check (bin/test) next to what one render of prod costs.

    python3 benchmarks/suite.py [--runs N] [-- extra bin/test arguments]

The suite runs as CI runs it (``bash bin/test -q``, lint included) in a fresh process each time, after
the virtualenv is in place, so no run pays for an install. The render is timed twice: cold, a new
``python -m tools.plan render --stack prod`` process (SDK imports included), and warm, the second render
in one process. Best and median of N runs, wall-clock seconds on this machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("BROXIVA_VENV", ROOT / "venv"))
PYTHON = VENV / "bin" / "python"

_WARM = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from tools.plan import engine, stackconfig
root = Path({root!r})
engine.run(root, stackconfig.load(root, "prod"))  # imports and first-use costs
t = time.perf_counter()
engine.run(root, stackconfig.load(root, "prod"))
print(time.perf_counter() - t)
"""


def _ensure_venv() -> None:
    subprocess.run(["bash", "-c", 'source "$1"', "_venv.sh", str(ROOT / "bin" / "_venv.sh")], check=True, cwd=ROOT)


def _timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc


def _suite(extra: list[str]) -> tuple[float, str]:
    seconds, proc = _timed(["bash", str(ROOT / "bin" / "test"), "-q", *extra])
    lines = [line for line in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"bin/test failed (exit {proc.returncode})")
    counts = re.sub(r"\s+in [\d.]+s.*$", "", lines[-1].strip("= ")) if lines else "no count line"
    return seconds, counts


def _cold_render() -> float:
    seconds, proc = _timed([str(PYTHON), "-m", "tools.plan", "render", "--stack", "prod"])
    if proc.returncode != 0:
        raise SystemExit(f"render failed: {proc.stderr.strip()}")
    return seconds


def _warm_render() -> float:
    proc = subprocess.run(
        [str(PYTHON), "-c", _WARM.format(root=str(ROOT))], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="passed on to bin/test (after --)")
    args = parser.parse_args()
    _ensure_venv()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    rows: dict[str, list[float]] = {"suite (bin/test -q)": [], "prod render, cold process": [], "prod render, warm": []}
    counts = ""
    for run in range(1, args.runs + 1):
        seconds, counts = _suite(args.extra)
        rows["suite (bin/test -q)"].append(seconds)
        rows["prod render, cold process"].append(_cold_render())
        rows["prod render, warm"].append(_warm_render())
        print(f"run {run}/{args.runs}: suite {seconds:.1f} s ({counts})", flush=True)

    print()
    print(f"{'measurement':28} {'best s':>8} {'median s':>9} {'runs':>5}")
    for label, values in rows.items():
        print(f"{label:28} {min(values):8.2f} {statistics.median(values):9.2f} {len(values):5d}")
    suite = statistics.median(rows["suite (bin/test -q)"])
    cold = statistics.median(rows["prod render, cold process"])
    warm = statistics.median(rows["prod render, warm"])
    print(f"suite {suite:.1f} s ({counts}) | prod render cold {cold:.1f} s warm {warm:.1f} s | cores {cores}")


if __name__ == "__main__":
    main()
