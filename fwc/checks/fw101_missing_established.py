"""FW101 missing-established."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from ..model import Addr, Iface, State
from . import _walk as w
from .base import Check, Context

_REPLY_STATES = frozenset({"ESTABLISHED"})


def reply_probes(chain: str, family: int, forwarded: w.Step | None = None) -> tuple[w.Probe, ...]:
    """Packets of connections that are already established, as they cross ``chain``.

    In FORWARD the reply of a connection that ``forwarded`` let through comes back the
    other way: in on its output interface, out on its input interface."""
    public = w.PUBLIC_SOURCE[family]
    if chain == "INPUT":
        # A web server's answer comes from anywhere; a DNS answer from the resolvers the
        # host uses, which a ruleset may name (so the UDP probe's source is left open).
        return (w.Probe(family, proto="tcp", sport=443, dport=w.EPHEMERAL_PORT, states=_REPLY_STATES, src=public),
                w.Probe(family, proto="udp", sport=53, dport=w.EPHEMERAL_PORT, states=_REPLY_STATES))
    if chain == "FORWARD":
        iface_in, iface_out, src, dst = w.EXTERNAL, None, public, None
        if forwarded is not None:
            iface_in = _named_interface(forwarded.conds, "out") or w.EXTERNAL
            iface_out = _named_interface(forwarded.conds, "in")
            src = _first_address(forwarded.conds, "dst") or public
            dst = _first_address(forwarded.conds, "src")
        return (w.Probe(family, iface_in=iface_in, iface_out=iface_out, proto="tcp", sport=443,
                        dport=w.EPHEMERAL_PORT, states=_REPLY_STATES, src=src, dst=dst),)
    return (w.Probe(family, iface_in=None, iface_out=w.EXTERNAL, proto="tcp", dport=w.EPHEMERAL_PORT,
                    states=_REPLY_STATES, dst=public),)


def _first_address(conds, field: str):
    """The first address a forwarded connection's rule names on one side."""
    for c in conds:
        if isinstance(c, Addr) and c.field == field and not c.negated and not isinstance(c.value, str):
            value = c.value
            return value[0] if isinstance(value, tuple) else value.network_address
    return None


def _named_interface(conds, field: str) -> str | None:
    for c in conds:
        if isinstance(c, Iface) and c.field == field and not c.negated and not c.is_wildcard:
            return c.name
    return None


def first_new_connection_accept(steps: list[w.Step]) -> w.Step | None:
    """The first rule accepting packets other than loopback ones and those of known
    connections, if any."""
    for step in steps:
        if step.target != "ACCEPT":
            continue
        if any(isinstance(c, State) and not c.negated and c.states <= {"ESTABLISHED", "RELATED"}
               for c in step.conds):
            continue
        if any(isinstance(c, Iface) and not c.negated and c.name == w.LOOPBACK for c in step.conds):
            continue
        return step
    return None


class MissingEstablished(Check):
    """Replies of established connections are dropped: no RELATED,ESTABLISHED accept.

    What it does
        Follows an established TCP or UDP packet (a reply to the host's own connection)
        through INPUT, and through FORWARD or OUTPUT when their default is DROP and they
        pass new connections, and reports when it is dropped: no rule accepting
        RELATED,ESTABLISHED traffic is reached before the drop.

    Why is this bad?
        Without it a DROP default also drops the answers to everything the host asks for
        itself (DNS, package downloads, NTP) and to the connections it accepted, so
        services break in ways that look like network faults.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
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
        A rule accepting established packets counts even when it is limited to an
        interface, a protocol or an address (it is someone's deliberate choice). Stateless
        rulesets that accept the replies by port instead (`--sport 53`) are judged on what
        they accept: an HTTPS reply from any address to an ephemeral port must get in,
        and a DNS answer from the resolvers the rules name.
    """

    code = "FW101"
    name = "missing-established"
    severity = Severity.ERROR

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            input_accept = first_new_connection_accept(w.flatten_cached(ctx, ruleset, "INPUT"))
            forward_accept = first_new_connection_accept(w.flatten_cached(ctx, ruleset, "FORWARD"))
            # FORWARD and OUTPUT matter only when they pass new connections whose replies
            # come back through them: forwarded ones, or the ones INPUT accepted.
            needs = {"INPUT": True, "FORWARD": forward_accept is not None, "OUTPUT": input_accept is not None}
            for chain_name in ("INPUT", "FORWARD", "OUTPUT"):
                if not needs[chain_name]:
                    continue
                for probe in reply_probes(chain_name, ruleset.family, forward_accept):
                    outcome = w.walk_cached(ctx, ruleset, chain_name, probe)
                    if outcome is not None and outcome.kind == "bad":
                        yield self._finding(ctx, chain_name, probe, outcome)
                        break

    def _finding(self, ctx: Context, chain_name: str, probe: w.Probe, outcome: w.Outcome) -> Diagnostic:
        family = "IPv6" if probe.family == 6 else "IPv4"
        message = (f"{family} {chain_name} drops the replies of established connections: "
                   f"an {probe.describe()} is dropped by {w.where(outcome)}: no "
                   f"RELATED,ESTABLISHED accept lets it through first")
        if ctx.document.kind == "policy":
            prefix = {"INPUT": "", "FORWARD": "forward ", "OUTPUT": "out "}[chain_name]
            help = f"add `allow {prefix}established` before the rules that drop"
        else:
            help = (f"add `-A {chain_name} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT` "
                    f"near the top of {chain_name}")
        return self.diag(w.outcome_span(ctx, outcome), message, help=help)
