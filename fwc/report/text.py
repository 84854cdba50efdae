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


def make_console(stream: IO[str]) -> Console:
    return Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=True,
                   no_color=True if os.environ.get("NO_COLOR") else None)


def write(report: Report, stream: IO[str]) -> None:
    console = make_console(stream)
    for d in report.diagnostics:
        for text in finding(d, report.sources):
            console.print(text)
    console.print(summary(report))


def finding(d, sources) -> list[Text]:
    s = d.span
    sev = str(d.severity)
    head = Text()
    head.append(f"{s.path}:{s.line}:{s.col}: ", style="bold")
    head.append(d.code, style=_SEVERITY_STYLE[sev])
    head.append(f" [{sev}] ", style=_SEVERITY_STYLE[sev])
    head.append(d.message)
    out = [head]
    # One gutter width for the finding and its related lines, so the bars line up.
    width = len(str(max([s.line, *(r.span.line for r in d.related)])))
    out += excerpt(s, sources.get(s.path), _SEVERITY_STYLE[sev], width)
    for r in d.related:
        rs = r.span
        note = Text("  note: ", style="bold blue")
        note.append(f"{rs.path}:{rs.line}:{rs.col}: {r.message}")
        out.append(note)
        out += excerpt(rs, sources.get(rs.path), "bold blue", width)
    if d.help:
        out.append(Text("  help: ", style="bold green") + Text(d.help))
    if d.witness:
        out.append(Text("  witness: ", style="bold") + Text(d.witness))
    name = check_name(d.code)
    out.append(Text(f"  see: fwc rule {d.code}" + (f" ({name})" if name else ""), style="dim"))
    out.append(Text(""))
    return out


def excerpt(span, source, style: str, width: int = 0) -> list[Text]:
    """The span's first line and a caret under it (tabs shown as one space each)."""
    if source is None or not 1 <= span.line <= len(source.lines):
        return []
    text = source.line(span.line).replace("\t", " ")
    start = max(span.col, 1)
    end = span.end_col if span.end_line == span.line else len(text) + 1
    carets = max(end - start, 1)
    number = str(span.line).rjust(width)
    gutter = " " * len(number)
    code = Text(f"  {number} | ", style="dim") + Text(text)
    caret = Text(f"  {gutter} | ", style="dim") + Text(" " * (start - 1) + "^" * carets, style=style)
    return [code, caret]


def summary(report: Report) -> Text:
    counts = {"error": 0, "warning": 0, "info": 0}
    for d in report.diagnostics:
        counts[str(d.severity)] += 1
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    total = sum(counts.values())
    if not total:
        return Text(f"No problems found in {files}.", style="bold green")
    parts = [f"{n} {name if n == 1 or name == 'info' else name + 's'}"
             for name, n in counts.items() if n]
    return Text(f"Found {total} problem{'s' if total != 1 else ''} "
                f"({', '.join(parts)}) in {files}.", style="bold")
