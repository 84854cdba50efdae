"""Hypothesis strategies for filter-table rulesets in canonical form: every condition
spelled with the module and values iptables-save prints, so that loading the rendered
text and dumping it again prints the same lines, and reading it back gives the same
model."""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

from fwc.model import (Addr, Chain, Icmp, Iface, Match, Ports, Proto, Rate, Rule, Ruleset,
                       State, Table, Target, TcpFlags)

IFACES = ("eth0", "eth1", "lo", "wg0", "eth+", "br-1a2b")
TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG")
STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED")
# Rates and bursts in the form iptables-save prints them (6/min stays 6/min; 60/min would
# come back as 1/sec; the default burst 5 is not printed).
RATES = ("1/sec", "5/sec", "6/min", "10/min", "3/hour", "1/day")
BURSTS = (None, "10", "20")
REJECT_WITH = {4: ("icmp-port-unreachable", "icmp-host-prohibited", "icmp-net-unreachable"),
               6: ("icmp6-port-unreachable", "icmp6-adm-prohibited", "icmp6-no-route")}
USER_CHAINS = ("custom", "Log-And-Drop")
COMMENT_ALPHABET = st.characters(
    whitelist_categories=("Lu", "Ll", "Nd", "Po", "Pd", "Sm"),
    whitelist_characters=" \"'\\$#:/.-_üé", max_codepoint=0x2000)


def network(family: int):
    bits = 32 if family == 4 else 128
    kind = ipaddress.IPv4Network if family == 4 else ipaddress.IPv6Network

    def build(value: int, prefix: int):
        return kind((value >> (bits - prefix) << (bits - prefix), prefix))

    return st.builds(build, st.integers(0, 2 ** bits - 1), st.integers(1, bits))


@st.composite
def addr_conds(draw, family):
    conds = []
    for field in ("src", "dst"):
        if draw(st.booleans()):
            conds.append(Addr(field, draw(network(family)), negated=draw(st.booleans())))
    return conds


@st.composite
def iface_conds(draw, chain):
    conds = []
    if chain != "OUTPUT" and draw(st.booleans()):
        conds.append(Iface("in", draw(st.sampled_from(IFACES)), negated=draw(st.booleans())))
    if chain != "INPUT" and draw(st.booleans()):
        conds.append(Iface("out", draw(st.sampled_from(IFACES)), negated=draw(st.booleans())))
    return conds


port = st.integers(0, 65535)


@st.composite
def port_range(draw):
    lo = draw(port)
    hi = draw(st.one_of(st.just(lo), st.integers(lo, 65535)))
    if (lo, hi) == (0, 65535):  # iptables-save omits a full range
        hi = 65534
    return lo, hi


@st.composite
def multiport(draw, field):
    ranges = draw(st.lists(port_range(), min_size=1, max_size=7))
    count = 0
    kept = []
    for lo, hi in ranges:
        count += 1 if lo == hi else 2
        if count > 15:
            break
        kept.append((lo, hi))
    return Ports(field, tuple(kept), negated=draw(st.booleans()), module="multiport")


