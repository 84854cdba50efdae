"""Hand-built models and the exact line iptables-save 1.8.9 printed for each after loading
it (the backend's unit tests compare with these; the system tests load them into a
scratch namespace and ask the real iptables-save)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from fwc.model import (Addr, Chain, Fragment, Icmp, Iface, Match, Opaque, Ports, Proto, Rate,
                       Rule, Ruleset, State, Table, Target, TcpFlags)

net = ipaddress.ip_network
ip = ipaddress.ip_address


def rule(*conds, chain="INPUT", target="ACCEPT", args=(), comment=None, goto=False, span=None):
    return Rule(chain, Match(tuple(conds)), Target(target, tuple(args), goto) if target else None,
                comment, span=span)


def filter_ruleset(family=4, *rules, extra_chains=()):
    chains = {"INPUT": [], "FORWARD": [], "OUTPUT": []}
    for name in extra_chains:
        chains[name] = []
    for r in rules:
        chains[r.chain].append(r)
    policies = {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "ACCEPT"}
    return Ruleset(family, (Table("filter", tuple(
        Chain(name, policies.get(name), tuple(rs)) for name, rs in chains.items())),))


def worked_example_model() -> Ruleset:
    multiport = Ports("dport", ((22, 22), (80, 80), (443, 443)), module="multiport")
    return filter_ruleset(
        4,
        rule(Iface("in", "lo")),
        rule(Iface("in", "eth1")),
        rule(State(frozenset({"RELATED", "ESTABLISHED"}))),
        rule(Proto("tcp"), multiport),
        rule(Proto("icmp"), Icmp(4, 0, module="icmp")),
        rule(Proto("icmp"), Icmp(4, 3, module="icmp")),
        rule(Proto("icmp"), Icmp(4, 11, module="icmp")),
    )


# (model rule, line iptables-save 1.8.9 printed after loading it)
CANONICAL = [
    (rule(Proto("tcp"), Ports("dport", ((22, 22),), module="tcp")),
     "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
    (rule(Proto("tcp"), Ports("dport", ((22, 22),))),  # module inferred from -p
     "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
    (rule(Proto("tcp"), Ports("dport", ((22, 22), (80, 80), (443, 443), (1000, 2000)),
                              module="multiport")),
     "-A INPUT -p tcp -m multiport --dports 22,80,443,1000:2000 -j ACCEPT"),
    (rule(State(frozenset({"ESTABLISHED", "RELATED"}), module="state")),
     "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT"),
    (rule(State(frozenset({"UNTRACKED", "NEW", "INVALID"}))),
     "-A INPUT -m conntrack --ctstate INVALID,NEW,UNTRACKED -j ACCEPT"),
    (rule(Proto("icmp"), Icmp(4, 3, 4, module="icmp")),
     "-A INPUT -p icmp -m icmp --icmp-type 3/4 -j ACCEPT"),
    (rule(Proto("icmp"), Icmp(4, None, module="icmp")),
     "-A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT"),
    (rule(Proto("udp"), Ports("sport", ((53, 53),), module="udp"),
          Addr("dst", net("1.2.3.4/32")), Addr("src", net("10.0.0.0/8"))),
     "-A INPUT -s 10.0.0.0/8 -d 1.2.3.4/32 -p udp -m udp --sport 53 -j ACCEPT"),
    (rule(Proto("tcp"), Iface("in", "eth0", negated=True), Addr("src", net("10.0.0.0/8"), True),
          Ports("dport", ((10, 20),), negated=True, module="tcp"), target="DROP"),
     "-A INPUT ! -s 10.0.0.0/8 ! -i eth0 -p tcp -m tcp ! --dport 10:20 -j DROP"),
    (rule(Addr("src", (ip("10.0.0.1"), ip("10.0.0.9")), module="iprange")),
     "-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT"),
    (rule(comment="hello world"), '-A INPUT -m comment --comment "hello world" -j ACCEPT'),
    (rule(comment='it\'s "quoted"'),
     '-A INPUT -m comment --comment "it\\\'s \\"quoted\\"" -j ACCEPT'),
    (rule(comment="simple"), "-A INPUT -m comment --comment simple -j ACCEPT"),
    (rule(Proto("tcp"), TcpFlags(frozenset({"SYN", "RST", "ACK", "FIN"}), frozenset({"SYN"}))),
     "-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT"),
    (rule(Fragment(), target="DROP"), "-A INPUT -f -j DROP"),
    (rule(Rate((("limit", "6/min"), ("limit-burst", "10"))), target="LOG",
          args=("--log-prefix", "fwc drop: ")),
     '-A INPUT -m limit --limit 6/min --limit-burst 10 -j LOG --log-prefix "fwc drop: "'),
    (rule(Rate((("hashlimit-upto", "6/min"), ("hashlimit-burst", "10"),
                ("hashlimit-mode", "srcip"), ("hashlimit-name", "x")), module="hashlimit")),
     "-A INPUT -m hashlimit --hashlimit-upto 6/min --hashlimit-burst 10 --hashlimit-mode srcip"
     " --hashlimit-name x -j ACCEPT"),
    (rule(Proto("tcp"), target="REJECT", args=("--reject-with", "tcp-reset")),
     "-A INPUT -p tcp -j REJECT --reject-with tcp-reset"),
    (rule(Opaque("mac", ("--mac-source", "00:11:22:33:44:55"), known=True)),
     "-A INPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT"),
    (rule(Proto("tcp"), Ports("dport", ((9999, 9999),), module="tcp"),
          Opaque("recent", ("--set", "--name", "foo", "--mask", "255.255.255.255", "--rsource")),
          target=None),
     "-A INPUT -p tcp -m tcp --dport 9999 -m recent --set --name foo --mask 255.255.255.255"
     " --rsource"),
    (rule(Proto("gre")), "-A INPUT -p gre -j ACCEPT"),
    (rule(Proto("tcp"), Ports("ports", ((5, 5),), module="multiport")),
     "-A INPUT -p tcp -m multiport --ports 5 -j ACCEPT"),
    (rule(target="mychain"), "-A INPUT -j mychain"),
    (rule(target="mychain", goto=True), "-A INPUT -g mychain"),
    (rule(Opaque("addrtype", ("--dst-type", "LOCAL"))),
     "-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT"),
    (rule(Iface("out", "eth1"), Iface("in", "eth+"), chain="FORWARD"),
     "-A FORWARD -i eth+ -o eth1 -j ACCEPT"),
    (rule(Proto("sctp"), Ports("dport", ((5, 5),))), "-A INPUT -p sctp -m sctp --dport 5 -j ACCEPT"),
    (rule(Opaque("comment", ("--comment", "a  b")), Opaque("comment", ("--comment", "x\\y"))),
     '-A INPUT -m comment --comment "a  b" -m comment --comment "x\\\\y" -j ACCEPT'),
    # Two multiport matches never share one -m (iptables allows one option per match).
    (rule(Proto("tcp"), Ports("sport", ((1, 1),), module="multiport"),
          Ports("dport", ((2, 2),), module="multiport")),
     "-A INPUT -p tcp -m multiport --sports 1 -m multiport --dports 2 -j ACCEPT"),
]

CANONICAL_V6 = [
    (rule(Addr("src", net("2001:db8::1/128")), Addr("dst", net("2001:db8::/32")),
          Proto("ipv6-icmp"), Icmp(6, 135, module="icmp6")),
     "-A INPUT -s 2001:db8::1/128 -d 2001:db8::/32 -p ipv6-icmp -m icmp6 --icmpv6-type 135"
     " -j ACCEPT"),
    (rule(Proto("ipv6-icmp"), Icmp(6, 1, 4)),
     "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 1/4 -j ACCEPT"),
    (rule(Proto("ipv6-icmp"), Icmp(6, 128, negated=True, module="icmp6")),
     "-A INPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type 128 -j ACCEPT"),
    (rule(Proto("tcp"), Ports("dport", ((1, 1), (2, 2)), negated=True, module="multiport")),
     "-A INPUT -p tcp -m multiport ! --dports 1,2 -j ACCEPT"),
    (rule(Addr("src", (ip("2001:db8::1"), ip("2001:db8::9")), module="iprange"),
          Addr("dst", (ip("2001:db8::a"), ip("2001:db8::f")), negated=True, module="iprange")),
     "-A INPUT -m iprange --src-range 2001:db8::1-2001:db8::9"
     " ! --dst-range 2001:db8::a-2001:db8::f -j ACCEPT"),
    (rule(State(frozenset({"NEW"}), negated=True)),
     "-A INPUT -m conntrack ! --ctstate NEW -j ACCEPT"),
    (rule(target="REJECT", args=("--reject-with", "icmp6-port-unreachable")),
     "-A INPUT -j REJECT --reject-with icmp6-port-unreachable"),
    (rule(comment=""), '-A INPUT -m comment --comment "" -j ACCEPT'),
    (rule(comment="a$b:c/d.e"), '-A INPUT -m comment --comment "a$b:c/d.e" -j ACCEPT'),
    (rule(comment="üñí"), '-A INPUT -m comment --comment "üñí" -j ACCEPT'),
    (rule(Proto("udp"), Ports("sport", ((1, 2),)), Ports("dport", ((3, 3),))),
     "-A INPUT -p udp -m udp --sport 1:2 --dport 3 -j ACCEPT"),
    (rule(Proto("tcp"), Ports("sport", ((1, 2),)), Ports("dport", ((3, 3),)),
          TcpFlags(frozenset({"FIN", "SYN", "RST", "ACK"}), frozenset({"SYN"}), negated=True)),
     "-A INPUT -p tcp -m tcp --sport 1:2 --dport 3 ! --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT"),
    (rule(Proto("tcp"), TcpFlags(frozenset({"ALL"}), frozenset())),
     "-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j ACCEPT"),
    (rule(Proto("tcp"), Ports("dport", ((22, 22),)), State(frozenset({"NEW"})), comment="x"),
     "-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m comment --comment x"
     " -j ACCEPT"),
]


# DSL.md's worked example policy (the input of the tests/compile golden of that name).
WORKED_EXAMPLE_POLICY = (Path(__file__).resolve().parent / "compile" / "dsl-worked-example"
                         / "policy.fw").read_text(encoding="utf-8")


def dsl_worked_example_text() -> str | None:
    """The IPv4 output printed in DSL.md's worked example, de-indented (None when the
    specification is not beside the checkout)."""
    path = Path(__file__).resolve().parent.parent.parent / "shared" / "DSL.md"
    if not path.is_file():
        return None
    spec = path.read_text(encoding="utf-8")
    block = spec.split("must compile, for IPv4, to exactly:", 1)[1]
    lines = []
    for line in block.split("\n")[1:]:
        if not line.startswith("    "):
            if lines:
                break
            continue
        lines.append(line[4:])
    return "\n".join(lines) + "\n"
