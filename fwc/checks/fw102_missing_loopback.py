"""FW102 missing-loopback."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from . import _walk as w
from .base import Check, Context

# A local connection to an X11-forwarding port (ssh -X listens on localhost:6010).
LOCAL_PORT = 6010


def loopback_probe(family: int) -> w.Probe:
    here = w.LOOPBACK_ADDRESS[family]
    return w.Probe(family, iface_in=w.LOOPBACK, proto="tcp", sport=w.EPHEMERAL_PORT, dport=LOCAL_PORT,
                   states=frozenset({"NEW"}), src=here, dst=here)


class MissingLoopback(Check):
    """INPUT drops traffic on the loopback interface: no `-i lo` accept before the drop.

    What it does
        Follows a new local connection (from 127.0.0.1, or ::1, to a local port, on `lo`)
        through INPUT and reports when it is dropped before any rule accepts `-i lo`.

    Why is this bad?
        Programs talk to each other over loopback: databases, resolvers, desktop and ssh
        X11 forwarding, health checks. A DROP default without a loopback accept breaks them
        in ways that are hard to trace.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        An appliance that deliberately isolates local services from each other may drop
        loopback traffic; suppress the finding with a reason.
    """

    code = "FW102"
    name = "missing-loopback"
    severity = Severity.ERROR

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            probe = loopback_probe(ruleset.family)
            outcome = w.walk_cached(ctx, ruleset, "INPUT", probe)
            if outcome is None or outcome.kind != "bad":
                continue
            family = "IPv6" if ruleset.family == 6 else "IPv4"
            help = ("add `allow loopback` near the top" if ctx.document.kind == "policy"
                    else "add `-A INPUT -i lo -j ACCEPT` as the first rule of INPUT")
            yield self.diag(w.outcome_span(ctx, outcome),
                            f"{family} INPUT drops loopback traffic: a new connection from "
                            f"{probe.src} to local port {LOCAL_PORT} on lo is dropped by "
                            f"{w.where(outcome)} with no `-i lo` accept before it",
                            help=help)
