"""A document: one input file after reading, whatever its kind.

The lint pipeline works on documents: a rules-save file gives one ruleset; a policy
gives the rulesets it compiles to (spans pointing at policy lines); a provisioning file
(cloud-config, Butane) gives the rulesets embedded in it (spans mapped to the YAML
lines) plus a view of the YAML for the FW5xx checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .diagnostics import Diagnostic
from .model import Ruleset
from .source import SourceFile, Span

DocumentKind = Literal["rules", "policy", "cloud-config", "butane"]


@dataclass(frozen=True, slots=True)
class Comment:
    """A ``#`` comment, kept with its position so suppression directives can be found.

    ``text`` is everything after the ``#``. ``own_line`` is True when nothing but
    white space precedes it on its line.
    """

    span: Span
    text: str
    own_line: bool


@dataclass(frozen=True)
class Document:
    path: str
    kind: DocumentKind
    source: SourceFile
    rulesets: tuple[Ruleset, ...] = ()
    # Problems found while reading (FW0xx): the checks never re-parse.
    diagnostics: tuple[Diagnostic, ...] = ()
    comments: tuple[Comment, ...] = ()
    # Every file that contributed (a policy's includes), by path, to quote lines from.
    sources: dict[str, SourceFile] = field(default_factory=dict)
    # Kind-specific extras: for provisioning files the parsed YAML view (see
    # fwc.wrappers.provisioning), for policies the compiled policy object.
    extra: dict[str, Any] = field(default_factory=dict)

    def ruleset(self, family: int) -> Ruleset | None:
        for r in self.rulesets:
            if r.family == family:
                return r
        return None

    def source_for(self, path: str) -> SourceFile | None:
        if path == self.source.path:
            return self.source
        return self.sources.get(path)
