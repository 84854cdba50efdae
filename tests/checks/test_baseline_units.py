"""Unit tests for the baseline checks' chain walking (fwc/checks/_walk.py) and for checks
whose answers depend on it, on hand-built model objects (no frontend involved)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.checks import _walk as w
from fwc.checks.base import Context, load_checks
from fwc.document import Document
from fwc.model import (Addr, Chain, Fragment, Iface, Icmp, Match, Opaque, Ports, Proto, Rate, Rule,
                       Ruleset, State, Table, Target)
from fwc.source import SourceFile, Span
from model_strategies import STATES, rulesets

PATH = "rules.v4"


def rule(chain: str, target: str | None, *conds, line: int = 0, goto: bool = False, args=()) -> Rule:
    span = Span(PATH, line, 1, line, 40) if line else None
    return Rule(chain, Match(tuple(conds)), Target(target, tuple(args), goto) if target else None, span=span)


def table(*chains: Chain, name: str = "filter") -> Table:
    return Table(name, chains)


def builtin(name: str, policy: str, *rules: Rule, line: int = 0) -> Chain:
    return Chain(name, policy, rules, span=Span(PATH, line, 1, line, 20) if line else None)


def user(name: str, *rules: Rule) -> Chain:
    return Chain(name, None, rules)


def state(*names: str, negated: bool = False) -> State:
    return State(frozenset(names), negated)


def tcp_dport(port: int) -> tuple:
    return (Proto("tcp"), Ports("dport", ((port, port),), module="tcp"))


ESTABLISHED_TCP = w.Probe(4, proto="tcp", sport=443, dport=w.EPHEMERAL_PORT,
                          states=frozenset({"ESTABLISHED"}), src=w.PUBLIC_SOURCE[4])


def walk(t: Table, probe=ESTABLISHED_TCP, **kw) -> w.Outcome:
    return w.walk(t, "INPUT", probe, **kw)


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize("cond, expected", [
    (Proto("tcp"), True),
    (Proto("udp"), False),
    (Proto("6"), True),
    (Proto("tcp", negated=True), False),
    (Iface("in", "lo"), False),
    (Iface("in", "lo", negated=True), True),
    (Iface("in", "eth0"), None),
    (Addr("src", ipaddress.ip_network("198.51.100.0/24")), True),
    (Addr("src", ipaddress.ip_network("10.0.0.0/8")), False),
    (Addr("src", ipaddress.ip_network("0.0.0.0/0")), True),
    (Addr("dst", ipaddress.ip_network("203.0.113.0/24")), None),
    (state("ESTABLISHED", "RELATED"), True),
    (state("NEW"), False),
    (state("INVALID", negated=True), True),
    (Ports("dport", ((51234, 51234),)), True),
    (Ports("sport", ((1, 1023),)), True),
    (Ports("ports", ((22, 22),)), False),
    (Opaque("recent", ("--rcheck",)), None),
])
def test_condition_against_an_established_reply(cond, expected):
    assert w.cond_matches(cond, ESTABLISHED_TCP) is expected


def test_rate_limit_matches_some_packets_and_a_contradiction_none():
    assert w.match_probe((Proto("tcp"), Rate((("limit", "5/min"),))), ESTABLISHED_TCP) == w.SOME
    assert w.match_probe((Rate((("limit", "5/min"),)), Proto("udp")), ESTABLISHED_TCP) == w.NONE
    assert w.match_probe((Iface("in", "eth0"), Rate((("limit", "5/min"),))), ESTABLISHED_TCP) == w.MAYBE


def test_icmp_type_and_code():
    probe = w.Probe(4, proto="icmp", icmp=(3, 4))
    assert w.cond_matches(Icmp(4, 3), probe) is True
    assert w.cond_matches(Icmp(4, 3, 4), probe) is True
    assert w.cond_matches(Icmp(4, 3, 1), probe) is False
    assert w.cond_matches(Icmp(4, None), probe) is True
    assert w.cond_matches(Icmp(4, 8), probe) is False


def test_hop_limit_255_is_known_for_neighbour_discovery():
    nd = w.Probe(6, proto="ipv6-icmp", icmp=(135, 0), hop_limit=255)
    assert w.cond_matches(Opaque("hl", ("--hl-eq", "255"), known=True), nd) is True
    assert w.cond_matches(Opaque("hl", ("--hl-eq", "1"), known=True), nd) is False
    assert w.cond_matches(Opaque("hl", ("--hl-eq", "255"), known=True), ESTABLISHED_TCP) is None


# --------------------------------------------------------------------------- walking


def test_first_match_wins_and_the_policy_decides_last():
    t = table(builtin("INPUT", "DROP", rule("INPUT", "ACCEPT", *tcp_dport(22), line=5), line=2))
    out = walk(t)
    assert (out.kind, out.rule, out.chain.name) == ("bad", None, "INPUT")
    assert out.tested == 1


def test_an_accept_in_a_user_chain_is_found_and_return_comes_back():
    t = table(builtin("INPUT", "DROP",
                      rule("INPUT", "STATEFUL"),
                      rule("INPUT", "DROP", line=9)),
              user("STATEFUL",
                   rule("STATEFUL", "RETURN", Proto("udp")),
                   rule("STATEFUL", "ACCEPT", state("ESTABLISHED"), line=7)))
    out = walk(t)
    assert out.kind == "good" and out.rule.span.line == 7
    assert out.tested == 3


def test_an_unconditional_return_skips_the_rest_of_the_user_chain():
    t = table(builtin("INPUT", "DROP",
                      rule("INPUT", "STATEFUL"),
                      rule("INPUT", "DROP", line=9)),
              user("STATEFUL",
                   rule("STATEFUL", "RETURN"),
                   rule("STATEFUL", "ACCEPT", state("ESTABLISHED"), line=7)))
    out = walk(t)
    assert out.kind == "bad" and out.rule.span.line == 9


def test_a_return_that_may_match_makes_a_later_drop_unproven_but_not_a_later_accept():
    maybe_return = rule("STATEFUL", "RETURN", Iface("in", "eth0"))
    dropping = table(builtin("INPUT", "ACCEPT", rule("INPUT", "STATEFUL")),
                     user("STATEFUL", maybe_return, rule("STATEFUL", "DROP", line=7)))
    # The packets that returned meet the ACCEPT policy: the drop is not proven.
    assert walk(dropping).kind == "good"
    accepting = table(builtin("INPUT", "DROP", rule("INPUT", "STATEFUL")),
                      user("STATEFUL", maybe_return, rule("STATEFUL", "ACCEPT", line=7)))
    out = walk(accepting)
    assert out.kind == "good" and out.rule.span.line == 7


def test_goto_does_not_come_back_to_the_calling_chain():
    t = table(builtin("INPUT", "DROP",
                      rule("INPUT", "SIDE", goto=True),
                      rule("INPUT", "ACCEPT", line=6)),
              user("SIDE", rule("SIDE", "LOG")))
    out = walk(t)
    assert (out.kind, out.rule) == ("bad", None)  # INPUT's policy, not the ACCEPT after the goto


def test_a_jump_that_may_match_into_a_dropping_chain_proves_nothing():
    t = table(builtin("INPUT", "ACCEPT", rule("INPUT", "BLOCK", Iface("in", "eth0"))),
              user("BLOCK", rule("BLOCK", "DROP", line=4)))
    assert walk(t).kind == "good"


def test_a_maybe_accept_stops_a_drop_proof_and_a_maybe_drop_does_not():
    maybe_accept = table(builtin("INPUT", "DROP", rule("INPUT", "ACCEPT", Opaque("set", ("--match-set", "ok", "src")), line=3)))
    out = walk(maybe_accept)
    assert out.kind == "good" and out.rule.span.line == 3
    maybe_drop = table(builtin("INPUT", "DROP",
                               rule("INPUT", "DROP", Opaque("recent", ("--rcheck",)), line=3),
                               rule("INPUT", "ACCEPT", state("ESTABLISHED"), line=4)))
    out = walk(maybe_drop)
    assert out.kind == "good" and out.rule.span.line == 4


def test_a_rate_limited_accept_leaves_the_rest_to_the_drop():
    t = table(builtin("INPUT", "DROP", rule("INPUT", "ACCEPT", Proto("tcp"), Rate((("limit", "5/s"),)))))
    assert walk(t).kind == "bad"


def test_maybe_decides_bad_when_proving_something_is_dropped():
    t = table(builtin("INPUT", "DROP", rule("INPUT", "ACCEPT", *tcp_dport(22), line=3)))
    probe = w.Probe(4, proto="tcp", states=frozenset({"INVALID"}), src=w.PUBLIC_SOURCE[4])
    out = walk(t, probe, bad=w.ACCEPTS, maybe_decides="bad")
    assert out.kind == "bad" and out.rule.span.line == 3
    assert walk(t, probe, bad=w.ACCEPTS, maybe_decides="good").kind == "good"


def test_an_interface_accepted_wholesale_is_not_the_external_one():
    t = table(builtin("INPUT", "DROP",
                      rule("INPUT", "ACCEPT", Iface("in", "eth1"), line=3),
                      rule("INPUT", "ACCEPT", Iface("in", "eth0"), Proto("udp"), line=4)))
    out = walk(t)
    assert out.kind == "bad" and out.rule is None
    assert w.trusted_interfaces(t.chain("INPUT")) == frozenset({"eth1"})


def test_a_loop_between_user_chains_ends():
    t = table(builtin("INPUT", "DROP", rule("INPUT", "A")),
              user("A", rule("A", "B")), user("B", rule("B", "A")))
    assert walk(t).kind == "bad"


# --------------------------------------------------------------------------- flattening


def test_flatten_carries_the_jump_conditions_and_visits_a_chain_once():
    t = table(builtin("INPUT", "DROP",
                      rule("INPUT", "SSH", Iface("in", "eth0")),
                      rule("INPUT", "SSH", Iface("in", "eth1")),
                      rule("INPUT", "DROP"),
                      rule("INPUT", "ACCEPT")),
              user("SSH", rule("SSH", "ACCEPT", *tcp_dport(22))))
    steps = w.flatten(t, "INPUT")
    assert [s.rule.target.name for s in steps] == ["SSH", "ACCEPT", "SSH", "DROP"]
    assert steps[1].conds == (Iface("in", "eth0"),) + tcp_dport(22)
    assert steps[1].via == (t.chain("INPUT").rules[0],)


def test_flatten_of_a_missing_chain_is_empty():
    assert w.flatten(table(), "INPUT") == []


# --------------------------------------------------------------------------- checks on models


def lint(*rulesets: Ruleset, kind: str = "rules") -> list:
    checks = load_checks()
    doc = Document(PATH, kind, SourceFile(PATH, ""), rulesets=rulesets)
    ctx = Context(doc)
    found = []
    for code in ("FW101", "FW102", "FW103", "FW105", "FW106", "FW107", "FW108", "FW109", "FW111",
                 "FW302", "FW303", "FW403"):
        if kind in checks[code].applies_to:
            found += [(d.code, d.span.line) for d in checks[code]().run(ctx)]
    return sorted(found)


def host(family: int, *rules: Rule, policy: str = "DROP") -> Ruleset:
    return Ruleset(family, (table(builtin("INPUT", policy, *rules, line=2),
                                  builtin("FORWARD", "DROP", line=3),
                                  builtin("OUTPUT", "ACCEPT", line=4)),))


GOOD_V4 = (rule("INPUT", "ACCEPT", Iface("in", "lo"), line=5),
           rule("INPUT", "DROP", Addr("src", ipaddress.ip_network("127.0.0.0/8")), Iface("in", "lo", negated=True),
                line=5),
           rule("INPUT", "ACCEPT", state("RELATED", "ESTABLISHED"), line=6),
           rule("INPUT", "DROP", state("INVALID"), line=7),
           rule("INPUT", "ACCEPT", Proto("icmp"), Icmp(4, 3), line=8),
           rule("INPUT", "ACCEPT", *tcp_dport(22), line=9))


def test_a_good_ipv4_host_is_clean():
    assert lint(host(4, *GOOD_V4)) == []


def test_an_empty_drop_policy_host_fires_the_baseline_checks_at_the_policy_line():
    assert lint(host(4)) == [("FW101", 2), ("FW102", 2), ("FW105", 2)]


def test_an_open_default_is_not_an_accept_all_rule():
    assert lint(host(4, policy="ACCEPT")) == [("FW103", 2)]
    # Accepted by a rule, unmatched traffic never reaches the policy: FW302, not FW103.
    found = lint(host(4, rule("INPUT", "ACCEPT", line=5), policy="ACCEPT"))
    assert found == [("FW109", 2), ("FW111", 2), ("FW302", 5)]


def test_ipv6_without_neighbour_discovery():
    v6 = host(6, rule("INPUT", "ACCEPT", Iface("in", "lo"), line=5),
              rule("INPUT", "ACCEPT", state("RELATED", "ESTABLISHED"), line=6))
    assert lint(v6) == [("FW106", 2)]
    nd = tuple(rule("INPUT", "ACCEPT", Proto("ipv6-icmp"), Icmp(6, t), line=7) for t in (133, 134, 135, 136))
    assert lint(host(6, *v6.tables[0].chain("INPUT").rules, *nd)) == []


def test_family_checks_on_a_two_family_document():
    v4 = host(4, *GOOD_V4)
    v6_open = host(6, policy="ACCEPT")
    found = lint(v4, v6_open, kind="cloud-config")
    assert ("FW107", 2) in found and ("FW108", 9) not in found
    v6_closed = host(6, *GOOD_V4[:3])
    found = lint(v4, v6_closed, kind="cloud-config")
    assert ("FW108", 9) in found and not any(code == "FW107" for code, _ in found)


# --------------------------------------------------------------------------- FW401's fix


def test_fw401_fix_rewrites_the_state_match_in_place(tmp_path):
    from fwc.cli import main

    rules = tmp_path / "rules.v4"
    rules.write_text("*filter\n"
                     ":INPUT DROP [0:0]\n"
                     "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n"
                     "-A INPUT -p tcp -m tcp --dport 22 -m state ! --state INVALID -j ACCEPT\n"
                     "COMMIT\n", encoding="utf-8")
    main(["lint", str(rules), "--fix", "--select", "FW401", "--format", "concise"])
    assert rules.read_text(encoding="utf-8") == (
        "*filter\n"
        ":INPUT DROP [0:0]\n"
        "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        "-A INPUT -p tcp -m tcp --dport 22 -m conntrack ! --ctstate INVALID -j ACCEPT\n"
        "COMMIT\n")
    assert main(["lint", str(rules), "--select", "FW401", "--format", "concise"]) == 0


def test_fw401_fix_inside_a_cloud_config_edits_the_yaml_line(tmp_path):
    from fwc.checks.base import Context, load_checks
    from fwc.fixes import apply_fixes
    from fwc.load import load_document

    text = ("#cloud-config\n"
            "write_files:\n"
            "  - path: /var/lib/iptables/rules-save\n"
            "    permissions: '0644'\n"
            "    content: |\n"
            "      *filter\n"
            "      :INPUT DROP [0:0]\n"
            "      -A INPUT -m state --state NEW -j ACCEPT\n"
            "      COMMIT\n")
    path = tmp_path / "user-data"
    path.write_text(text, encoding="utf-8")
    doc = load_document(str(path))
    found = list(load_checks()["FW401"]().run(Context(doc)))
    assert [(d.span.line, d.span.col) for d in found] == [(8, 16)]
    fixed, count = apply_fixes(text, [d.fix for d in found])
    assert count == 1
    assert fixed.splitlines()[7] == "      -A INPUT -m conntrack --ctstate NEW -j ACCEPT"


# --------------------------------------------------------------------------- against a reference interpreter

_UNKNOWN = object()
_RETURNED = object()


def _reference_cond(cond, pkt) -> bool | None:
    """One condition on a fully known packet, written independently of _walk."""
    if isinstance(cond, Proto):
        value = cond.name in ("all", pkt.proto)
    elif isinstance(cond, Addr):
        address = pkt.src if cond.field == "src" else pkt.dst
        lo, hi = cond.bounds()
        value = lo <= int(address) <= hi
    elif isinstance(cond, Iface):
        name = pkt.iface_in if cond.field == "in" else pkt.iface_out
        if name is None:  # a Probe's None is "any interface", not "no interface"
            return None
        value = name.startswith(cond.name[:-1]) if cond.name.endswith("+") else name == cond.name
    elif isinstance(cond, Ports):
        sides = {"sport": (pkt.sport,), "dport": (pkt.dport,), "ports": (pkt.sport, pkt.dport)}[cond.field]
        value = any(p is not None and lo <= p <= hi for p in sides for lo, hi in cond.ranges)
    elif isinstance(cond, State):
        (state,) = pkt.states
        value = state in cond.states
    elif isinstance(cond, Icmp):
        value = (pkt.icmp is not None and (cond.type is None or (cond.type == pkt.icmp[0] and
                                                                  cond.code in (None, pkt.icmp[1]))))
    elif isinstance(cond, Fragment):
        value = False
    else:  # TcpFlags, Rate, Opaque: not decided by the packet's fields here
        return None
    return value != cond.negated


def reference_verdict(table: Table, chain_name: str, pkt):
    """(verdict, deciding rule or None for the policy) by plain simulation, or _UNKNOWN."""
    chains = {c.name: c for c in table.chains}

    def run(chain: Chain, depth: int):
        for r in chain.rules:
            results = [_reference_cond(c, pkt) for c in r.match.conds]
            if False in results:
                continue
            if None in results:
                return _UNKNOWN
            target = r.target
            if target is None:
                continue
            sub = chains.get(target.name)
            if sub is not None and sub.policy is None:
                outcome = run(sub, depth + 1) if depth < 8 else _UNKNOWN
                if outcome is _RETURNED:
                    if target.goto:
                        return _RETURNED
                    continue
                return outcome
            if target.name == "RETURN":
                return _RETURNED
            if target.name in ("ACCEPT", "DROP", "REJECT"):
                return target.name, r
        return _RETURNED

    start = chains[chain_name]
    outcome = run(start, 0)
    if outcome is _RETURNED:
        return start.policy, None
    return outcome


def concrete_packets(ruleset: Ruleset):
    """Fully known packets, their addresses and ports often taken from the rules so
    that rules decide as well as policies."""
    family = ruleset.family
    conds = [c for _t, _c, r in ruleset.rules() for c in r.match.conds]
    bits = 32 if family == 4 else 128
    make = ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address
    near = [make(b) for c in conds if isinstance(c, Addr) for b in c.bounds()]
    address = st.one_of(st.integers(0, 2 ** bits - 1).map(make), *( [st.sampled_from(near)] if near else []))
    edges = [p for c in conds if isinstance(c, Ports) for lo, hi in c.ranges for p in (lo, hi)]
    port = st.one_of(st.integers(0, 65535), st.sampled_from(edges or [22]))
    icmp_name = "icmp" if family == 4 else "ipv6-icmp"

    @st.composite
    def packet(draw):
        proto = draw(st.sampled_from(("tcp", "udp", "sctp", icmp_name, "esp", "gre")))
        ports = proto in ("tcp", "udp", "sctp")
        return w.Probe(family,
                       iface_in=draw(st.sampled_from(("eth0", "eth1", "lo", "wg0", "br-1a2b"))),
                       proto=proto,
                       sport=draw(port) if ports else None,
                       dport=draw(port) if ports else None,
                       icmp=(draw(st.integers(0, 255)), draw(st.integers(0, 255))) if proto == icmp_name else None,
                       states=frozenset({draw(st.sampled_from(STATES))}),
                       src=draw(address), dst=draw(address))

    return packet()


@settings(max_examples=200, deadline=None)
@given(rulesets().flatmap(lambda r: st.tuples(st.just(r), concrete_packets(r))))
def test_walk_agrees_with_a_plain_simulation_on_known_packets(case):
    ruleset, pkt = case
    table_ = ruleset.tables[0]
    expected = reference_verdict(table_, "INPUT", pkt)
    if expected is _UNKNOWN:
        return
    verdict, deciding = expected
    out = w.walk(table_, "INPUT", pkt)
    assert (out.kind == "bad") == (verdict in w.DROPS)
    assert out.rule is deciding


# --------------------------------------------------------------------------- the source index


def _walk_both_ways(table_: Table, probe, **kw):
    """The walk with every chain indexed by source, and with none."""
    saved = w.INDEX_FROM
    try:
        w.INDEX_FROM = 0
        w._SOURCE_INDEX.clear()
        indexed = w.walk(table_, "INPUT", probe, **kw)
        w.INDEX_FROM = 10 ** 9
        plain = w.walk(table_, "INPUT", probe, **kw)
    finally:
        w.INDEX_FROM = saved
    return indexed, plain


QUESTIONS = st.sampled_from([(w.DROPS, "good"), (w.ACCEPTS, "good"), (w.DROPS, "bad"), (w.DROPS, None)])


def _assert_same_walk(table_: Table, probe, question) -> None:
    bad, maybe_decides = question
    indexed, plain = _walk_both_ways(table_, probe, bad=bad, maybe_decides=maybe_decides)
    assert indexed.kind == plain.kind
    assert indexed.rule is plain.rule
    assert indexed.chain is plain.chain
    assert indexed.tested == plain.tested


@settings(max_examples=300, deadline=None)
@given(rulesets().flatmap(lambda r: st.tuples(st.just(r), concrete_packets(r))), QUESTIONS,
       st.booleans())
def test_the_source_index_changes_no_walk(case, question, external):
    ruleset, pkt = case
    if external:  # FW103's question: any interface but the trusted ones
        pkt = replace(pkt, iface_in=w.EXTERNAL)
    _assert_same_walk(ruleset.tables[0], pkt, question)


@st.composite
def source_lists(draw):
    """A chain of rules from sources in a few index buckets (narrow, wide, negated,
    ranges, other family), rules without a source, jumps to a user chain; and a probe
    whose source is often one of the rules'."""
    family = draw(st.sampled_from([4, 6]))
    bits, make_net, make_addr = ((32, ipaddress.IPv4Network, ipaddress.IPv4Address) if family == 4
                                 else (128, ipaddress.IPv6Network, ipaddress.IPv6Address))
    shift = bits - (16 if family == 4 else 48)
    buckets = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    addresses = []

    def source():
        prefix = draw(st.sampled_from([8, bits - shift, bits - 8, bits - 2, bits]))
        value = (draw(st.sampled_from(buckets)) << shift) + draw(st.integers(0, (1 << shift) - 1))
        net = make_net((value >> (bits - prefix) << (bits - prefix), prefix))
        addresses.append(make_addr(value))
        kind = draw(st.integers(0, 9))
        if kind == 0:
            return Addr("src", (net.network_address, net.broadcast_address), module="iprange")
        if kind == 1:
            other = ipaddress.ip_network("2001:db8::/64" if family == 4 else "10.0.0.0/16")
            return Addr("src", other)
        return Addr("src", net, negated=kind == 2)

    def rules_of(chain_name: str, size: int, jump: bool) -> list[Rule]:
        out = []
        for _ in range(size):
            conds = [source() for _ in range(draw(st.integers(0, 2)))]
            if draw(st.booleans()):
                conds.append(Proto(draw(st.sampled_from(["tcp", "udp"]))))
            if draw(st.integers(0, 5)) == 0:
                conds.append(Rate((("limit", "1/sec"),)))
            targets = ["ACCEPT", "DROP", "REJECT", "RETURN", None, "LOG"] + (["sub"] if jump else [])
            target = draw(st.sampled_from(targets))
            goto = target == "sub" and draw(st.booleans())
            out.append(rule(chain_name, target, *conds, goto=goto))
        return out

    sub = user("sub", *rules_of("sub", draw(st.integers(0, 6)), False))
    top = builtin("INPUT", draw(st.sampled_from(["ACCEPT", "DROP"])),
                  *rules_of("INPUT", draw(st.integers(1, 40)), True))
    source_address = draw(st.one_of(st.sampled_from(addresses), st.integers(0, 2 ** bits - 1).map(make_addr))
                          if addresses else st.integers(0, 2 ** bits - 1).map(make_addr))
    probe = w.Probe(family, proto=draw(st.sampled_from(["tcp", "udp", None])), src=source_address)
    return table(top, sub), probe


