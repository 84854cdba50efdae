"""A check's documentation: its summary, its rendered page and its example inputs.

The page is what ``fwc rule CODE`` prints and what SARIF carries as help text. The
examples are the indented blocks of the docstring's ``Example`` and ``Use instead``
sections; their header lines (``# kind: rules``, ``# family: 6``) say how to read them.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from .checks.base import Check

_HEADER = re.compile(r"^#\s*(kind|family)\s*:\s*(\S+)\s*$")
SECTION_ORDER = ("What it does", "Why is this bad?", "Example", "Use instead", "Exceptions",
                 "Options")
EXAMPLE_NAMES = {"rules": "rules.v4", "policy": "policy.fw", "cloud-config": "user-data",
                 "butane": "config.bu"}


@dataclass(frozen=True)
class Example:
    kind: str
    family: int | None
    text: str

    @property
    def file_name(self) -> str:
        if self.kind == "rules" and self.family == 6:
            return "rules.v6"
        return EXAMPLE_NAMES.get(self.kind, "rules.v4")


def summary(cls: type[Check]) -> str:
    """The docstring's first paragraph, on one line."""
    first = cls.docs().get("", "").strip().split("\n\n")[0]
    return " ".join(first.split())


def example(cls: type[Check], section: str) -> Example | None:
    """The input file in a docstring section (``Example`` or ``Use instead``)."""
    body = cls.docs().get(section)
    if not body:
        return None
    lines = body.splitlines()
    start = next((i for i, l in enumerate(lines) if _HEADER.match(l.strip())), None)
    if start is None:
        return None
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = []
    for l in lines[start:]:
        if l.strip() and len(l) - len(l.lstrip()) < indent:
            break
        block.append(l)
    text_lines = textwrap.dedent("\n".join(block)).strip("\n").splitlines()
    kind, family = "rules", None
    while text_lines and (m := _HEADER.match(text_lines[0].strip())):
        if m.group(1) == "kind":
            kind = m.group(2)
        else:
            family = int(m.group(2))
        text_lines.pop(0)
    return Example(kind, family, "\n".join(text_lines) + "\n")


def default_state(cls: type[Check]) -> str:
    return "on" if cls.enabled_by_default else "off"


def render(cls: type[Check]) -> str:
    """The check's page, in Markdown (readable as plain text too)."""
    docs = cls.docs()
    out = [f"# {cls.name} ({cls.code})", ""]
    kinds = ", ".join(sorted(cls.applies_to))
    out.append(f"Severity: {cls.severity}. Enabled by default: "
               f"{'yes' if cls.enabled_by_default else 'no'}. Runs on: {kinds}.")
    if cls.emitted_by_reader:
        out.append("Reported while reading the input.")
    if docs.get(""):
        out += ["", docs[""]]
    for title in SECTION_ORDER:
        body = docs.get(title)
        if not body:
            continue
        out += ["", f"## {title}", ""]
        out.append(_code_block(body) if title in ("Example", "Use instead") else body)
    if cls.options and "Options" not in docs:
        out += ["", "## Options", ""]
        out += [f"- `{k}` (default: `{v!r}`)" for k, v in sorted(cls.options.items())]
    return "\n".join(out).rstrip() + "\n"


def _code_block(body: str) -> str:
    """The example input becomes a fenced code block; prose around it stays."""
    lines = body.splitlines()
    start = next((i for i, l in enumerate(lines) if _HEADER.match(l.strip())), None)
    if start is None:
        return body
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start
    while end < len(lines) and (not lines[end].strip()
                                or len(lines[end]) - len(lines[end].lstrip()) >= indent):
        end += 1
    code = textwrap.dedent("\n".join(lines[start:end])).strip("\n")
    parts = ["\n".join(lines[:start]).rstrip(), "```\n" + code + "\n```",
             "\n".join(lines[end:]).strip()]
    return "\n\n".join(p for p in parts if p)
