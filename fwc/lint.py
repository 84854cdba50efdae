"""The lint pipeline: checks -> suppressions -> configuration -> sorted findings.

``lint_document(doc, config)`` is the one entry point: ``fwc lint`` calls it per file and
``fwc compile`` calls it as its gate (errors stop the compile, warnings are printed).
The reader's own findings (FW0xx) are included. A check that crashes does not stop the
run: it becomes one error finding saying so, and the other checks' findings stand.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from . import suppress
from .checks.base import Check, Context, load_checks
from .config import Config, ConfigResolver
from .diagnostics import Diagnostic, Severity
from .document import Document
from .load import load_document
from .source import Span

# Produced by the suppression stage, not by running a check.
SUPPRESSION_CODES = frozenset({"FW900", "FW901", "FW902"})


@dataclass(frozen=True)
class LintResult:
    document: Document
    diagnostics: list[Diagnostic]


def lint_document(doc: Document, config: Config | None = None) -> list[Diagnostic]:
    """Every enabled finding for ``doc``, suppressions and config applied, sorted."""
    config = config or Config()
    registry = load_checks()
    found, crashes = run_checks(doc, config, registry)
    crashed = {d.code for d in crashes}

    def could_report(code: str, path: str) -> bool:
        # A directive for a check that crashed or is turned off cannot be judged unused.
        return code not in crashed and config.is_enabled_for(code, path)

    kept, directive_findings = suppress.apply(doc, found, registry, enabled=could_report)
    result = config.apply(kept + directive_findings) + crashes
    return sort_diagnostics(result)


def lint_path(path: str | Path, *, config: Config | None = None, family: int | None = None,
              text: str | None = None) -> LintResult:
    """Load and lint one file; its config is found by walking up unless given."""
    if config is None:
        config = ConfigResolver().for_path(path)
    doc = load_document(path, family=family, text=text)
    return LintResult(doc, lint_document(doc, config))


def run_checks(doc: Document, config: Config, registry: dict[str, type[Check]]
               ) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """The reader's findings plus every applicable enabled check's; crashes apart."""
    ctx = Context(doc, config.settings)
    found = list(doc.diagnostics)
    crashes: list[Diagnostic] = []
    for code, cls in registry.items():
        if (cls.emitted_by_reader or code in SUPPRESSION_CODES
                or doc.kind not in cls.applies_to or not config.is_enabled(code)):
            continue
        try:
            findings = list(cls().run(ctx))  # all or nothing: a crash drops partial output
        except Exception as exc:  # one broken check must not hide the others' findings
            crashes.append(internal_error(cls, doc, exc))
            continue
        found.extend(findings)
    return found, crashes


def internal_error(cls: type[Check], doc: Document, exc: BaseException) -> Diagnostic:
    where = _innermost_frame(exc)
    return Diagnostic(
        cls.code, Severity.ERROR, Span.point(doc.path, 1, 1),
        f"internal error: check {cls.code} ({cls.name}) failed on this file with "
        f"{type(exc).__name__}: {exc}",
        help=f"this is a bug in fwc ({where}); the other checks still ran. "
             f"Skip this check with --ignore {cls.code} and please report it")


def _innermost_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown location"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position then code; exact duplicates removed (deterministic output)."""
    unique: dict = {}
    for d in diagnostics:
        try:
            unique.setdefault(d, None)
        except TypeError:  # a check built an unhashable field (a list): keep it, undeduplicated
            unique.setdefault(id(d), d)
    items = [d if v is None else v for d, v in unique.items()]
    return sorted(items, key=_order)


def _order(d: Diagnostic) -> tuple:
    s = d.span
    return (s.path, s.line, s.col, d.code, d.message, -d.severity, s.end_line, s.end_col)


def exit_code(diagnostics: Iterable[Diagnostic], fail_on: Severity) -> int:
    """1 when any finding is at or above ``fail_on``, else 0."""
    return 1 if any(d.severity >= fail_on for d in diagnostics) else 0
