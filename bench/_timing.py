"""Shared helpers for the benchmark scripts: timed child processes, alternating runs."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def bench_arguments(doc: str) -> argparse.Namespace:
    """The options every bench script takes: sizes, runs per size, where inputs go."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/fwc-bench"))
    return ap.parse_args()


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    returncode: int


def timed(argv: list[str], *, stdout=subprocess.DEVNULL) -> Run:
    """Run ``argv`` once; wall time and the child's peak memory (from wait4). Its
    standard error goes to a file: a pipe nobody reads would block a chatty child."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=errors)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            errors.seek(0)
            sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n"
                     f"{errors.read().decode(errors='replace')[-4000:]}")
    return Run(elapsed, usage.ru_maxrss / 1024, proc.returncode)


def alternate(commands: dict[str, list[str]], runs: int) -> dict[str, list[Run]]:
    """Run each command ``runs`` times, taking turns, so drifting machine load hits all
    of them alike."""
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            results[name].append(timed(argv))
    return results


def median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def peak(runs: list[Run]) -> float:
    return max(r.max_rss_mb for r in runs)


def in_scratch_netns(argv: list[str]) -> list[str]:
    """iptables-restore --test talks to the kernel: keep it in a throwaway namespace."""
    return ["unshare", "--net", *argv]


def fwc_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "fwc.cli", *args]


def precompile() -> None:
    """Write fwc's bytecode (__pycache__) as installing the wheel does: timed runs then
    measure fwc, not Python compiling its sources again on every start (which is what
    happens in a checkout when PYTHONDONTWRITEBYTECODE is set)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "fwc")],
                   check=True, stdout=subprocess.DEVNULL)


def compare(sizes: list[int], runs: int, commands, fwc_label: str, peer_label: str) -> None:
    """Run fwc and its peer in alternation at each size and print the table of medians,
    the ratio, fwc's peak memory and fwc's growth from the smallest to the largest size.

    ``commands(size)`` returns ``{"fwc": argv, "peer": argv}`` for one size.
    """
    precompile()
    times = {}
    print(f"{'rules':>8} {fwc_label:>12} {peer_label:>19} {'ratio':>7} {'fwc peak MB':>12}")
    for size in sizes:
        results = alternate(commands(size), runs)
        fwc, peer = median(results["fwc"]), median(results["peer"])
        times[size] = fwc
        print(f"{size:>8} {fwc:>11.2f}s {peer:>18.2f}s {fwc / peer:>6.2f}x {peak(results['fwc']):>12.0f}")
    if len(times) > 1:
        small, large = min(times), max(times)
        print(f"fwc growth {small} -> {large} rules: {times[large] / times[small]:.1f}x "
              f"for {large / small:.0f}x the rules (linear: {large / small:.0f}x)")