@st.composite
def protocol_conds(draw, family):
    name = draw(st.sampled_from(("tcp", "udp", "sctp", "icmp", "esp", "gre", None)))
    if name is None:
        return []
    if name == "icmp" and family == 6:
        name = "ipv6-icmp"
    conds = [Proto(name)]
    if name in ("tcp", "udp", "sctp"):
        style = draw(st.sampled_from(("none", "single", "multiport")))
        if style == "single":
            for field in ("sport", "dport"):
                if draw(st.booleans()):
                    lo, hi = draw(port_range())
                    # iptables-nft stores `! --dport 0:N` as `--dport N+1:65535` and saves it
                    # so (the same packets; iptables-legacy keeps the negation).
                    negated = draw(st.booleans()) and not (lo == 0 < hi)
                    conds.append(Ports(field, ((lo, hi),), negated=negated, module=name))
        elif style == "multiport":
            field = draw(st.sampled_from(("sport", "dport", "ports")))
            conds.append(draw(multiport(field)))
        if name == "tcp" and style != "multiport" and draw(st.booleans()):
            mask = draw(st.frozensets(st.sampled_from(TCP_FLAGS), min_size=1))
            comp = draw(st.frozensets(st.sampled_from(sorted(mask))))
            conds.append(TcpFlags(mask, comp, negated=draw(st.booleans()), module="tcp"))
    elif name in ("icmp", "ipv6-icmp") and draw(st.booleans()):
        version = 4 if name == "icmp" else 6
        kind = draw(st.integers(0, 255) if version == 4 else st.integers(0, 255))
        if version == 4 and kind == 255:
            kind = 254  # 255 is how the kernel spells "any"
        code = draw(st.one_of(st.none(), st.integers(0, 255)))
        conds.append(Icmp(version, kind, code, negated=draw(st.booleans()),
                          module="icmp" if version == 4 else "icmp6"))
    return conds


@st.composite
def extra_conds(draw):
    conds = []
    if draw(st.booleans()):
        module = draw(st.sampled_from(("conntrack", "state")))
        states = draw(st.frozensets(st.sampled_from(STATES), min_size=1))
        conds.append(State(states, negated=draw(st.booleans()), module=module))
    if draw(st.integers(0, 3)) == 0:
        options = [("limit", draw(st.sampled_from(RATES)))]
        burst = draw(st.sampled_from(BURSTS))
        if burst:
            options.append(("limit-burst", burst))
        conds.append(Rate(tuple(options), module="limit"))
    return conds


def comment_text():
    return st.text(COMMENT_ALPHABET, max_size=40).filter(lambda t: len(t.encode()) <= 255)


@st.composite
def target(draw, family, chain, user_chains, protocol):
    kind = draw(st.sampled_from(("ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "jump", None)))
    if kind == "jump":
        names = [c for c in user_chains if c != chain]
        if not names:
            return Target("ACCEPT")
        return Target(draw(st.sampled_from(names)), goto=draw(st.booleans()))
    if kind == "REJECT":
        choices = REJECT_WITH[family] + (("tcp-reset",) if protocol == "tcp" else ())
        return Target("REJECT", ("--reject-with", draw(st.sampled_from(choices))))
    if kind == "LOG":
        prefix = draw(st.text(COMMENT_ALPHABET, min_size=1, max_size=20)
                      .filter(lambda t: len(t.encode()) <= 29))
        return Target("LOG", ("--log-prefix", prefix))
    return None if kind is None else Target(kind)


@st.composite
def rules(draw, family, chain, user_chains):
    conds = draw(addr_conds(family)) + draw(iface_conds(chain))
    proto = draw(protocol_conds(family))
    conds += proto + draw(extra_conds())
    protocol = proto[0].name if proto else None
    comment = draw(st.one_of(st.none(), comment_text()))
    return Rule(chain, Match(tuple(conds)), draw(target(family, chain, user_chains, protocol)),
                comment)


@st.composite
def rulesets(draw, family=None):
    family = family or draw(st.sampled_from((4, 6)))
    # Sorted as iptables-save lists user chains (byte order).
    user_chains = tuple(sorted(draw(st.lists(st.sampled_from(USER_CHAINS), unique=True,
                                             max_size=2))))
    # A user chain that jumps to another could loop; only built-ins jump.
    chains = []
    for name in ("INPUT", "FORWARD", "OUTPUT"):
        body = draw(st.lists(rules(family, name, user_chains), max_size=5))
        chains.append(Chain(name, draw(st.sampled_from(("ACCEPT", "DROP"))), tuple(body)))
    for name in user_chains:
        body = draw(st.lists(rules(family, name, ()), max_size=3))
        chains.append(Chain(name, None, tuple(body)))
    return Ruleset(family, (Table("filter", tuple(chains)),))
