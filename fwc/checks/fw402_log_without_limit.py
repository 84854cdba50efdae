"""FW402 log-without-limit."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from ..model import Rate, Rule, Table
from ..source import Span
from . import _walk as w
from .base import Check, Context

def _limited(rule: Rule) -> bool:
    return any(isinstance(c, Rate) and not c.negated for c in rule.match.conds)


def rate_limited_chains(table: Table) -> set[str]:
    """User chains every packet enters through a rate-limited rule (or a limited chain):
    a LOG in them is limited already."""
    callers: dict[str, list[tuple[str, bool]]] = {}
    names = {c.name for c in table.chains if not c.is_builtin}
    for chain in table.chains:
        for rule in chain.rules:
            if rule.target is not None and rule.target.name in names:
                callers.setdefault(rule.target.name, []).append((chain.name, _limited(rule)))
    verdicts: dict[str, bool] = {}

    def limited(name: str, visiting: frozenset[str]) -> bool:
        if name in verdicts:
            return verdicts[name]
        if name in visiting or name not in names or not callers.get(name):
            return False
        result = all(ok or limited(caller, visiting | {name}) for caller, ok in callers[name])
        verdicts[name] = result
        return result

    return {name for name in names if limited(name, frozenset())}


class LogWithoutLimit(Check):
    """A LOG or NFLOG rule has no `limit` / `hashlimit`: anyone can flood the logs.

    What it does
        Reports LOG, NFLOG and ULOG rules whose packets are not rate limited, neither by
        the rule itself (`-m limit`, `-m hashlimit`) nor by every jump that leads to its
        chain.

    Why is this bad?
        A logging rule fires for every packet that matches it. A scan or a flood then
        writes thousands of lines a second: the disk fills, journald drops the messages
        that matter, and the kernel spends its time formatting log lines.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -j LOG --log-prefix "dropped: "
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -m limit --limit 5/min -j LOG --log-prefix "dropped: "
        COMMIT

    Exceptions
        NFLOG to a userspace collector that samples or aggregates (ulogd with a ring
        buffer) is less exposed, but a limit still protects the collector.
    """

    code = "FW402"
    name = "log-without-limit"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        seen: set[Span] = set()
        for ruleset in ctx.rulesets:
            limited_chains: dict[str, set[str]] = {}
            for table, chain, rule in w.rule_facts(ctx, ruleset).logging:
                if _limited(rule) or rule.span is None or rule.span in seen:
                    continue
                if table.name not in limited_chains:
                    limited_chains[table.name] = rate_limited_chains(table)
                if chain.name in limited_chains[table.name]:
                    continue
                seen.add(rule.span)
                yield self.diag(rule.span,
                                f"{rule.target.name} without a rate limit: every matching packet "
                                "is logged, so a flood fills the logs",
                                help="add `-m limit --limit 5/min --limit-burst 10` (policy: "
                                     "`log` is limited by default)")
