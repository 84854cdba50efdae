"""SARIF 2.1.0 (for code scanning): every check in ``tool.driver.rules`` with its id,
name, short and full description and help text; one result per finding."""

from __future__ import annotations

import functools
import json
from pathlib import PurePath
from typing import IO
from urllib.parse import quote

from .. import __version__
from ..checks.base import load_checks
from ..ruledoc import render, summary
from . import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rule(cls) -> dict:
    docs = cls.docs()
    full = " ".join((docs.get("What it does") or summary(cls)).split())
    return {
        "id": cls.code,
        "name": cls.name,
        "shortDescription": {"text": summary(cls) or cls.name},
        "fullDescription": {"text": full or cls.name},
        "help": {"text": render(cls), "markdown": render(cls)},
        "defaultConfiguration": {"level": _LEVEL[str(cls.severity)],
                                 "enabled": bool(cls.enabled_by_default)},
        "properties": {"tags": [cls.code[:3] + "xx"]},
    }


@functools.lru_cache(maxsize=4096)
def _uri(path: str) -> str:
    p = PurePath(path)
    if p.is_absolute():
        return "file://" + quote(p.as_posix())
    return quote(p.as_posix())


def _location(span, message: str | None = None, ident: int | None = None) -> dict:
    loc: dict = {"physicalLocation": {
        "artifactLocation": {"uri": _uri(span.path)},
        "region": {"startLine": span.line, "startColumn": span.col,
                   "endLine": span.end_line, "endColumn": span.end_col},
    }}
    if ident is not None:
        loc["id"] = ident
    if message:
        loc["message"] = {"text": message}
    return loc


def _result(d, index: dict[str, int]) -> dict:
    text = d.message if not d.help else f"{d.message}\nhelp: {d.help}"
    result = {
        "ruleId": d.code,
        "level": _LEVEL[str(d.severity)],
        "message": {"text": text},
        "locations": [_location(d.span)],
    }
    if d.code in index:
        result["ruleIndex"] = index[d.code]
    if d.related:
        result["relatedLocations"] = [_location(r.span, r.message, i)
                                      for i, r in enumerate(d.related)]
    return result


def document(report: Report) -> dict:
    checks = list(load_checks().values())
    index = {cls.code: i for i, cls in enumerate(checks)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "fwc", "version": __version__, "semanticVersion": __version__,
                "rules": [_rule(cls) for cls in checks],
            }},
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, index) for d in report.diagnostics],
        }],
    }


def write(report: Report, stream: IO[str]) -> None:
    # Compact, through json.dumps (C encoder): json.dump and indenting are pure Python
    # and slow on big reports; SARIF is read by tools.
    stream.write(json.dumps(document(report), ensure_ascii=False))
    stream.write("\n")
