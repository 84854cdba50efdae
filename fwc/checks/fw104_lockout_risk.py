"""FW104 lockout-risk: no NEW connection to SSH (or the management ports) gets in."""

from __future__ import annotations

from typing import Iterator

from ..analysis import facts
from ..analysis.chains import DROP, REJECT
from ..diagnostics import Diagnostic, Related, Severity
from .base import Check, Context


class LockoutRisk(Check):
    """SSH (or a configured management port) is unreachable from every remote source.

    What it does
        Pushes every NEW TCP connection to port 22 (or to the `management-ports` of
        the configuration) that arrives on an interface other than `lo` from a
        source outside the loopback network through the filter table's INPUT chain,
        following jumps into user chains, RETURN and goto, up to the chain policy.
        It reports when none of them can be accepted, in each address family that
        has rules, and points at the first rule (or the policy) that drops them.

    Why is this bad?
        Loading these rules on a remote machine cuts off the session that loads them
        and every later one: the machine has to be recovered from a console.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
        COMMIT

    Exceptions
        A rule with a match fwc does not model (`-m recent`, `-m set`, a rate limit)
        that could accept the connection counts as a way in: fwc only reports a
        lockout it can prove. Machines managed from a console or by another port
        should set `management-ports` in the configuration.
    """

    code = "FW104"
    name = "lockout-risk"
    severity = Severity.ERROR

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        ports = sorted(set(ctx.settings.management_ports or (facts.SSH_PORT,)))
        what = "SSH (tcp 22)" if ports == [22] else "the management ports (tcp " + \
            ", ".join(map(str, ports)) + ")"
        for walk in facts.management_walks(ctx):
            records = walk.walk.records
            if any(r.verdict not in (DROP, REJECT) for r in records):
                continue
            first = records[0] if records else None
            ruleset = walk.ruleset
            if first is not None and first.rule is not None:
                ref = facts.find_ref(walk.table, first.chain, first.index, first.rule)
                span = facts.rule_span(ref, ruleset, ctx)
                where = f"rule {first.index} of {first.chain} ({first.verdict}) drops the first of them"
            else:
                span = facts.chain_span(walk.chain, ruleset, ctx)
                where = f"the {walk.chain.name} policy ({walk.chain.policy}) drops them"
            related = tuple(
                Related(facts.chain_span(walk.chain, ruleset, ctx), "the INPUT chain and its policy")
                for _ in (0,) if first is not None and first.rule is not None)
            yield self.diag(
                span,
                f"IPv{ruleset.family}: no NEW connection to {what} from a remote source can get "
                f"in; {where}",
                related=related,
                help="accept the management port from the addresses you administer from, "
                     "before the rules that drop it",
                witness=facts.witness_text(first.space[0] if first else None, ruleset, "INPUT"),
            )
