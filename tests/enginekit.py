"""Helpers for the lint-engine tests: tiny documents built without a frontend, and
test-only checks registered for one test."""

from __future__ import annotations

import contextlib
from typing import Iterable

from fwc.checks.base import REGISTRY, Check, load_checks
from fwc.diagnostics import Diagnostic, Severity
from fwc.document import Comment, Document
from fwc.model import Rule, Ruleset, Table, Chain
from fwc.source import SourceFile, Span


def comments_of(path: str, text: str) -> tuple[Comment, ...]:
    """The ``#`` comments of ``text``, as a reader reports them (span starts at ``#``)."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        i = line.find("#")
        if i >= 0:
            out.append(Comment(Span(path, number, i + 1, number, len(line) + 1), line[i + 1:],
                               own_line=not line[:i].strip()))
    return tuple(out)


def document(text: str, *, path: str = "rules.v4", kind: str = "rules",
             diagnostics: Iterable[Diagnostic] = (), rule_comments: dict[int, str] | None = None
             ) -> Document:
    """A document whose ``rule_comments`` maps a line to that rule's -m comment text."""
    rules = tuple(Rule("INPUT", comment=c, span=Span(path, line, 1, line, 10))
                  for line, c in sorted((rule_comments or {}).items()))
    ruleset = Ruleset(4, (Table("filter", (Chain("INPUT", "ACCEPT", rules),)),), path)
    return Document(path, kind, SourceFile(path, text), rulesets=(ruleset,),
                    diagnostics=tuple(diagnostics), comments=comments_of(path, text))


def finding(code: str, line: int, col: int = 1, path: str = "rules.v4",
            severity: Severity = Severity.ERROR, message: str = "finding") -> Diagnostic:
    return Diagnostic(code, severity, Span(path, line, col, line, col + 1), message)


@contextlib.contextmanager
def registered(*classes_spec):
    """Register test-only checks for the duration of a ``with`` block.

    Each spec is ``(code, positions, severity)`` or a Check subclass body via ``run``.
    """
    load_checks()
    made = []
    try:
        for spec in classes_spec:
            made.append(_make(*spec))
        yield made
    finally:
        for cls in made:
            REGISTRY.pop(cls.code, None)


def _make(code: str, run, severity: Severity = Severity.WARNING, default_on: bool = True):
    def _run(self, ctx):
        if callable(run):
            yield from run(ctx)
        else:
            for line, col in run:
                yield Diagnostic(code, severity, Span(ctx.document.path, line, col, line, col + 1),
                                 f"{code} fired")

    return type(f"Test{code}", (Check,), {
        "__doc__": f"Test check {code}.", "code": code, "name": f"test-{code.lower()}",
        "severity": severity, "enabled_by_default": default_on, "run": _run,
        "__module__": __name__,
    })


def only_test_checks(**kw):
    """A config that runs only the test checks (FW98x) and the suppression stage (FW90x),
    so the real checks' findings on these hand-made documents stay out of the way."""
    from fwc.config import Config

    kw.setdefault("select", ("FW98", "FW90"))
    return Config(**kw)
