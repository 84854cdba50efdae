"""Chain semantics (one packet and packet sets), rule lowering details, the packet syntax
and ``fwc query``. The kernel itself is the oracle in tests/system/test_kernel_differential.py;
these pin the cases the random rulesets rarely hit (goto's return, loops, opaque rules,
fragments, interface wildcards)."""

from __future__ import annotations

import ipaddress
import json

import pytest

from fwc.analysis import space as sp
from fwc.analysis.chains import evaluate, traverse
from fwc.analysis.compile import match_space
from fwc.analysis.facts import new_connections
from fwc.analysis.packet import PacketSyntaxError, format_packet, parse_packet, witness
from fwc.cli import main
from fwc.model import (Addr, Chain, Fragment, Iface, Match, Opaque, Ports, Proto, Rate, Rule,
                       State, Table, Target)

NET = ipaddress.ip_network


def rule(chain, *conds, target=None, goto=False):
    return Rule(chain, Match(tuple(conds)), Target(target, goto=goto) if target else None)


def table(*chains):
    return Table("filter", tuple(chains))


SSH = (Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"))
PACKET = parse_packet("tcp 203.0.113.5:40000 -> 10.0.0.1:22 in eth0 [state new]")


def walk(t, packet=PACKET):
    out = evaluate(packet, t, "INPUT", 4)
    return out.verdict, [(s.chain, s.index, s.action) for s in out.steps]


def test_first_match_wins_and_non_terminal_targets_fall_through():
    t = table(Chain("INPUT", "DROP", (
        rule("INPUT", *SSH, target="LOG"),
        rule("INPUT", *SSH),  # no target: counts only
        rule("INPUT", *SSH, target="ACCEPT"),
        rule("INPUT", target="DROP"))))
    assert walk(t) == ("ACCEPT", [("INPUT", 1, "CONTINUE"), ("INPUT", 2, "CONTINUE"),
                                  ("INPUT", 3, "ACCEPT")])


def test_jump_returns_to_the_next_rule_and_falls_through_to_the_policy():
    t = table(Chain("INPUT", "DROP", (rule("INPUT", target="CHECK"),
                                      rule("INPUT", Proto("udp"), target="ACCEPT"))),
              Chain("CHECK", None, (rule("CHECK", *SSH, target="RETURN"),
                                    rule("CHECK", target="ACCEPT"))))
    assert walk(t) == ("DROP", [("INPUT", 1, "JUMP"), ("CHECK", 1, "RETURN"), ("INPUT", 0, "policy")])


def test_goto_return_goes_back_to_the_caller_of_the_calling_chain():
    t = table(Chain("INPUT", "ACCEPT", (rule("INPUT", target="A"),
                                        rule("INPUT", target="REJECT"))),
              Chain("A", None, (rule("A", target="B", goto=True), rule("A", target="DROP"))),
              Chain("B", None, (rule("B", target="RETURN"),)))
    # B returns past A (entered by goto) straight to INPUT rule 2, never to A rule 2.
    assert walk(t) == ("REJECT", [("INPUT", 1, "JUMP"), ("A", 1, "GOTO"), ("B", 1, "RETURN"),
                                  ("INPUT", 2, "REJECT")])


def test_goto_from_a_builtin_chain_ends_in_its_policy():
    t = table(Chain("INPUT", "DROP", (rule("INPUT", target="A", goto=True),
                                      rule("INPUT", target="ACCEPT"))),
              Chain("A", None, ()))
    assert walk(t)[0] == "DROP"


def test_opaque_rules_are_assumed_not_to_match_and_reported():
    t = table(Chain("INPUT", "ACCEPT", (
        rule("INPUT", *SSH, Opaque("recent", ("--rcheck",)), target="DROP"),)))
    out = evaluate(PACKET, t, "INPUT", 4)
    assert out.verdict == "ACCEPT" and [s.index for s in out.uncertain] == [1]


def test_interface_wildcards_and_negation():
    t = table(Chain("INPUT", "DROP", (rule("INPUT", Iface("in", "eth+"), Iface("in", "eth1", negated=True),
                                           target="ACCEPT"),)))
    assert walk(t)[0] == "ACCEPT"
    assert walk(t, parse_packet("tcp 1.2.3.4:1 -> 5.6.7.8:2 in eth1"))[0] == "DROP"
    assert walk(t, parse_packet("tcp 1.2.3.4:1 -> 5.6.7.8:2 in et"))[0] == "DROP"
    assert walk(t, parse_packet("tcp 1.2.3.4:1 -> 5.6.7.8:2 in eth"))[0] == "ACCEPT"


def test_port_matches_never_match_later_fragments():
    ports = match_space(Match((Proto("tcp"), Ports("dport", ((22, 22),), negated=True))), 4)
    assert [c[sp.FRAG] for c in ports] == [((0, 0),)]
    assert match_space(Match((Proto("tcp"), Fragment())), 4)[0][sp.FRAG] == ((1, 1),)
    assert match_space(Match((Fragment(), Ports("dport", ((22, 22),)))), 4) == []


def test_multiport_either_port_is_two_cubes_and_its_negation_one():
    either = match_space(Match((Proto("tcp"), Ports("ports", ((80, 80),), module="multiport"))), 4)
    u = sp.universe(4)
    assert len(either) == 2 and not sp.cube_overlaps(*either)
    assert sp.equal(either, sp.union([u.cube(proto=((6, 6),), sport=((80, 80),), frag=((0, 0),))],
                                     [u.cube(proto=((6, 6),), dport=((80, 80),), frag=((0, 0),))]))
    neither = match_space(Match((Proto("tcp"), Ports("ports", ((80, 80),), negated=True,
                                                     module="multiport"))), 4)
    assert len(neither) == 1 and neither[0][sp.SPORT] == ((0, 79), (81, 65535))


def test_state_nat_bits_and_names():
    dnat = match_space(Match((State(frozenset({"DNAT"})),)), 4)[0][sp.STATE]
    new = match_space(Match((State(frozenset({"NEW"})),)), 4)[0][sp.STATE]
    assert sp.intersect([sp.universe(4).cube(state=dnat)], [sp.universe(4).cube(state=new)])
    assert parse_packet("udp 1.2.3.4:1 -> 5.6.7.8:53 state new,dnat").state in {
        v for lo, hi in dnat for v in range(lo, hi + 1)}


# --------------------------------------------------------------------------- packet sets


def test_may_and_must_walks_read_opaque_rules_in_opposite_ways():
    t = table(Chain("INPUT", "DROP", (
        rule("INPUT", *SSH, Rate((("limit", "6/min"),)), target="ACCEPT"),
        rule("INPUT", *SSH, target="DROP"))))
    packets = new_connections(4, ((22, 22),), ((6, 6),))
    may = traverse(t, "INPUT", packets, 4, "may")
    must = traverse(t, "INPUT", packets, 4, "must")
    assert [(r.index, r.verdict, r.definite) for r in may.records] == [(1, "ACCEPT", False), (2, "DROP", True)]
    assert [(r.index, r.verdict) for r in must.decided("ACCEPT", definite_only=True)] == []


def test_set_walk_follows_user_chains_and_returns():
    t = table(Chain("INPUT", "DROP", (rule("INPUT", Proto("tcp"), target="SVC"),)),
              Chain("SVC", None, (rule("SVC", Addr("src", NET("10.0.0.0/8")), target="RETURN"),
                                  rule("SVC", *SSH, target="ACCEPT"))))
    packets = new_connections(4, ((22, 22),), ((6, 6),))
    result = traverse(t, "INPUT", packets, 4, "must")
    accepted = result.decided("ACCEPT", definite_only=True)
    assert [(r.chain, r.index) for r in accepted] == [("SVC", 2)]
    assert sp.project(accepted[0].space, sp.SRC) == sp.universe(4).complement_field(
        sp.SRC, ((0x0A000000, 0x0AFFFFFF), (0x7F000000, 0x7FFFFFFF)))
    policy = [r for r in result.records if r.rule is None]
    assert policy and sp.project(policy[0].space, sp.SRC) == ((0x0A000000, 0x0AFFFFFF),)


# --------------------------------------------------------------------------- packet syntax


@pytest.mark.parametrize("text", [
    "tcp 203.0.113.5:40000 -> 10.0.0.1:22 in eth0 [state new flags SYN]",
    "udp [2001:db8::1]:5353 -> [2001:db8::2]:53 in wg0 out eth1 [state established,dnat]",
    "icmp 192.0.2.1 -> 192.0.2.2 type 3/4 in eth0 [state related]",
    "icmpv6 2001:db8::1 -> ff02::1 type 135/0 in eth0 [state new]",
    "tcp 192.0.2.1 -> 192.0.2.2 in eth0 [state new fragment]",
])
def test_packets_print_as_they_parse(text):
    assert format_packet(parse_packet(text)) == text


@pytest.mark.parametrize("text, col, words", [
    ("tcp 1.2.3.4:1 5.6.7.8:2", 15, "expected 'PROTO SOURCE -> DESTINATION'"),
    ("tpc 1.2.3.4:1 -> 5.6.7.8:2", 1, "unknown protocol 'tpc'"),
    ("tcp 1.2.3.4:99999 -> 5.6.7.8:2", 13, "is not a port"),
    ("tcp 1.2.3.4:1 -> 2001:db8::1", 18, "different address families"),
    ("tcp 1.2.3.4:1 -> 5.6.7.8:2 state open", 34, "state is one of"),
    ("tcp 1.2.3.4:1 -> 5.6.7.8:2 color red", 28, "unknown packet option 'color'"),
    ("icmpv6 1.2.3.4 -> 5.6.7.8", 1, "not a protocol of IPv4"),
])
def test_packet_syntax_errors_point_at_the_word(text, col, words):
    with pytest.raises(PacketSyntaxError) as info:
        parse_packet(text)
    assert info.value.col == col and words in info.value.args[0]


def test_witness_prefers_readable_values_inside_the_cube():
    u = sp.universe(4)
    cube = u.cube(proto=((6, 6),), src=((0x0A000000, 0x0AFFFFFF),), dport=((22, 22),),
                  iif=u.complement_field(sp.IIF, ((0x6C6F << 112, 0x6C6F << 112),)))
    assert format_packet(witness(cube, 4)) == \
        "tcp 10.0.0.1:40000 -> 10.0.0.1:22 in eth0 [state new flags SYN]"


# --------------------------------------------------------------------------- fwc query

RULES = """*filter
:INPUT DROP [0:0]
:SSH - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j SSH
-A SSH -s 203.0.113.0/24 -j ACCEPT
COMMIT
"""


def run_query(capsys, *argv):
    code = main(["query", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_query_text_names_verdict_path_and_rule(tmp_path, capsys):
    path = tmp_path / "rules.v4"
    path.write_text(RULES)
    code, out, _ = run_query(capsys, str(path), "--packet",
                             "tcp 203.0.113.5:40000 -> 10.0.0.1:22 in eth0 [state new]")
    assert code == 0
    assert out.splitlines() == [
        "packet:  tcp 203.0.113.5:40000 -> 10.0.0.1:22 in eth0 [state new flags SYN]",
        "verdict: ACCEPT  (filter INPUT, IPv4)",
        "path:",
        f"  INPUT rule 2: JUMP  {path}:5:1  -A INPUT -p tcp -m tcp --dport 22 -j SSH",
        f"  SSH rule 1: ACCEPT  {path}:6:1  -A SSH -s 203.0.113.0/24 -j ACCEPT",
        f"decided by rule: {path}:6:1: -A SSH -s 203.0.113.0/24 -j ACCEPT",
    ]


def test_query_json_reports_the_policy_when_nothing_matches(tmp_path, capsys):
    path = tmp_path / "rules.v4"
    path.write_text(RULES)
    code, out, _ = run_query(capsys, str(path), "--format", "json", "--packet",
                             "tcp 198.51.100.7:40000 -> 10.0.0.1:22 in eth0")
    report = json.loads(out)
    assert code == 0 and report["verdict"] == "DROP"
    assert report["decided_by"] == {"kind": "policy", "chain": "INPUT", "index": 0, "rule": None,
                                    "policy_span": {"path": str(path), "line": 2, "col": 1}}
    assert [(s["chain"], s["index"], s["action"]) for s in report["path"]] == [
        ("INPUT", 2, "JUMP"), ("SSH", 0, "return"), ("INPUT", 0, "policy")]


def test_query_bad_packet_is_a_usage_error_with_a_caret(tmp_path, capsys):
    path = tmp_path / "rules.v4"
    path.write_text(RULES)
    code, _, err = run_query(capsys, str(path), "--packet", "tcp 1.2.3.4:1 -> 5.6.7.8:2 color red")
    assert code == 2
    assert err.splitlines() == [
        "fwc: error: --packet: unknown packet option 'color' (expected in, out, type, state, flags or fragment)",
        "  tcp 1.2.3.4:1 -> 5.6.7.8:2 color red",
        "                             ^"]


def test_query_on_a_policy_names_the_policy_line(tmp_path, capsys):
    path = tmp_path / "policy.fw"
    path.write_text("policy input drop\nallow loopback\nallow tcp 22 from 203.0.113.0/24\n")
    code, out, _ = run_query(capsys, str(path), "--packet",
                             "tcp 203.0.113.5:40000 -> 10.0.0.1:22 in eth0")
    assert code == 0
    assert f"decided by policy line: {path}:3:1: allow tcp 22 from 203.0.113.0/24" in out.splitlines()


def test_query_family_without_rules_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "rules.v4"
    path.write_text(RULES)
    code, _, err = run_query(capsys, str(path), "--packet", "tcp [2001:db8::1]:1 -> [2001:db8::2]:22")
    assert code == 2 and "no IPv6 rules" in err


def test_query_shows_what_an_unmodelled_rule_would_decide(tmp_path, capsys):
    path = tmp_path / "rules.v4"
    path.write_text("*filter\n:INPUT DROP [0:0]\n"
                    "-A INPUT -p tcp -m tcp --dport 22 -m recent --rcheck --name ssh -j DROP\n"
                    "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n")
    code, out, _ = run_query(capsys, str(path), "--packet", "tcp 198.51.100.1:5000 -> 10.0.0.1:22 in eth0")
    lines = out.splitlines()
    assert code == 0 and "verdict: ACCEPT  (filter INPUT, IPv4)" in lines
    assert lines[-2:] == ["note: 1 rule(s) with a match fwc does not model were assumed not to "
                          "match; the verdict may differ:",
                          "  if INPUT rule 1 matches: DROP (by INPUT rule 1)"]
