"""Human output: the finding, the source line with a caret under the span, help, a
pointer to the check's page, and the related spans the same way. Colour only on a
terminal, never under ``NO_COLOR``."""

from __future__ import annotations

import os
from typing import IO

from rich.console import Console
from rich.text import Text

from . import Report, check_name

_SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}

# A line is a list of (text, style or None) segments; plain output just joins them.
Line = list[tuple[str, str | None]]


def make_console(stream: IO[str]) -> Console:
    return Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=True,
                   no_color=True if os.environ.get("NO_COLOR") else None)


def write(report: Report, stream: IO[str]) -> None:
    console = make_console(stream)
    if not console.is_terminal:
        # Nothing to style: plain strings without rich's renderer (fast for big reports).
        for d in report.diagnostics:
            stream.write("".join(_plain(line) + "\n" for line in finding(d, report.sources)))
        stream.write(_plain(summary(report)) + "\n")
        return
    for d in report.diagnostics:
        console.print(Text("\n").join(_styled(line) for line in finding(d, report.sources)))
    console.print(_styled(summary(report)))


def _plain(line: Line) -> str:
    return "".join(text for text, _ in line)


def _styled(line: Line) -> Text:
    out = Text()
    for text, style in line:
        out.append(text, style=style)
    return out


def finding(d, sources) -> list[Line]:
    s = d.span
    sev = str(d.severity)
    style = _SEVERITY_STYLE[sev]
    out: list[Line] = [[(f"{s.path}:{s.line}:{s.col}: ", "bold"), (d.code, style),
                        (f" [{sev}] ", style), (d.message, None)]]
    # One gutter width for the finding and its related lines, so the bars line up.
    width = len(str(max([s.line, *(r.span.line for r in d.related)])))
    out += excerpt(s, sources.get(s.path), style, width)
    for r in d.related:
        rs = r.span
        out.append([("  note: ", "bold blue"), (f"{rs.path}:{rs.line}:{rs.col}: {r.message}", None)])
        out += excerpt(rs, sources.get(rs.path), "bold blue", width)
    if d.help:
        out.append([("  help: ", "bold green"), (d.help, None)])
    if d.witness:
        out.append([("  witness: ", "bold"), (d.witness, None)])
    name = check_name(d.code)
    out.append([(f"  see: fwc rule {d.code}" + (f" ({name})" if name else ""), "dim")])
    out.append([])
    return out


def excerpt(span, source, style: str, width: int = 0) -> list[Line]:
    """The span's first line and a caret under it (tabs shown as one space each)."""
    if source is None or not 1 <= span.line <= len(source.lines):
        return []
    text = source.line(span.line).replace("\t", " ")
    start = max(span.col, 1)
    end = span.end_col if span.end_line == span.line else len(text) + 1
    carets = max(end - start, 1)
    number = str(span.line).rjust(width)
    gutter = " " * len(number)
    return [[(f"  {number} | ", "dim"), (text, None)],
            [(f"  {gutter} | ", "dim"), (" " * (start - 1) + "^" * carets, style)]]


def summary(report: Report) -> Line:
    counts = {"error": 0, "warning": 0, "info": 0}
    for d in report.diagnostics:
        counts[str(d.severity)] += 1
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    total = sum(counts.values())
    if not total:
        return [(f"No problems found in {files}.", "bold green")]
    parts = [f"{n} {name if n == 1 or name == 'info' else name + 's'}"
             for name, n in counts.items() if n]
    return [(f"Found {total} problem{'s' if total != 1 else ''} "
             f"({', '.join(parts)}) in {files}.", "bold")]
