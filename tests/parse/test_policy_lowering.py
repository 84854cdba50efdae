"""The policy language lowered into the model: each statement's rules, condition by
condition, in the order iptables-save prints them (see docs/language.md)."""

from __future__ import annotations

import ipaddress

import pytest

from fwc.model import Addr, Icmp, Iface, Match, Ports, Proto, Rate, Rule, State, Target
from fwc.parse.policy import load_policy
from model_cases import WORKED_EXAMPLE_POLICY

ACCEPT, DROP = Target("ACCEPT"), Target("DROP")
EST = State(frozenset({"RELATED", "ESTABLISHED"}), module="conntrack")


def net(text):
    return ipaddress.ip_network(text)


def ip(text):
    return ipaddress.ip_address(text)


def load(text):
    result = load_policy("policy.fw", text=text)
    assert result.diagnostics == [], [str(d.span) + " " + d.message for d in result.diagnostics]
    return result


def rules(text, family=4, chain="INPUT"):
    return list(load(text).rulesets[family].table("filter").chain(chain).rules)


def conds(text, family=4, chain="INPUT"):
    return [r.match.conds for r in rules(text, family, chain)]


def rule(chain, *c, target=ACCEPT, comment=None):
    return Rule(chain, Match(tuple(c)), target, comment)


# --------------------------------------------------------------------------- chains, policies


def test_empty_policy_has_both_families_with_default_policies():
    result = load("")
    assert sorted(result.rulesets) == [4, 6]
    for family, rs in result.rulesets.items():
        assert rs.family == family
        chains = rs.table("filter").chains
        assert [(c.name, c.policy, c.rules) for c in chains] == [
            ("INPUT", "DROP", ()), ("FORWARD", "DROP", ()), ("OUTPUT", "ACCEPT", ())]


def test_policy_statements_set_the_builtin_chain_policies():
    rs = load("policy input accept\npolicy forward accept\npolicy output drop\n").rulesets[6]
    assert [c.policy for c in rs.table("filter").chains] == ["ACCEPT", "ACCEPT", "DROP"]


# --------------------------------------------------------------------------- the worked example


WORKED = WORKED_EXAMPLE_POLICY


def test_worked_example_lowers_to_the_seed_rules():
    assert rules(WORKED) == [
        rule("INPUT", Iface("in", "lo")),
        rule("INPUT", Iface("in", "eth1")),
        rule("INPUT", EST),
        rule("INPUT", Proto("tcp"), Ports("dport", ((22, 22), (80, 80), (443, 443)), module="multiport")),
        rule("INPUT", Proto("icmp"), Icmp(4, 0, None, module="icmp")),
        rule("INPUT", Proto("icmp"), Icmp(4, 3, None, module="icmp")),
        rule("INPUT", Proto("icmp"), Icmp(4, 11, None, module="icmp")),
    ]
    # ICMP is IPv4 only: the IPv6 ruleset stops after the tcp rule.
    assert len(rules(WORKED, family=6)) == 4


def test_rules_carry_the_span_and_text_of_their_statement():
    found = rules(WORKED)
    r = found[1]
    assert (r.span.path, r.span.line, r.span.col, r.span.end_line, r.span.end_col) == ("policy.fw", 5, 1, 5, 17)
    assert r.text == "allow in on eth1"


