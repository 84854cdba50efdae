"""FW401 deprecated-state-match."""

from __future__ import annotations

import re
from typing import Iterator

from ..diagnostics import Diagnostic, Edit, Fix, Severity
from ..model import Rule, State
from ..source import Span
from . import _walk as w
from .base import Check, Context

# `-m state [!] --state LIST` as iptables-save writes it (and the long spellings).
_STATE_MATCH = re.compile(r"(?<!\S)(?:-m|--match)\s+state\s+(!\s+)?--state\s+(\S+)(?!\S)")


def state_edits(ctx: Context, rule: Rule) -> tuple[Edit, ...]:
    """Edits turning every `-m state --state X` of the rule's source line into conntrack.

    Only offered when the rule sits on one line of a file of this document and that line
    really spells the match (a policy line that does not is left alone)."""
    span = rule.span
    if span is None or span.line != span.end_line:
        return ()
    source = ctx.document.source_for(span.path)
    if source is None:
        return ()
    line = source.line(span.line)
    edits = []
    for m in _STATE_MATCH.finditer(line):
        negation = "! " if m.group(1) else ""
        edits.append(Edit(Span(span.path, span.line, m.start() + 1, span.line, m.end() + 1),
                          f"-m conntrack {negation}--ctstate {m.group(2)}"))
    return tuple(edits)


class DeprecatedStateMatch(Check):
    """`-m state --state` is the deprecated spelling of `-m conntrack --ctstate`.

    What it does
        Reports rules that match connection states with the old `state` module and offers
        a safe fix that rewrites the match to `-m conntrack --ctstate` with the same states.

    Why is this bad?
        The `state` match is an alias kept for compatibility; `conntrack` is the supported
        module, matches exactly the same states, and offers more (`--ctorigdst`,
        `--ctstatus`). iptables-nft translates both, but new tools and documentation only
        speak conntrack, and mixing the two spellings makes rules harder to compare.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        COMMIT

    Exceptions
        Kernels without the conntrack match (very old, before 2.6.20) only have `state`.
    """

    code = "FW401"
    name = "deprecated-state-match"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        seen: set[Span] = set()  # a policy line compiled for both families is reported once
        for ruleset in ctx.rulesets:
            for rule in w.rule_facts(ctx, ruleset).state_module:
                conds = [c for c in rule.match.conds if isinstance(c, State) and c.module == "state"]
                if rule.span is None or rule.span in seen:
                    continue
                seen.add(rule.span)
                states = ",".join(sorted(conds[0].states))
                edits = state_edits(ctx, rule)
                fix = (Fix("use `-m conntrack --ctstate`", edits, safe=True) if edits else None)
                yield self.diag(edits[0].span if edits else conds[0].span or rule.span,
                                f"`-m state --state {states}` is deprecated: use "
                                f"`-m conntrack --ctstate {states}`",
                                help="same states, supported module", fix=fix)
