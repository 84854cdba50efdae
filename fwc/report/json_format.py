"""The JSON contract other tools read: ``{"version": 1, "diagnostics": [...]}``.

Keys of a diagnostic: code, name, severity, path, line, column, end_line, end_column,
message, related[{path, line, column, end_line, end_column, message}], plus help,
witness and fix (null when absent). Keys may be added in a later version, never removed.
"""

from __future__ import annotations

import json
from typing import IO

from . import Report, check_name

VERSION = 1


def _position(span) -> dict:
    return {"path": span.path, "line": span.line, "column": span.col,
            "end_line": span.end_line, "end_column": span.end_col}


def diagnostic_dict(d) -> dict:
    return {
        "code": d.code,
        "name": check_name(d.code),
        "severity": str(d.severity),
        **_position(d.span),
        "message": d.message,
        "related": [{**_position(r.span), "message": r.message} for r in d.related],
        "help": d.help,
        "witness": d.witness,
        "fix": None if d.fix is None else {
            "description": d.fix.description,
            "safe": d.fix.safe,
            "edits": [{**_position(e.span), "text": e.text} for e in d.fix.edits],
        },
    }


def document(report: Report) -> dict:
    return {"version": VERSION, "diagnostics": [diagnostic_dict(d) for d in report.diagnostics]}


def write(report: Report, stream: IO[str]) -> None:
    """One diagnostic per line: readable, diffable, and written by json's fast encoder."""
    rows = [json.dumps(diagnostic_dict(d), ensure_ascii=False) for d in report.diagnostics]
    if not rows:
        stream.write(f'{{"version": {VERSION}, "diagnostics": []}}\n')
        return
    stream.write(f'{{"version": {VERSION}, "diagnostics": [\n  ' + ",\n  ".join(rows) + "\n]}\n")
