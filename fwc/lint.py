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


def lint_document(doc: Document, config: Config | None = None, *,
                  min_severity: Severity | None = None) -> list[Diagnostic]:
    """Every enabled finding for ``doc``, suppressions and config applied, sorted.

    With ``min_severity`` the caller shows only findings at or above it (``fwc compile``
    hides info): checks whose findings would all be below it after the configuration's
    severity overrides are not run, unless a suppression directive names them (so
    whether that directive is used is still known). Findings below it may still be in
    the result (the reader's, the suppression stage's).
    """
    config = config or Config()
    registry = load_checks()
    skipped = below_severity(doc, config, registry, min_severity)
    found, crashes = run_checks(doc, config, registry, skip=skipped)
    crashed = {d.code for d in crashes}

    def could_report(code: str, path: str) -> bool:
        # A directive for a check that crashed, is turned off or was not run cannot be
        # judged unused.
        return code not in crashed and code not in skipped and config.is_enabled_for(code, path)

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


def below_severity(doc: Document, config: Config, registry: dict[str, type[Check]],
                   min_severity: Severity | None) -> frozenset[str]:
    """The checks that cannot report at or above ``min_severity`` (every finding of a
    check has its class's severity, or the configuration's override for its code), less
    those a suppression directive in ``doc`` names."""
    if min_severity is None:
        return frozenset()
    quiet = {code for code, cls in registry.items()
             if config.severity.get(code, cls.severity) < min_severity}
    if not quiet:
        return frozenset()
    return frozenset(quiet - named_in_directives(doc, registry))


def named_in_directives(doc: Document, known) -> set[str]:
    """Every code some suppression directive of ``doc`` names."""
    return {code for directive in suppress.collect(doc, known).all() for code in directive.codes}


def run_checks(doc: Document, config: Config, registry: dict[str, type[Check]], *,
               skip: frozenset[str] = frozenset()
               ) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """The reader's findings plus every applicable enabled check's (but those in
    ``skip``); crashes apart."""
    ctx = Context(doc, config.settings,
                  skipped=frozenset(skip | {c for c in registry if not config.is_enabled(c)}))
    found = list(doc.diagnostics)
    crashes: list[Diagnostic] = []
    for code, cls in registry.items():
        if (cls.emitted_by_reader or code in SUPPRESSION_CODES or code in skip
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
