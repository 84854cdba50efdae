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

import shutil
import subprocess
import sys
from pathlib import Path

from _timing import SHARED, bench_arguments, compare, fwc_argv, in_scratch_netns


def generate(size: int, workdir: Path) -> Path:
    path = workdir / f"k{size}.rules"
    if not path.exists():
        subprocess.run([sys.executable, str(SHARED / "bench" / "gen_dump.py"), str(size),
                        "-o", str(path)], check=True, stderr=subprocess.DEVNULL)
    return path


def main() -> int:
    args = bench_arguments(__doc__)
    if not shutil.which("iptables-restore") or not shutil.which("unshare"):
        sys.exit("bench_lint: iptables-restore and unshare are needed")
    args.workdir.mkdir(parents=True, exist_ok=True)
    compare(args.sizes, args.runs, lambda size: {
        "fwc": fwc_argv("lint", str(generate(size, args.workdir)), "--format", "concise",
                        "--select", "ALL"),
        "peer": in_scratch_netns(["iptables-restore", "--test", str(generate(size, args.workdir))]),
    }, "fwc lint", "ipt-restore --test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
