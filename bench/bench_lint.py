#!/usr/bin/env python3
"""Time `fwc lint` (every check on) against `iptables-restore --test` on the same file.

Generates the Kubernetes node dump with ../shared/bench/gen_dump.py at each size (10k
and 100k rules by default), runs both tools in alternation, and prints the medians,
the ratio fwc / iptables-restore, fwc's growth from the smallest to the largest size
(linear would be the size ratio) and fwc's peak memory. fwc's bytecode is written
first, as a wheel install does.

Usage: python3 bench/bench_lint.py [--sizes 10000 100000] [--runs 3] [--workdir DIR]
Targets (issue 4): ratio <= 3.0 (stretch 1.0) and < 500 MB at 100k rules.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from _timing import SHARED, alternate, fwc_argv, in_scratch_netns, median, peak, precompile


def generate(size: int, workdir: Path) -> Path:
    path = workdir / f"k{size}.rules"
    if not path.exists():
        subprocess.run([sys.executable, str(SHARED / "bench" / "gen_dump.py"), str(size),
                        "-o", str(path)], check=True, stderr=subprocess.DEVNULL)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/fwc-bench"))
    args = ap.parse_args()
    if not shutil.which("iptables-restore") or not shutil.which("unshare"):
        sys.exit("bench_lint: iptables-restore and unshare are needed")
    args.workdir.mkdir(parents=True, exist_ok=True)
    precompile()
    times = {}
    print(f"{'rules':>8} {'fwc lint':>10} {'ipt-restore --test':>19} {'ratio':>7} {'fwc peak MB':>12}")
    for size in args.sizes:
        path = generate(size, args.workdir)
        results = alternate({
            "fwc": fwc_argv("lint", str(path), "--format", "concise", "--select", "ALL"),
            "iptables-restore": in_scratch_netns(["iptables-restore", "--test", str(path)]),
        }, args.runs)
        fwc, ipt = median(results["fwc"]), median(results["iptables-restore"])
        times[size] = fwc
        print(f"{size:>8} {fwc:>9.2f}s {ipt:>18.2f}s {fwc / ipt:>6.2f}x {peak(results['fwc']):>12.0f}")
    if len(times) > 1:
        small, large = min(times), max(times)
        print(f"fwc growth {small} -> {large} rules: {times[large] / times[small]:.1f}x "
              f"for {large / small:.0f}x the rules (linear: {large / small:.0f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