def test_single_port_uses_the_protocol_module():
    assert conds("allow tcp 22") == [(Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"))]


@pytest.mark.parametrize("proto", ["udp", "sctp", "udplite"])
def test_other_port_protocols(proto):
    assert conds(f"allow {proto} 5000-5010") == [(Proto(proto), Ports("dport", ((5000, 5010),), module=proto))]


def test_port_range_covering_everything_needs_no_port_match():
    assert conds("allow tcp 0-65535") == [(Proto("tcp"),)]


def test_duplicate_ports_are_listed_once():
    assert conds("allow tcp 22, 22") == [(Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"))]


# --------------------------------------------------------------------------- multiport splitting


def test_more_than_fifteen_ports_split_across_multiport_rules():
    ports = ", ".join(str(p) for p in range(1, 18))
    got = conds(f"allow tcp {ports}")
    assert got == [
        (Proto("tcp"), Ports("dport", tuple((p, p) for p in range(1, 16)), module="multiport")),
        (Proto("tcp"), Ports("dport", ((16, 16), (17, 17)), module="multiport")),
    ]


def test_a_range_counts_two_slots():
    got = conds("allow tcp 1,2,3,4,5,6,7,8,9,10,11,12,13,14-20,21")
    assert got == [
        (Proto("tcp"), Ports("dport", tuple((p, p) for p in range(1, 14)) + ((14, 20),), module="multiport")),
        (Proto("tcp"), Ports("dport", ((21, 21),), module="tcp")),
    ]


def test_source_and_destination_port_lists_split_on_the_source_ports():
    got = conds("allow udp from any port 53, 54 to any port 1, 2")
    d = Ports("dport", ((1, 1), (2, 2)), module="multiport")
    assert got == [
        (Proto("udp"), Ports("sport", ((53, 53),), module="udp"), d),
        (Proto("udp"), Ports("sport", ((54, 54),), module="udp"), d),
    ]


def test_source_port_then_destination_port_in_one_module():
    got = conds("allow tcp from 10.0.0.1 port 1024-65535 to 10.0.0.2 port 80")
    assert got == [(Addr("src", net("10.0.0.1/32")), Addr("dst", net("10.0.0.2/32")), Proto("tcp"),
                     Ports("sport", ((1024, 65535),), module="tcp"), Ports("dport", ((80, 80),), module="tcp"))]


def test_ports_after_to_are_destination_ports():
    assert conds("allow out udp to any port 53", chain="OUTPUT") == [
        (Proto("udp"), Ports("dport", ((53, 53),), module="udp"))]


# --------------------------------------------------------------------------- ICMP


def test_icmp_type_and_code():
    assert conds("allow icmp 3/4, 8") == [
        (Proto("icmp"), Icmp(4, 3, 4, module="icmp")),
        (Proto("icmp"), Icmp(4, 8, None, module="icmp")),
    ]


def test_icmpv6_names_lower_to_icmp6_module():
    assert conds("allow icmpv6 neighbor-solicitation, packet-too-big", family=6) == [
        (Proto("ipv6-icmp"), Icmp(6, 135, None, module="icmp6")),
        (Proto("ipv6-icmp"), Icmp(6, 2, None, module="icmp6")),
    ]
    assert conds("allow icmpv6 neighbor-solicitation") == []


def test_icmp_without_type_is_the_protocol_only():
    assert conds("allow icmp") == [(Proto("icmp"),)]
    assert conds("allow icmp", family=6) == []


def test_icmp_essential_covers_both_families():
    v4 = conds("allow icmp essential")
    v6 = conds("allow icmp essential", family=6)
    assert [c[1].type for c in v4] == [0, 3, 11, 12]
    assert [c[1].type for c in v6] == [1, 2, 3, 4, 133, 134, 135, 136, 130, 131, 132, 143]
    assert all(c[0] == Proto("ipv6-icmp") and c[1].module == "icmp6" for c in v6)


def test_icmpv6_essential_is_ipv6_only():
    assert conds("allow icmpv6 essential") == []
    assert len(conds("allow icmpv6 essential", family=6)) == 12


# --------------------------------------------------------------------------- protocols


@pytest.mark.parametrize("text, name", [("allow esp", "esp"), ("allow ah", "ah"), ("allow gre", "gre"),
                                        ("allow 47", "gre"), ("allow 89", "ospf"), ("allow 200", "200")])
def test_protocols_by_name_and_number(text, name):
    assert conds(text) == [(Proto(name),)]


def test_all_and_protocol_zero_match_every_protocol():
    assert conds("allow all") == [()]
    assert conds("allow 0") == [()]


def test_protocol_number_with_ports():
    assert conds("allow 6 22") == [(Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"))]


# --------------------------------------------------------------------------- services


def test_builtin_service_gives_protocol_and_port():
    assert conds("allow ssh") == [(Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"))]


def test_dns_is_udp_then_tcp():
    assert conds("allow dns") == [
        (Proto("udp"), Ports("dport", ((53, 53),), module="udp")),
        (Proto("tcp"), Ports("dport", ((53, 53),), module="tcp")),
    ]


def test_user_service_merges_ports_per_protocol():
    got = conds("service etcd = tcp 2379, tcp 2380\nallow etcd")
    assert got == [(Proto("tcp"), Ports("dport", ((2379, 2379), (2380, 2380)), module="multiport"))]


def test_service_ports_continue_the_previous_protocol():
    got = conds("service web = tcp 80, 443, udp 443\nallow web")
    assert got == [(Proto("tcp"), Ports("dport", ((80, 80), (443, 443)), module="multiport")),
                   (Proto("udp"), Ports("dport", ((443, 443),), module="udp"))]


def test_a_list_of_services_merges_by_protocol():
    assert conds("allow http, https") == [
        (Proto("tcp"), Ports("dport", ((80, 80), (443, 443)), module="multiport"))]


def test_user_service_may_replace_a_builtin_one():
    assert conds("service ssh = tcp 2222\nallow ssh") == [
        (Proto("tcp"), Ports("dport", ((2222, 2222),), module="tcp"))]


# --------------------------------------------------------------------------- addresses and families


def test_ipv4_source_makes_an_ipv4_only_rule():
    text = "allow tcp 22 from 10.0.0.0/8"
    assert conds(text) == [(Addr("src", net("10.0.0.0/8")), Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"))]
    assert conds(text, family=6) == []


def test_mixed_address_list_splits_by_family_and_address():
    text = "define admins = 203.0.113.0/24, 2001:db8:10::/48, 198.51.100.7\nallow from $admins"
    assert conds(text) == [(Addr("src", net("203.0.113.0/24")),), (Addr("src", net("198.51.100.7/32")),)]
    assert conds(text, family=6) == [(Addr("src", net("2001:db8:10::/48")),)]


def test_any_means_no_address_match():
    assert conds("allow from any to any") == [()]
    assert conds("allow from any to any", family=6) == [()]


def test_address_range_uses_iprange_after_the_protocol():
    got = conds("allow tcp 22 from 10.0.0.1-10.0.0.9 to 10.1.0.0/16")
    assert got == [(Addr("dst", net("10.1.0.0/16")), Proto("tcp"),
                    Addr("src", (ip("10.0.0.1"), ip("10.0.0.9")), module="iprange"),
                    Ports("dport", ((22, 22),), module="tcp"))]


def test_not_one_address_is_a_negated_match():
    assert conds("deny from not 10.0.0.0/8") == [(Addr("src", net("10.0.0.0/8"), negated=True),)]
    assert conds("deny from not 10.0.0.1-10.0.0.5") == [
        (Addr("src", (ip("10.0.0.1"), ip("10.0.0.5")), negated=True, module="iprange"),)]


def test_not_a_list_becomes_the_ranges_outside_it():
    got = conds("deny from not {10.0.0.0/8, 192.168.0.0/16}")
    assert got == [
        (Addr("src", (ip("0.0.0.0"), ip("9.255.255.255")), module="iprange"),),
        (Addr("src", (ip("11.0.0.0"), ip("192.167.255.255")), module="iprange"),),
        (Addr("src", (ip("192.169.0.0"), ip("255.255.255.255")), module="iprange"),),
    ]


def test_gaps_that_are_networks_use_plain_addresses():
    got = conds("deny from not {0.0.0.0/1, 192.0.0.0/2}")
    assert got == [(Addr("src", net("128.0.0.0/2")),)]


def test_negated_mixed_list_negates_each_family_separately():
    text = "deny from not {10.0.0.0/8, 2001:db8::/32}"
    assert conds(text) == [(Addr("src", net("10.0.0.0/8"), negated=True),)]
    assert conds(text, family=6) == [(Addr("src", net("2001:db8::/32"), negated=True),)]


def test_explicit_family():
    assert conds("allow ipv6 tcp 22") == []
    assert len(conds("allow ipv6 tcp 22", family=6)) == 1


# --------------------------------------------------------------------------- direction, interfaces


def test_directions_pick_the_chain_and_interface_side():
    assert rules("allow out on eth0 tcp 80", chain="OUTPUT") == [
        rule("OUTPUT", Iface("out", "eth0"), Proto("tcp"), Ports("dport", ((80, 80),), module="tcp"))]
    assert rules("allow forward in on eth0 out on wg+", chain="FORWARD") == [
        rule("FORWARD", Iface("in", "eth0"), Iface("out", "wg+"))]


def test_interface_list_gives_a_rule_per_interface():
    assert conds("define lan = eth1, eth2\nallow on $lan") == [(Iface("in", "eth1"),), (Iface("in", "eth2"),)]


def test_addresses_come_before_interfaces_as_iptables_save_prints_them():
    assert conds("allow in on eth0 from 10.0.0.0/8 to 10.0.0.1") == [
        (Addr("src", net("10.0.0.0/8")), Addr("dst", net("10.0.0.1/32")), Iface("in", "eth0"))]


# --------------------------------------------------------------------------- shorthands


def test_loopback_established_invalid():
    assert rules("allow loopback") == [rule("INPUT", Iface("in", "lo"))]
    assert rules("allow out loopback", chain="OUTPUT") == [rule("OUTPUT", Iface("out", "lo"))]
    assert rules("allow forward established", chain="FORWARD") == [rule("FORWARD", EST)]
    assert rules("drop invalid", family=6) == [
        rule("INPUT", State(frozenset({"INVALID"}), module="conntrack"), target=DROP)]


# --------------------------------------------------------------------------- options


def test_state_option():
    assert conds("allow tcp 22 state new") == [
        (Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"), State(frozenset({"NEW"}), module="conntrack"))]


def test_limit_uses_iptables_save_spelling_and_leaves_out_the_default_burst():
    assert conds("allow icmp 8 limit 6/minute burst 10") == [
        (Proto("icmp"), Icmp(4, 8, None, module="icmp"),
         Rate((("limit", "6/min"), ("limit-burst", "10")), module="limit"))]
    assert conds("allow tcp 80 limit 100/second burst 5")[0][-1] == Rate((("limit", "100/sec"),), module="limit")


def test_limit_per_source_is_a_hashlimit_with_a_stable_short_name():
    first = conds("allow ssh limit 6/minute per source")[0][-1]
    again = conds("allow ssh limit 6/minute per source")[0][-1]
    assert first.module == "hashlimit"
    assert first.options[:3] == (("hashlimit-upto", "6/min"), ("hashlimit-burst", "5"), ("hashlimit-mode", "srcip"))
    key, name = first.options[3]
    assert key == "hashlimit-name" and len(name) <= 15 and name == again.get("hashlimit-name")
    twice = conds("allow ssh limit 1/hour per source\nallow ssh limit 1/hour per source")
    assert twice[0][-1].get("hashlimit-name") != twice[1][-1].get("hashlimit-name")


def test_log_adds_a_rate_limited_log_rule_before_the_verdict():
    got = rules('deny tcp 23 log "telnet: " level info')
    match = (Proto("tcp"), Ports("dport", ((23, 23),), module="tcp"))
    assert got == [
        rule("INPUT", *match, Rate((("limit", "3/min"), ("limit-burst", "10")), module="limit"),
             target=Target("LOG", ("--log-prefix", "telnet: ", "--log-level", "6"))),
        rule("INPUT", *match, target=DROP),
    ]


def test_log_default_prefix_and_level():
    log = rules("allow tcp 22 log")[0]
    assert log.target == Target("LOG", ("--log-prefix", "[fwc] INPUT ACCEPT: "))


def test_log_rule_keeps_the_state_but_not_the_rule_limit():
    log, verdict = rules("allow tcp 22 state new limit 1/second log")
    assert log.match.conds[-2:] == (State(frozenset({"NEW"}), module="conntrack"),
                                    Rate((("limit", "3/min"), ("limit-burst", "10")), module="limit"))
    assert verdict.match.conds[-1] == Rate((("limit", "1/sec"),), module="limit")


def test_reject_replies_per_protocol_and_family():
    assert rules("reject tcp 25")[0].target == Target("REJECT", ("--reject-with", "tcp-reset"))
    assert rules("reject udp 25")[0].target == Target("REJECT", ("--reject-with", "icmp-port-unreachable"))
    assert rules("reject udp 25", family=6)[0].target == Target("REJECT", ("--reject-with", "icmp6-port-unreachable"))
    assert rules("reject tcp 25 with port-unreachable", family=6)[0].target == Target(
        "REJECT", ("--reject-with", "icmp6-port-unreachable"))
    assert rules("reject with admin-prohibited", family=6)[0].target == Target(
        "REJECT", ("--reject-with", "icmp6-adm-prohibited"))


def test_reject_of_a_service_with_two_protocols():
    got = rules("reject dns")
    assert [r.target.args[1] for r in got] == ["icmp-port-unreachable", "tcp-reset"]


def test_comment_is_unquoted_on_the_rule():
    got = rules(r'allow tcp 22 comment "it\'s \"ssh\" \\ admin"')
    assert got[0].comment == "it's \"ssh\" \\ admin"


def test_options_in_any_order():
    a = rules('allow tcp 22 comment "x" state new limit 1/second')
    b = rules('allow tcp 22 limit 1/second state new comment "x"')
    assert a == b


# --------------------------------------------------------------------------- definitions


def test_definitions_hold_ports_addresses_and_nest():
    text = "define web = 80, 443\ndefine more = $web, 8000-8100\nallow tcp $more"
    assert conds(text) == [(Proto("tcp"), Ports("dport", ((80, 80), (443, 443), (8000, 8100)), module="multiport"))]


def test_braced_lists_span_lines():
    text = "allow tcp {\n  22,   # ssh\n  80,\n}\nallow udp 53\n"
    got = rules(text)
    assert [r.match.conds for r in got] == [
        (Proto("tcp"), Ports("dport", ((22, 22), (80, 80)), module="multiport")),
        (Proto("udp"), Ports("dport", ((53, 53),), module="udp")),
    ]
    assert (got[0].span.line, got[0].span.end_line, got[1].span.line) == (1, 4, 5)
