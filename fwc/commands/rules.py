"""``fwc rules`` (the table of checks) and ``fwc rule CODE`` (one check's page)."""

from __future__ import annotations

import argparse
import difflib
import json
import sys

from ..checks.base import Check, load_checks
from ..diagnostics import FwcError
from ..ruledoc import default_state, render, summary

NAMES = ("rules", "rule")
HELP = "List the checks (rules) or show one check's documentation (rule CODE)."


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "rule":
        parser.add_argument("code", metavar="CODE", help="a check code (FW102) or name")
        parser.set_defaults(_rules_command="rule")
    else:
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.set_defaults(_rules_command="rules")


def run(args: argparse.Namespace) -> int:
    if args._rules_command == "rule":
        _print_page(render(find_check(args.code)))
        return 0
    checks = list(load_checks().values())
    if args.format == "json":
        json.dump([_row(c) for c in checks], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(checks)
    return 0


def find_check(wanted: str) -> type[Check]:
    registry = load_checks()
    key = wanted.strip()
    if key.upper() in registry:
        return registry[key.upper()]
    by_name = {cls.name: cls for cls in registry.values()}
    if key.lower() in by_name:
        return by_name[key.lower()]
    close = difflib.get_close_matches(key.upper(), list(registry), n=1, cutoff=0.6) \
        or difflib.get_close_matches(key.lower(), list(by_name), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else "; `fwc rules` lists them all"
    raise FwcError(f"unknown check {wanted!r}{hint}")


def _print_page(markdown: str) -> None:
    """Rendered Markdown on a terminal; the Markdown text itself otherwise (pipes, files)."""
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(highlight=False)
    if console.is_terminal:
        console.print(Markdown(markdown))
    else:
        sys.stdout.write(markdown)


def _row(cls: type[Check]) -> dict:
    return {"code": cls.code, "name": cls.name, "severity": str(cls.severity),
            "default": default_state(cls), "summary": summary(cls)}


def _print_table(checks: list[type[Check]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        for cls in checks:
            r = _row(cls)
            print(f"{r['code']}  {r['name']:<34} {r['severity']:<8} {r['default']:<4} {r['summary']}")
        return
    table = Table("code", "name", "severity", "default", "summary", show_lines=False)
    for cls in checks:
        r = _row(cls)
        table.add_row(r["code"], r["name"], r["severity"], r["default"], r["summary"])
    console.print(table)
