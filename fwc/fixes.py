"""Applying the fixes diagnostics carry (``fwc lint --fix`` / ``--diff``).

A :class:`~fwc.diagnostics.Fix` is a set of text edits by span. Only fixes marked safe are
applied, each one whole or not at all: a fix whose edits overlap an edit already taken in
this pass waits for the next pass, after the file has been linted again (ruff's loop).
Passes repeat until nothing changes, so running ``--fix`` twice changes nothing more.
Edits that fall where positions are not exact (rules inside a quoted or encoded YAML
scalar, whose findings all point at the scalar's key) are never applied.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable

from .diagnostics import Diagnostic, Fix
from .document import Document
from .fsutil import write_atomic
from .source import Span

MAX_PASSES = 10


@dataclass(frozen=True)
class FixOutcome:
    path: str
    original: str
    fixed: str
    applied: int  # how many findings were fixed

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        return unified_diff(self.path, self.original, self.fixed)


def unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def fixable(diagnostics: Iterable[Diagnostic], path: str, document: Document | None = None) -> list[Diagnostic]:
    """The findings whose fix is safe and edits only ``path`` where positions are exact."""
    blocked = unmapped_regions(document) if document is not None else ()
    return [d for d in diagnostics
            if d.fix is not None and d.fix.safe and d.fix.edits
            and all(e.span.path == path and not _inside_any(e.span, blocked) for e in d.fix.edits)]


def unmapped_regions(document: Document) -> tuple[Span, ...]:
    view = document.extra.get("provisioning") if document.extra else None
    return tuple(getattr(view, "unmapped", ()) or ())


def _inside_any(span: Span, regions: tuple[Span, ...]) -> bool:
    return any(r.line <= span.line <= r.end_line for r in regions)


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """``text`` with every fix whose edits do not overlap an earlier taken one applied;
    returns the new text and how many fixes were taken."""
    starts = _line_starts(text)
    taken: list[tuple[int, int, str]] = []
    count = 0
    for fix in fixes:
        ranges = [(_offset(starts, text, e.span.line, e.span.col),
                   _offset(starts, text, e.span.end_line, e.span.end_col), e.text) for e in fix.edits]
        if any(a > b for a, b, _ in ranges) or any(_overlaps(r, t) for r in ranges for t in taken):
            continue
        if _overlapping_within(ranges):
            continue
        taken.extend(ranges)
        count += 1
    out, last = [], 0
    for start, end, new in sorted(taken, key=lambda r: (r[0], r[1])):
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out), count


def _line_starts(text: str) -> list[int]:
    starts, pos = [0], 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def _offset(starts: list[int], text: str, line: int, col: int) -> int:
    """The offset of 1-based (line, col), clamped to the end of that line's text."""
    if line - 1 >= len(starts) - 1:
        return len(text)
    begin, end = starts[line - 1], starts[line]
    content_end = begin + len(text[begin:end].rstrip("\r\n"))
    return min(begin + col - 1, content_end)


def _overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    # Two insertions at one point also conflict: their order would be arbitrary.
    return a[0] < b[1] and b[0] < a[1] or a[0] == b[0]


def _overlapping_within(ranges: list[tuple[int, int, str]]) -> bool:
    return any(_overlaps(a, b) for i, a in enumerate(ranges) for b in ranges[i + 1:])


def fix_document(document: Document, diagnostics: list[Diagnostic], relint) -> tuple[FixOutcome, Document, list[Diagnostic]]:
    """Fix one file until no safe fix is left.

    ``relint(text) -> (document, diagnostics)`` lints the file's new text; the final
    document and its findings are returned with the outcome.
    """
    original = text = document.source.text
    applied = 0
    for _ in range(MAX_PASSES):
        todo = fixable(diagnostics, document.path, document)
        if not todo:
            break
        new_text, count = apply_fixes(text, [d.fix for d in sorted(todo, key=lambda d: d.sort_key)])
        if new_text == text:
            break
        text, applied = new_text, applied + count
        document, diagnostics = relint(text)
    return FixOutcome(document.path, original, text, applied), document, diagnostics


def write_fixed(outcome: FixOutcome) -> None:
    if outcome.changed:
        write_atomic(outcome.path, outcome.fixed)


def fix_results(results: list, *, write: bool) -> tuple[list, list[FixOutcome]]:
    """Fix every linted file of a ``fwc lint`` run.

    ``results`` holds ``(LintResult, Config)`` pairs; the returned list holds them
    again, re-linted after fixing, so the report shows what is left. Files are written
    (atomically) only when ``write`` is true; standard input never is.
    """
    from .lint import LintResult, lint_document
    from .load import load_document

    fixed, outcomes = [], []
    for result, config in results:
        doc = result.document

        def relint(text: str, _doc=doc, _config=config):
            new = load_document(_doc.path, text=text)
            return new, lint_document(new, _config)

        outcome, new_doc, diagnostics = fix_document(doc, list(result.diagnostics), relint)
        if outcome.changed:
            outcomes.append(outcome)
            if write and doc.path != "<stdin>":
                write_fixed(outcome)
        fixed.append((LintResult(new_doc, diagnostics), config))
    return fixed, outcomes


def report_fixes(outcomes: list[FixOutcome], errors: list[str], *, diff: bool) -> int:
    """Print the diffs (``--diff``) or a summary of what was fixed (``--fix``, on
    stderr so the report stays parseable). The exit code is for ``--diff``."""
    import sys

    if diff:
        for outcome in outcomes:
            sys.stdout.write(outcome.diff())
        for message in errors:
            print(f"fwc: error: {message}", file=sys.stderr)
        count = sum(o.applied for o in outcomes)
        print(f"{count} fix(es) would be applied to {len(outcomes)} file(s)", file=sys.stderr)
        return 2 if errors else (1 if outcomes else 0)
    if outcomes:
        count = sum(o.applied for o in outcomes)
        print(f"fixed {count} finding(s) in {len(outcomes)} file(s)", file=sys.stderr)
    return 0
