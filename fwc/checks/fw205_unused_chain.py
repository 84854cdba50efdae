"""FW205 unused-chain: a user chain nothing jumps to."""

from __future__ import annotations

from typing import Iterator

from ..analysis import facts
from ..diagnostics import Diagnostic, Severity
from .base import Check, Context


def referenced_chains(table) -> set[str]:
    """Every name a rule of the table jumps or goes to (targets included)."""
    return {rule.target.name for chain in table.chains for rule in chain.rules
            if rule.target is not None}


def callers(table, name: str) -> list[tuple[object, int, object]]:
    """[(calling chain, 1-based index, rule)] for every -j/-g to chain ``name``."""
    return [(chain, i, rule) for chain in table.chains for i, rule in enumerate(chain.rules, 1)
            if rule.target is not None and rule.target.name == name]


class UnusedChain(Check):
    """A user chain that no rule jumps to.

    What it does
        Reports a user-defined chain of a table when no rule of that table names it
        with `-j` or `-g`.

    Why is this bad?
        Its rules never run. Either the jump was forgotten (and the protection the
        chain was written for is missing) or the chain is left over and only
        confuses the reader.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :SSH - [0:0]
        -A SSH -s 198.51.100.0/24 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :SSH - [0:0]
        -A INPUT -p tcp -m tcp --dport 22 -j SSH
        -A SSH -s 198.51.100.0/24 -j ACCEPT
        COMMIT

    Exceptions
        Chains that another program jumps to at run time (fail2ban, Docker's
        DOCKER-USER) may look unused in a saved file; suppress the finding there.
    """

    code = "FW205"
    name = "unused-chain"
    severity = Severity.INFO

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in ctx.rulesets:
            for table in ruleset.tables:
                refs = referenced_chains(table)
                for chain in table.chains:
                    if chain.is_builtin or chain.name in refs:
                        continue
                    yield self.diag(
                        facts.chain_span(chain, ruleset, ctx),
                        f"no rule of table {table.name} jumps to chain {chain.name}",
                        help="add the missing -j/-g, or delete the chain",
                    )
