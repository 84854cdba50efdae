#!/usr/bin/env python3
"""Conformance of the rules-save reader with iptables 1.8.9, on the shared corpus.

1. ``iptables-t/cases.tsv``: every case is one rule in a minimal file. Of the cases
   ``iptables-restore --test`` accepted, at least 99 % must get no FW0xx error; of those
   it refused, at least 60 % must get one.
2. ``real/``: every file is read without a crash; a file the kernel loaded gets no FW0xx
   error; a file it refused gets an FW0xx error on the line iptables names (a missing
   ipset alone is not something a reader can see).

Usage: bench/conformance.py [CORPUS_DIR] [--verbose]   (default ../shared/corpus)
Exit status 0 when every criterion holds.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fwc.diagnostics import Severity  # noqa: E402
from fwc.parse.rules_save import read_rules  # noqa: E402

ACCEPT_TARGET = 0.99
REJECT_TARGET = 0.60


def fw0_errors(result) -> list:
    return [d for d in result.diagnostics
            if d.code.startswith("FW0") and d.severity is Severity.ERROR]


def case_text(row: dict) -> str:
    return f"*{row['table']}\n-A {row['chain']} {row['rule']}\nCOMMIT\n"


def run_cases(corpus: Path, verbose: bool) -> dict:
    path = corpus / "iptables-t" / "cases.tsv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    accepted = flagged_accepted = rejected = flagged_rejected = 0
    misses = []
    for row in rows:
        result = read_rules(case_text(row), "case.rules", family=int(row["family"]))
        errors = fw0_errors(result)
        if row["verified_here"] == "accept":
            accepted += 1
            if errors:
                flagged_accepted += 1
                misses.append(("false alarm", row, errors[0]))
        elif row["verified_here"] == "reject":
            rejected += 1
            if errors:
                flagged_rejected += 1
            else:
                misses.append(("missed", row, None))
    if verbose:
        for kind, row, diag in misses:
            detail = f"{diag.code} {diag.message}" if diag else row["error_here"][:100]
            print(f"  {kind}: [{row['family']} {row['table']} {row['chain']}] {row['rule']}  => {detail}")
    clean_rate = (accepted - flagged_accepted) / accepted if accepted else 1.0
    caught_rate = flagged_rejected / rejected if rejected else 1.0
    return {"accepted": accepted, "clean_rate": clean_rate, "rejected": rejected,
            "caught_rate": caught_rate}


def real_files(corpus: Path) -> list[dict]:
    """Rows of real/SOURCES.md: file, family, load outcome, expected line(s)."""
    rows = []
    text = (corpus / "real" / "SOURCES.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) < 15 or not cells[0].isdigit():
            continue
        name = cells[1].strip("`")
        rows.append({"file": name, "family": int(cells[7]), "load": cells[13].strip("*"),
                     "note": cells[14]})
    return rows


def expected_lines(row: dict, text: str) -> set[int] | None:
    """The lines an FW0xx error must be on; None when the refusal is out of a reader's
    sight (a set that does not exist)."""
    note = row["note"]
    if "doesn't exist" in note and "Set " in note:
        return None
    missing = re.search(r"Chain '([^']+)' does not exist", note)
    if missing:
        chain = re.escape(missing.group(1))
        pattern = re.compile(rf"(^|\s)-[jg]\s+{chain}(\s|$)")
        return {n for n, l in enumerate(text.split("\n"), 1) if pattern.search(l)}
    line = re.search(r"line (\d+)", note)
    return {int(line.group(1))} if line else set()


def run_real(corpus: Path, verbose: bool) -> tuple[int, list[str]]:
    failures = []
    rows = real_files(corpus)
    for row in rows:
        path = corpus / "real" / row["file"]
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            result = read_rules(text, str(path), family=row["family"])
        except Exception as exc:  # a crash is exactly what this script must catch
            failures.append(f"{row['file']}: crash {type(exc).__name__}: {exc}")
            continue
        errors = fw0_errors(result)
        if row["load"] == "accept":
            if errors:
                failures.append(f"{row['file']}: loaded by the kernel, but {errors[0].code} "
                                f"line {errors[0].span.line}: {errors[0].message}")
            continue
        wanted = expected_lines(row, text)
        if wanted is None:
            continue
        lines = {d.span.line for d in errors}
        if not lines & wanted:
            failures.append(f"{row['file']}: refused ({row['note'][-90:]}), expected an FW0xx "
                            f"error on line(s) {sorted(wanted)}, got {sorted(lines)}")
    if verbose:
        for failure in failures:
            print("  " + failure)
    return len(rows), failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"{corpus}: no corpus here", file=sys.stderr)
        return 2
    cases = run_cases(corpus, args.verbose)
    count, failures = run_real(corpus, args.verbose)
    print(f"iptables-t cases accepted by iptables: {cases['accepted']}, clean: "
          f"{cases['clean_rate']:.1%} (need >= {ACCEPT_TARGET:.0%})")
    print(f"iptables-t cases refused by iptables:  {cases['rejected']}, caught: "
          f"{cases['caught_rate']:.1%} (need >= {REJECT_TARGET:.0%})")
    print(f"real files: {count}, read without a crash and judged right: {count - len(failures)}")
    ok = (cases["clean_rate"] >= ACCEPT_TARGET and cases["caught_rate"] >= REJECT_TARGET
          and not failures)
    print("conformance: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
