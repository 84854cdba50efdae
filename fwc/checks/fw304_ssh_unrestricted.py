"""FW304 ssh-unrestricted: SSH accepted from any source address."""

from __future__ import annotations

from typing import Iterator

from ..analysis import facts
from ..diagnostics import Diagnostic, Severity
from .base import Check, Context
from .fw301_sensitive_port_open import open_ports


class SshUnrestricted(Check):
    """SSH is open to any source address.

    What it does
        Reports each rule of the filter INPUT walk that certainly accepts NEW
        connections to tcp port 22 from remote sources while not restricting the
        source address and not rate limiting.

    Why is this bad?
        An SSH port open to the world receives password guessing around the clock.
        A source list (your offices, a VPN, a bastion) or at least a `limit` /
        `hashlimit` rule cuts that to nothing.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        Bastion hosts whose job is to accept SSH from anywhere; suppress it there.
    """

    code = "FW304"
    name = "ssh-unrestricted"
    severity = Severity.INFO

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for walk, record, _hits, cube in open_ports(ctx, {facts.SSH_PORT: "SSH"}):
            ref = facts.find_ref(walk.table, record.chain, record.index, record.rule)
            yield self.diag(
                facts.rule_span(ref, walk.ruleset, ctx),
                f"IPv{walk.ruleset.family}: SSH is accepted from any source address",
                help="accept SSH only from the networks you administer from, or add a "
                     "limit/hashlimit rule before it",
                witness=facts.witness_text(cube, walk.ruleset, "INPUT"),
            )
