"""FW106 icmpv6-essentials-blocked."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from . import _walk as w
from .base import Check, Context

# RFC 4890 section 4.4.1: error messages that must not be dropped. They arrive RELATED
# to a connection of the host.
ERRORS = {1: "destination-unreachable", 2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem"}
# Neighbour discovery: link-local, hop limit 255; conntrack does not track it (UNTRACKED
# on current kernels, INVALID on older ones).
NEIGHBOUR_DISCOVERY = {133: "router-solicitation", 134: "router-advertisement",
                       135: "neighbour-solicitation", 136: "neighbour-advertisement"}
_ND_STATES = frozenset({"INVALID", "UNTRACKED"})


def essential_probes(chain: str) -> list[tuple[str, w.Probe]]:
    probes = []
    if chain == "INPUT":
        for icmp_type, label in ERRORS.items():
            probes.append((f"{label} ({icmp_type})",
                           w.Probe(6, proto="ipv6-icmp", icmp=(icmp_type, 0), states=frozenset({"RELATED"}),
                                   src=w.PUBLIC_SOURCE[6])))
    for icmp_type, label in NEIGHBOUR_DISCOVERY.items():
        if chain == "INPUT":
            probe = w.Probe(6, proto="ipv6-icmp", icmp=(icmp_type, 0), states=_ND_STATES,
                            src=w.LINK_LOCAL_SOURCE, hop_limit=255)
        else:
            probe = w.Probe(6, iface_in=None, iface_out=w.EXTERNAL, proto="ipv6-icmp", icmp=(icmp_type, 0),
                            states=_ND_STATES, src=w.LINK_LOCAL_SOURCE, hop_limit=255)
        probes.append((f"{label} ({icmp_type})", probe))
    return probes


class Icmpv6EssentialsBlocked(Check):
    """IPv6 drops ICMPv6 that RFC 4890 says must pass: errors and neighbour discovery.

    What it does
        Follows each ICMPv6 message IPv6 cannot work without through the IPv6 INPUT chain
        (and neighbour discovery through OUTPUT): destination-unreachable (1),
        packet-too-big (2), time-exceeded (3), parameter-problem (4), and router and
        neighbour solicitation and advertisement (133-136). Reports every place that drops
        some of them, naming which.

    Why is this bad?
        IPv6 has no ARP: neighbour discovery is ICMPv6, so dropping it cuts the host off
        its own link. Routers never fragment IPv6, so without packet-too-big large
        transfers hang. RFC 4890 lists these as messages a firewall must not drop.

    Example
        # kind: rules
        # family: 6
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        # family: 6
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 133 -j ACCEPT
        -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j ACCEPT
        -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT
        -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        Errors (1-4) about the host's own connections are accepted by a RELATED,ESTABLISHED
        rule; neighbour discovery is not tracked by conntrack, so it needs its own accept,
        placed before any `--ctstate INVALID` drop (older kernels call it INVALID).
    """

    code = "FW106"
    name = "icmpv6-essentials-blocked"
    severity = Severity.ERROR

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            if ruleset.family != 6:
                continue
            for chain in ("INPUT", "OUTPUT"):
                yield from self._chain(ctx, ruleset, chain)

    def _chain(self, ctx: Context, ruleset, chain: str) -> Iterator[Diagnostic]:
        dropped: dict[int, tuple[w.Outcome, list[str]]] = {}
        for label, probe in essential_probes(chain):
            outcome = w.walk_cached(ctx, ruleset, chain, probe)
            if outcome is not None and outcome.kind == "bad":
                dropped.setdefault(id(outcome.rule or outcome.chain), (outcome, []))[1].append(label)
        for outcome, labels in dropped.values():
            help = ("add `allow icmp essential`" if ctx.document.kind == "policy"
                    else "accept these ICMPv6 types (`-p ipv6-icmp --icmpv6-type N -j ACCEPT`) before this drop")
            yield self.diag(w.outcome_span(ctx, outcome),
                            f"IPv6 {chain} drops ICMPv6 that must pass (RFC 4890): {', '.join(labels)} "
                            f"dropped by {w.where(outcome)}",
                            help=help)
