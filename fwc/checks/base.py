"""The check registry and the context checks run in.

A check is a subclass of :class:`Check` in its own module under ``fwc/checks/``; defining
the class registers it (no list to edit). Its docstring is its documentation, in the
sections ``What it does``, ``Why is this bad?``, ``Example``, ``Use instead`` and
optionally ``Exceptions``; ``fwc rule CODE`` prints it and the meta-tests run each
Example (must fire) and Use instead (must not fire).

The ``Example``/``Use instead`` sections hold an indented block that is a complete input
file; its first line is ``# kind: rules`` (an iptables-save file, add
``# family: 6`` for IPv6), ``# kind: policy`` or ``# kind: cloud-config``.

Checks that only document a code the readers emit themselves (FW0xx syntax and value
errors) set ``emitted_by_reader = True``; their ``run`` yields nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator

from ..diagnostics import Diagnostic, Fix, Related, Severity
from ..document import Document
from ..model import Ruleset
from ..source import Span

REGISTRY: dict[str, type["Check"]] = {}
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


@dataclass
class Settings:
    """What a check may read from the configuration (already validated)."""

    management_ports: tuple[int, ...] = (22,)
    sensitive_ports: dict[int, str] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Context:
    """One document being checked, plus facts shared between checks.

    ``fact(name, compute)`` computes a fact once per document (the chain graph, the
    reachable packet sets) and caches it, so checks never repeat work.
    """

    document: Document
    settings: Settings = field(default_factory=Settings)
    _facts: dict[str, Any] = field(default_factory=dict)
    # Codes the lint run leaves out (turned off, or below what the caller shows): a
    # shared fact may skip the work only they would use.
    skipped: frozenset[str] = frozenset()

    @property
    def rulesets(self) -> tuple[Ruleset, ...]:
        return self.document.rulesets

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._facts:
            self._facts[name] = compute()
        return self._facts[name]


class Check:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    # Document kinds this check runs on ("rules", "policy", "cloud-config", "butane").
    applies_to: ClassVar[frozenset[str]] = frozenset({"rules", "policy", "cloud-config", "butane"})
    enabled_by_default: ClassVar[bool] = True
    emitted_by_reader: ClassVar[bool] = False
    # Option name -> default value; config may override under [tool.fwc.options.CODE].
    options: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.code:
            return  # an abstract helper base
        if cls.code in REGISTRY and REGISTRY[cls.code] is not cls:
            raise RuntimeError(f"duplicate check code {cls.code}: {REGISTRY[cls.code].__name__} and {cls.__name__}")
        REGISTRY[cls.code] = cls

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        return iter(())

    # Helpers so checks stay short.
    @classmethod
    def diag(cls, span: Span, message: str, *, related: tuple[Related, ...] = (),
             help: str | None = None, fix: Fix | None = None,
             witness: str | None = None) -> Diagnostic:
        return Diagnostic(cls.code, cls.severity, span, message, related=related,
                          help=help, fix=fix, witness=witness)

    @classmethod
    def docs(cls) -> dict[str, str]:
        return parse_doc_sections(cls.__doc__ or "")


def parse_doc_sections(doc: str) -> dict[str, str]:
    """Split a check docstring into {section title: body} (the summary under "")."""
    import textwrap

    text = textwrap.dedent(doc).strip("\n")
    # The first line of a docstring is not indented like the rest.
    lines = doc.strip("\n").splitlines()
    if lines:
        text = lines[0].strip() + "\n" + textwrap.dedent("\n".join(lines[1:]))
    sections: dict[str, list[str]] = {"": []}
    current = ""
    heading = re.compile(r"^(What it does|Why is this bad\?|Example|Use instead|Exceptions|Options)\s*:?\s*$")
    for line in text.splitlines():
        m = heading.match(line.strip()) if not line.startswith(" ") else None
        if m:
            current = m.group(1)
            sections[current] = []
        else:
            sections[current].append(line)
    return {k: textwrap.dedent("\n".join(v)).strip("\n") for k, v in sections.items()}


_loaded = False


def load_checks() -> dict[str, type[Check]]:
    """Import every module in fwc/checks so each check registers itself."""
    global _loaded
    if not _loaded:
        from .. import checks as package

        for info in pkgutil.iter_modules(package.__path__):
            if info.name not in ("base",) and not info.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{info.name}")
        _loaded = True
    return dict(sorted(REGISTRY.items()))
