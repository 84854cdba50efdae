#!/usr/bin/env python3
"""Time `fwc compile --emit iptables` against `ferm --remote` on the same policy.

Generates the host policy with ../shared/bench/gen_policy.py at each size (10k and 100k
rules by default; it writes policy.fw and ferm.conf with the same rules), runs both
compilers in alternation and prints the medians, the ratio fwc / ferm, fwc's growth and
peak memory. fwc's bytecode is written first, as a wheel install does.

Usage: python3 bench/bench_compile.py [--sizes 10000 100000] [--runs 3] [--workdir DIR]
Targets (issue 4): ratio <= 1.0 (stretch 0.25) at 100k rules.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from _timing import SHARED, bench_arguments, compare, fwc_argv


def generate(size: int, workdir: Path) -> Path:
    out = workdir / f"policy{size}"
    if not (out / "policy.fw").exists():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(SHARED / "bench" / "gen_policy.py"), str(size),
                        "-d", str(out)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return out


def main() -> int:
    args = bench_arguments(__doc__)
    if not shutil.which("ferm"):
        sys.exit("bench_compile: ferm is needed")
    args.workdir.mkdir(parents=True, exist_ok=True)
    compare(args.sizes, args.runs, lambda size: {
        "fwc": fwc_argv("compile", str(generate(size, args.workdir) / "policy.fw"), "--emit",
                        "iptables"),
        "peer": ["ferm", "--remote", str(generate(size, args.workdir) / "ferm.conf")],
    }, "fwc compile", "ferm --remote")
    return 0


if __name__ == "__main__":
    sys.exit(main())
