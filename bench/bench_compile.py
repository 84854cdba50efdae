#!/usr/bin/env python3
"""Time `fwc compile --emit iptables` against `ferm --remote` on the same policy.

Generates the host policy with ../shared/bench/gen_policy.py at each size (10k and 100k
rules by default; it writes policy.fw and ferm.conf with the same rules), runs both
compilers in alternation and prints the medians, the ratio fwc / ferm, fwc's growth and
peak memory.

Usage: python3 bench/bench_compile.py [--sizes 10000 100000] [--runs 3] [--workdir DIR]
Targets (issue 4): ratio <= 1.0 (stretch 0.25) at 100k rules.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from _timing import SHARED, alternate, fwc_argv, median, peak


def generate(size: int, workdir: Path) -> Path:
    out = workdir / f"policy{size}"
    if not (out / "policy.fw").exists():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(SHARED / "bench" / "gen_policy.py"), str(size),
                        "-d", str(out)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/fwc-bench"))
    args = ap.parse_args()
    if not shutil.which("ferm"):
        sys.exit("bench_compile: ferm is needed")
    args.workdir.mkdir(parents=True, exist_ok=True)
    times = {}
    print(f"{'rules':>8} {'fwc compile':>12} {'ferm --remote':>14} {'ratio':>7} {'fwc peak MB':>12}")
    for size in args.sizes:
        out = generate(size, args.workdir)
        results = alternate({
            "fwc": fwc_argv("compile", str(out / "policy.fw"), "--emit", "iptables"),
            "ferm": ["ferm", "--remote", str(out / "ferm.conf")],
        }, args.runs)
        fwc, ferm = median(results["fwc"]), median(results["ferm"])
        times[size] = fwc
        print(f"{size:>8} {fwc:>11.2f}s {ferm:>13.2f}s {fwc / ferm:>6.2f}x {peak(results['fwc']):>12.0f}")
    if len(times) > 1:
        small, large = min(times), max(times)
        print(f"fwc growth {small} -> {large} rules: {times[large] / times[small]:.1f}x "
              f"for {large / small:.0f}x the rules (linear: {large / small:.0f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