@settings(max_examples=400, deadline=None)
@given(source_lists(), QUESTIONS)
def test_the_source_index_changes_no_walk_of_a_source_list(case, question):
    table_, probe = case
    _assert_same_walk(table_, probe, question)


def test_a_long_blocklist_is_walked_through_the_source_bucket():
    blocked = [rule("INPUT", "DROP", Addr("src", ipaddress.ip_network(f"10.{i // 256}.{i % 256}.0/24")))
               for i in range(2000)]
    accepts = [rule("INPUT", "ACCEPT", Addr("src", ipaddress.ip_network("198.51.100.0/24")), *tcp_dport(22)),
               rule("INPUT", "ACCEPT", *tcp_dport(80))]
    t = table(builtin("INPUT", "DROP", *blocked, *accepts))
    from_listed = w.Probe(4, proto="tcp", dport=22, src=ipaddress.ip_address("10.3.7.9"))
    out = walk(t, from_listed)
    assert (out.kind, out.rule, out.tested) == ("bad", blocked[3 * 256 + 7], 3 * 256 + 8)
    from_admin = w.Probe(4, proto="tcp", dport=22, src=ipaddress.ip_address("198.51.100.7"))
    out = walk(t, from_admin)
    assert (out.kind, out.rule, out.tested) == ("good", accepts[0], 2001)
    from_elsewhere = w.Probe(4, proto="udp", dport=53, src=ipaddress.ip_address("203.0.113.1"))
    out = walk(t, from_elsewhere)
    assert (out.kind, out.rule, out.tested) == ("bad", None, 2002)


@settings(max_examples=300, deadline=None)
@given(rulesets().flatmap(lambda r: st.tuples(st.just(r), concrete_packets(r))), st.booleans())
def test_matches_all_is_match_probe_all(case, unknown_source):
    ruleset, pkt = case
    if unknown_source:  # FW302's probe leaves most fields open
        pkt = w.Probe(ruleset.family)
    for _t, _c, r in ruleset.rules():
        assert w.matches_all(r.match.conds, pkt) == (w.match_probe(r.match.conds, pkt) == w.ALL)
