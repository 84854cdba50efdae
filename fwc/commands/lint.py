"""``fwc lint FILE...``: rules-save files, policies and provisioning files, in one process.

Exit 0 when nothing is at or above ``--fail-on`` (default: the config's, else warning),
1 when something is, 2 for usage, configuration or I/O errors (other files are still
linted and reported).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass, field

from ..config import ConfigResolver
from ..diagnostics import Diagnostic, FwcError
from ..lint import LintResult, exit_code, lint_document, sort_diagnostics
from ..load import load_document
from ..report import FORMATS, Report, resolve_format, write_report
from ..source import SourceFile

NAME = "lint"
HELP = "Check rules files, policies and provisioning files for problems."
PROGRESS_MIN_FILES = 20
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="iptables-save file, policy (*.fw), cloud-config or Butane file; "
                             "- reads standard input")
    parser.add_argument("--format", choices=FORMATS, default="auto",
                        help="output format (default: auto: github under GitHub Actions, "
                             "text on a terminal, concise otherwise)")
    parser.add_argument("--family", type=int, choices=(4, 6),
                        help="address family of rules files whose content and name do not say")
    parser.add_argument("--fail-on", choices=("error", "warning", "info"),
                        help="lowest severity that makes the exit code 1 (default: warning)")
    parser.add_argument("--select", action="append", metavar="CODES",
                        help="only these codes or prefixes, comma-separated (replaces the config's)")
    parser.add_argument("--extend-select", action="append", default=[], metavar="CODES",
                        help="enable these codes in addition (e.g. FW405)")
    parser.add_argument("--ignore", action="append", default=[], metavar="CODES",
                        help="skip these codes or prefixes, comma-separated")
    parser.add_argument("--config", metavar="PATH",
                        help="use this .fwc.toml or pyproject.toml instead of searching for one")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE")
    parser.add_argument("--fix", action="store_true",
                        help="apply the safe fixes in place, then report what is left")
    parser.add_argument("--diff", action="store_true",
                        help="print the safe fixes as a unified diff instead of writing them "
                             "(exit 1 when there is one)")


@dataclass
class Run:
    """The outcome of linting every file of one invocation."""

    results: list[tuple[LintResult, object]] = field(default_factory=list)  # (result, config)
    errors: list[str] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return sort_diagnostics(d for r, _ in self.results for d in r.diagnostics)

    def sources(self) -> dict[str, SourceFile]:
        out: dict[str, SourceFile] = {}
        for r, _ in self.results:
            doc = r.document
            out.update(doc.sources)
            out[doc.path] = doc.source
        return out


def run(args: argparse.Namespace) -> int:
    resolver = ConfigResolver(args.config)
    outcome = lint_files(args, resolver)
    if args.fix or args.diff:
        from ..fixes import fix_results, report_fixes

        outcome.results, fixed = fix_results(outcome.results, write=not args.diff)
        if args.diff:
            return report_fixes(fixed, outcome.errors, diff=True)
        report_fixes(fixed, outcome.errors, diff=False)
    fmt = resolve_format(args.format, sys.stdout if not args.output else None)
    report = Report(outcome.diagnostics, outcome.sources(), files=len(outcome.results))
    emit(fmt, report, args.output)
    for message in outcome.errors:
        print(f"fwc: error: {message}", file=sys.stderr)
    if outcome.errors:
        return EXIT_USAGE
    return max((exit_code(r.diagnostics, cfg.fail_on) for r, cfg in outcome.results), default=0)


def lint_files(args: argparse.Namespace, resolver: ConfigResolver) -> Run:
    outcome = Run()
    fail_on = args.fail_on
    select = _split(args.select) if args.select else None
    with _progress(args, len(args.files)) as advance:
        for path in args.files:
            config = resolver.for_path(path).with_overrides(
                select=select, extend_select=_split(args.extend_select),
                ignore=_split(args.ignore), fail_on=fail_on)
            try:
                doc = _load(path, args.family)
            except FwcError as exc:
                outcome.errors.append(str(exc))
            except Exception as exc:  # a reader bug: say so for this file, lint the rest
                outcome.errors.append(f"{path}: internal error while reading "
                                      f"({type(exc).__name__}: {exc}); this is a bug in fwc")
            else:
                found = lint_document(doc, config)
                # Keep the text (report, --fix) and extras, not the rulesets: a thousand
                # files stay small.
                slim = dataclasses.replace(doc, rulesets=())
                outcome.results.append((LintResult(slim, found), config))
            advance()
    return outcome


def _load(path: str, family: int | None):
    if path == "-":
        return load_document("<stdin>", family=family, text=sys.stdin.read())
    return load_document(path, family=family)


def _split(values: list[str] | None) -> list[str]:
    return [code for value in values or () for code in value.split(",") if code.strip()]


def emit(fmt: str, report: Report, output: str | None) -> None:
    if output is None:
        write_report(fmt, report, sys.stdout)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            write_report(fmt, report, fh)
    except OSError as exc:
        raise FwcError(f"{output}: cannot write report: {exc.strerror or exc}") from None


class _progress:
    """A rich progress bar on stderr for long text-format runs on a terminal."""

    def __init__(self, args: argparse.Namespace, total: int):
        self._bar = None
        fmt = resolve_format(args.format, sys.stdout if not args.output else None)
        if total >= PROGRESS_MIN_FILES and fmt == "text":
            from rich.console import Console
            from rich.progress import Progress

            console = Console(stderr=True)
            if console.is_terminal:
                self._bar = Progress(console=console, transient=True)
        self._task = None
        self._total = total

    def __enter__(self):
        if self._bar is None:
            return lambda: None
        self._bar.start()
        self._task = self._bar.add_task("Linting", total=self._total)
        return lambda: self._bar.advance(self._task)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
        return False
