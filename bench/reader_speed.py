#!/usr/bin/env python3
"""Speed of the iptables-save reader on a large dump.

Usage: bench/reader_speed.py [FILE | --rules N] [--full]

Without FILE, writes a kube-proxy-like dump of N rules (default 100 000) with
../shared/bench/gen_dump.py. Prints the reader's CPU time and lines per second; with
--full also the time of the reference path (every line through the full interpreter,
no shape templates). When `iptables-restore` and `unshare` are available, prints the
CPU time of `iptables-restore --test` on the same file, in a fresh network namespace.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fwc.parse.rules_save import read_rules  # noqa: E402


def dump_text(args) -> tuple[str, str]:
    if args.file:
        return args.file, Path(args.file).read_text(encoding="utf-8", errors="replace")
    gen = ROOT.parent / "shared" / "bench" / "gen_dump.py"
    text = subprocess.run([sys.executable, str(gen), str(args.rules)], capture_output=True,
                          text=True, check=True).stdout
    return f"gen_dump {args.rules}", text


def timed_read(text: str, name: str, shapes: bool) -> tuple[float, int]:
    start = time.process_time()
    result = read_rules(text, name, shapes=shapes)
    elapsed = time.process_time() - start
    return elapsed, sum(1 for _ in result.ruleset.rules())


def iptables_restore_cpu(text: str) -> float | None:
    if not (shutil.which("iptables-restore") and shutil.which("unshare")):
        return None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(["unshare", "-n", "iptables-restore", "--test"], input=text, text=True,
                          capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        return None
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?")
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="also time the reference path")
    args = parser.parse_args()
    name, text = dump_text(args)
    lines = text.count("\n")
    elapsed, rules = timed_read(text, name, shapes=True)
    print(f"{name}: {lines} lines, {rules} rules")
    print(f"reader: {elapsed:.2f} s CPU, {lines / elapsed:,.0f} lines/s")
    if args.full:
        full, _ = timed_read(text, name, shapes=False)
        print(f"reference path (no shape templates): {full:.2f} s CPU, {lines / full:,.0f} lines/s")
    ipt = iptables_restore_cpu(text)
    if ipt is not None:
        print(f"iptables-restore --test: {ipt:.2f} s CPU (reader is {elapsed / ipt:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
