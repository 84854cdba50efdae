"""Diagnostics on stderr for commands that are not the linter (``fwc compile``):

    policy.fw:7:11: FW001 expected a port or port range after `tcp`
        allow tcp http-alt
                  ^~~~~~~~
        help: ...

Colour (rich) only when stderr is a terminal and ``NO_COLOR`` is not set, so logs, pipes
and editors get plain text.
"""

from __future__ import annotations

import os
import sys
from typing import Iterable, Mapping, TextIO

from ..diagnostics import Diagnostic, Severity
from ..source import SourceFile

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def excerpt(diagnostic: Diagnostic, sources: Mapping[str, SourceFile]) -> tuple[str, str] | None:
    """The source line and a caret line under the span (``^`` then ``~`` to its end)."""
    span = diagnostic.span
    source = sources.get(span.path)
    if source is None:
        try:
            source = SourceFile.read(span.path)
        except OSError:
            return None
    line = source.line(span.line)
    if not line and span.line > len(source.lines):
        return None
    col = max(span.col, 1)
    width = span.end_col - col if span.end_line == span.line and span.end_col > col else 1
    width = max(1, min(width, max(len(line) - col + 1, 1)))
    # Keep tabs in the lead so the caret lines up however the terminal expands them.
    lead = "".join(ch if ch == "\t" else " " for ch in line[:col - 1])
    return line, lead + "^" + "~" * (width - 1)


def format_plain(diagnostic: Diagnostic, sources: Mapping[str, SourceFile]) -> list[str]:
    s = diagnostic.span
    lines = [f"{s.path}:{s.line}:{s.col}: {diagnostic.code} {diagnostic.message}"]
    shown = excerpt(diagnostic, sources)
    if shown is not None:
        lines += ["    " + shown[0], "    " + shown[1]]
    for related in diagnostic.related:
        r = related.span
        lines.append(f"    {r.path}:{r.line}:{r.col}: note: {related.message}")
    if diagnostic.help:
        lines.append(f"    help: {diagnostic.help}")
    return lines


def summary(diagnostics: list[Diagnostic]) -> str | None:
    errors = sum(d.severity >= Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity == Severity.WARNING for d in diagnostics)
    if not errors and not warnings:
        return None
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    verdict = "nothing written" if errors else "compiled"
    return f"{', '.join(parts)}: {verdict}"


def print_diagnostics(diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile],
                      stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    ordered = sorted(diagnostics, key=lambda d: d.sort_key)
    if not ordered:
        return
    if use_colour(stream):
        _print_rich(ordered, sources, stream)
        return
    for diagnostic in ordered:
        stream.write("\n".join(format_plain(diagnostic, sources)) + "\n")
    closing = summary(ordered)
    if closing:
        stream.write(closing + "\n")


def _print_rich(ordered: list[Diagnostic], sources, stream: TextIO) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=True)
    for diagnostic in ordered:
        s = diagnostic.span
        head = Text()
        head.append(f"{s.path}:{s.line}:{s.col}: ", style="bold")
        head.append(diagnostic.code, style=_STYLE[diagnostic.severity])
        head.append(" " + diagnostic.message)
        console.print(head)
        shown = excerpt(diagnostic, sources)
        if shown is not None:
            console.print(Text("    " + shown[0]))
            console.print(Text("    " + shown[1], style=_STYLE[diagnostic.severity]))
        for related in diagnostic.related:
            r = related.span
            console.print(Text(f"    {r.path}:{r.line}:{r.col}: note: {related.message}",
                               style="dim"))
        if diagnostic.help:
            console.print(Text(f"    help: {diagnostic.help}", style="cyan"))
    closing = summary(ordered)
    if closing:
        console.print(Text(closing, style="bold"))
