"""FW206 empty-chain: a user chain with no rules that is jumped to."""

from __future__ import annotations

from typing import Iterator

from ..analysis import facts
from ..diagnostics import Diagnostic, Related, Severity
from .base import Check, Context
from .fw205_unused_chain import callers, referenced_chains


class EmptyChain(Check):
    """A user chain with no rules that rules jump to.

    What it does
        Reports a user-defined chain that has no rules while some rule of the table
        jumps to it (each such jump is listed as related).

    Why is this bad?
        A jump to an empty chain comes straight back: whatever the chain was meant
        to do (a blocklist, a rate limit) does not happen. It is typical of a
        restore that lost a chain's rules, or of rules to be filled in later that
        never were.

    Example
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        :BLOCKLIST - [0:0]
        -A INPUT -j BLOCKLIST
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        :BLOCKLIST - [0:0]
        -A INPUT -j BLOCKLIST
        -A BLOCKLIST -s 192.0.2.0/24 -j DROP
        COMMIT

    Exceptions
        Chains that a daemon fills at run time (fail2ban's f2b-* chains, kube-proxy
        canaries) are empty in a file on purpose.
    """

    code = "FW206"
    name = "empty-chain"
    severity = Severity.INFO

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in ctx.rulesets:
            for table in ruleset.tables:
                empty = [c for c in table.chains if not c.is_builtin and not c.rules]
                refs = referenced_chains(table) if empty else set()
                for chain in empty:
                    if chain.name not in refs:
                        continue
                    jumps = callers(table, chain.name)
                    yield self.diag(
                        facts.chain_span(chain, ruleset, ctx),
                        f"chain {chain.name} has no rules, so the {len(jumps)} jump(s) to it "
                        "do nothing",
                        related=tuple(
                            Related(rule.span or facts.chain_span(caller, ruleset, ctx),
                                    f"jumps to it: rule {i} of {caller.name}")
                            for caller, i, rule in jumps[:10]),
                        help="add the rules the chain is for, or remove the jumps",
                    )
