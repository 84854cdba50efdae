"""The nftables backend on hand-built models: exact rule text, set folding, the merge of
the two families into one inet table, and refusals with spans."""

from __future__ import annotations

import ipaddress
import subprocess

import pytest

from fwc.backends import nftables
from fwc.model import (Addr, Chain, Fragment, Icmp, Iface, Match, Opaque, Ports, Proto, Rate,
                       Rule, Ruleset, State, Table, Target, TcpFlags)
from fwc.source import Span
from tests.conftest import need_root, need_tool


def rule(chain="INPUT", *conds, target="ACCEPT", args=(), comment=None, line=1, goto=False):
    return Rule(chain, Match(tuple(conds)), Target(target, args, goto) if target else None,
                comment, span=Span("p.fw", line, 1, line, 5))


def ruleset(family, rules, policies=("DROP", "DROP", "ACCEPT"), extra_chains=()):
    chains = [Chain(name, policy, tuple(r for r in rules if r.chain == name))
              for name, policy in zip(("INPUT", "FORWARD", "OUTPUT"), policies)]
    chains += [Chain(name, None, tuple(r for r in rules if r.chain == name))
               for name in extra_chains]
    return Ruleset(family, (Table("filter", tuple(chains)),))


def chain_body(text, chain="input"):
    """The rule lines of one chain, without the base-chain declaration."""
    lines = text.split(f"\tchain {chain} {{\n", 1)[1].split("\t}\n", 1)[0].splitlines()
    return [line.strip() for line in lines if not line.strip().startswith("type filter")]


def both(rules4, rules6=None, **kw):
    return nftables.render({4: ruleset(4, rules4, **kw), 6: ruleset(6, rules6 or [], **kw)},
                           source_name="p.fw")


TCP = Proto("tcp")


def test_shared_rules_are_written_once_and_family_rules_are_restricted():
    common = [rule("INPUT", Iface("in", "lo"), line=1),
              rule("INPUT", State(frozenset({"ESTABLISHED", "RELATED"})), line=2),
              rule("INPUT", TCP, Ports("dport", ((22, 22),)), line=3)]
    v4 = common + [rule("INPUT", Proto("icmp"), Icmp(4, 8), line=4)]
    v6 = common + [rule("INPUT", Proto("ipv6-icmp"), Icmp(6, 128), line=4)]
    assert chain_body(both(v4, v6)) == [
        'iifname "lo" accept',
        "ct state established,related accept",
        "tcp dport 22 accept",
        "meta nfproto ipv4 icmp type echo-request accept",
        "meta nfproto ipv6 icmpv6 type echo-request accept",
    ]


def test_worked_example_folds_multiport_and_icmp_types_into_sets():
    v4 = [rule("INPUT", TCP, Ports("dport", ((22, 22), (80, 80), (443, 443)), module="multiport")),
          *[rule("INPUT", Proto("icmp"), Icmp(4, t), line=2) for t in (0, 3, 11)]]
    assert chain_body(both(v4, v4[:1])) == [
        "tcp dport { 22, 80, 443 } accept",
        "meta nfproto ipv4 icmp type { echo-reply, destination-unreachable, time-exceeded } accept",
    ]


def test_split_multiport_rules_fold_back_into_one_set_with_ranges_merged():
    chunks = [rule("INPUT", TCP, Ports("dport", tuple((p, p) for p in range(1000, 1015))),
                   line=1),
              rule("INPUT", TCP, Ports("dport", ((1015, 1020), (22, 22))), line=1)]
    assert chain_body(both(chunks, chunks)) == ["tcp dport { 22, 1000-1020 } accept"]


def test_address_rules_fold_only_within_a_family_and_imply_it():
    v4 = [rule("INPUT", Addr("src", ipaddress.ip_network("10.0.0.0/8")), TCP,
               Ports("dport", ((25, 25),)), line=1),
          rule("INPUT", Addr("src", (ipaddress.ip_address("192.0.2.1"),
                                     ipaddress.ip_address("192.0.2.9"))), TCP,
               Ports("dport", ((25, 25),)), line=1)]
    v6 = [rule("INPUT", Addr("src", ipaddress.ip_network("2001:db8::1/128"), negated=True),
               TCP, Ports("dport", ((25, 25),)), line=1)]
    assert chain_body(both(v4, v6)) == [
        "ip saddr { 10.0.0.0/8, 192.0.2.1-192.0.2.9 } tcp dport 25 accept",
        "ip6 saddr != 2001:db8::1 tcp dport 25 accept",
    ]


def test_rules_with_different_verdicts_or_rate_state_are_not_folded():
    v4 = [rule("INPUT", TCP, Ports("dport", ((1, 1),)), line=1),
          rule("INPUT", TCP, Ports("dport", ((2, 2),)), target="DROP", line=2),
          rule("INPUT", TCP, Ports("dport", ((3, 3),)), Rate((("limit", "6/min"),)), line=3),
          rule("INPUT", TCP, Ports("dport", ((4, 4),)), Rate((("limit", "6/min"),)), line=4)]
    assert chain_body(both(v4, [])) == [
        "meta nfproto ipv4 tcp dport 1 accept",
        "meta nfproto ipv4 tcp dport 2 drop",
        "meta nfproto ipv4 tcp dport 3 limit rate 6/minute burst 5 packets accept",
        "meta nfproto ipv4 tcp dport 4 limit rate 6/minute burst 5 packets accept",
    ]


def test_a_rate_limit_is_never_shared_between_families():
    # iptables keeps one token bucket per family; one nft rule would share it.
    limited = [rule("INPUT", TCP, Ports("dport", ((22, 22),)),
                    Rate((("limit", "3/min"), ("limit-burst", "10"))), line=1)]
    assert chain_body(both(limited, limited)) == [
        "meta nfproto ipv4 tcp dport 22 limit rate 3/minute burst 10 packets accept",
        "meta nfproto ipv6 tcp dport 22 limit rate 3/minute burst 10 packets accept",
    ]


def test_limit_per_source_uses_a_dynamic_set_per_family():
    cond = Rate((("hashlimit-upto", "6/min"), ("hashlimit-burst", "10"),
                 ("hashlimit-mode", "srcip"), ("hashlimit-name", "ssh")), module="hashlimit")
    text = both([rule("INPUT", TCP, Ports("dport", ((22, 22),)), cond)],
                [rule("INPUT", TCP, Ports("dport", ((22, 22),)), cond)])
    assert "\tset fwc_ssh_v4 {\n\t\ttype ipv4_addr\n" in text
    assert "\tset fwc_ssh_v6 {\n\t\ttype ipv6_addr\n" in text
    assert chain_body(text) == [
        "meta nfproto ipv4 tcp dport 22 update @fwc_ssh_v4 "
        "{ ip saddr limit rate 6/minute burst 10 packets } accept",
        "meta nfproto ipv6 tcp dport 22 update @fwc_ssh_v6 "
        "{ ip6 saddr limit rate 6/minute burst 10 packets } accept",
    ]


def test_log_reject_and_comment_statements():
    v = [rule("INPUT", TCP, Ports("dport", ((23, 23),)), Rate((("limit", "3/min"),)),
              target="LOG", args=("--log-prefix", "telnet: ", "--log-level", "4"), line=1),
         rule("INPUT", TCP, Ports("dport", ((23, 23),)), target="REJECT",
              args=("--reject-with", "tcp-reset"), comment="no telnet", line=1),
         rule("INPUT", Proto("udp"), target="REJECT", line=2)]
    body = chain_body(both(v, v))
    assert body == [
        'meta nfproto ipv4 tcp dport 23 limit rate 3/minute burst 5 packets '
        'log prefix "telnet: " level warn',
        'meta nfproto ipv6 tcp dport 23 limit rate 3/minute burst 5 packets '
        'log prefix "telnet: " level warn',
        'tcp dport 23 reject with tcp reset comment "no telnet"',
        "meta l4proto udp reject with icmpx port-unreachable",
    ]


def test_family_specific_reject_type_stays_in_its_family():
    v4 = [rule("INPUT", target="REJECT", args=("--reject-with", "icmp-host-prohibited"))]
    v6 = [rule("INPUT", target="REJECT", args=("--reject-with", "icmp6-adm-prohibited"))]
    assert chain_body(both(v4, v6)) == [
        "meta nfproto ipv4 reject with icmp host-prohibited",
        "meta nfproto ipv6 reject with icmpx admin-prohibited",
    ]


def test_different_policies_per_family_accept_and_drop_the_dropping_family():
    text = nftables.render({4: ruleset(4, [], ("DROP", "DROP", "ACCEPT")),
                            6: ruleset(6, [], ("ACCEPT", "DROP", "ACCEPT"))},
                           source_name="p.fw")
    assert "type filter hook input priority filter; policy accept;" in text
    assert chain_body(text) == ["meta nfproto ipv4 drop"]
    assert "type filter hook forward priority filter; policy drop;" in text


def test_tcp_flags_fragments_state_negation_and_either_port():
    v4 = [rule("INPUT", TCP, TcpFlags(frozenset({"SYN", "RST", "ACK", "FIN"}),
                                      frozenset({"SYN"}), negated=True), target="DROP"),
          rule("INPUT", Fragment(), target="DROP", line=2),
          rule("INPUT", State(frozenset({"NEW", "INVALID"}), negated=True), target="DROP",
               line=3),
          rule("INPUT", Proto("udp"), Ports("ports", ((53, 53),), module="multiport"), line=4)]
    assert chain_body(both(v4, [])) == [
        "meta nfproto ipv4 tcp flags & (fin|syn|rst|ack) != syn drop",
        "meta nfproto ipv4 ip frag-off & 0x1fff != 0 drop",
        "meta nfproto ipv4 ct state != { new, invalid } drop",
        "meta nfproto ipv4 udp sport 53 accept",
        "meta nfproto ipv4 udp sport != 53 udp dport 53 accept",
    ]


def test_either_port_split_is_disjoint_so_a_log_rule_logs_once():
    v4 = [rule("INPUT", Proto("tcp"), Ports("ports", ((80, 80), (443, 443)), module="multiport"),
               target="LOG", args=("--log-prefix", "web: "))]
    assert chain_body(both(v4, v4)) == [
        'tcp sport { 80, 443 } log prefix "web: "',
        'tcp sport != { 80, 443 } tcp dport { 80, 443 } log prefix "web: "',
    ]


def test_negated_icmp_type_and_code_is_a_concatenation():
    v4 = [rule("INPUT", Proto("icmp"), Icmp(4, 3, 4, negated=True), target="DROP")]
    assert chain_body(both(v4, [])) == [
        "meta nfproto ipv4 icmp type . icmp code != { 3 . 4 } drop"]


def test_user_chains_jump_goto_and_lower_case_names_are_prefixed():
    rules = [rule("INPUT", TCP, target="SSH_IN"),
             rule("INPUT", Proto("udp"), target="logdrop", goto=True, line=2),
             rule("SSH_IN", target="RETURN", line=3),
             rule("logdrop", target="DROP", line=4)]
    text = both(rules, rules, extra_chains=("SSH_IN", "logdrop"))
    assert chain_body(text) == ["meta l4proto tcp jump SSH_IN", "meta l4proto udp goto fwc_logdrop"]
    assert chain_body(text, "fwc_logdrop") == ["drop"]
    assert chain_body(text, "SSH_IN") == ["return"]


def test_opaque_match_is_refused_with_its_span():
    span = Span("p.fw", 7, 12, 7, 30)
    bad = rule("INPUT", TCP, Opaque("recent", ("--set",), span=span), line=7)
    diagnostics = nftables.diagnose({4: ruleset(4, [bad]), 6: ruleset(6, [])},
                                    source_name="p.fw")
    assert [(d.code, d.span.line, d.span.col) for d in diagnostics] == [("FW015", 7, 12)]
    assert "`-m recent`" in diagnostics[0].message
    with pytest.raises(nftables.NftUnsupported) as err:
        nftables.render({4: ruleset(4, [bad])}, source_name="p.fw")
    assert err.value.diagnostics == diagnostics


def test_unsupported_targets_tables_and_comments_are_refused_at_the_rule():
    nat = Ruleset(4, (Table("filter", ()), Table("nat", (Chain("POSTROUTING", "ACCEPT", (
        rule("POSTROUTING", target="MASQUERADE", line=3),)),))))
    diagnostics = nftables.diagnose(
        {4: nat, 6: ruleset(6, [rule("INPUT", target="TCPMSS", line=5),
                                rule("INPUT", comment='say "hi"', line=6),
                                rule("INPUT", comment="x" * 128, line=8)])})
    assert [d.span.line for d in diagnostics] == [3, 5, 6, 8]
    assert "`nat` table" in diagnostics[0].message
    assert "`-j TCPMSS`" in diagnostics[1].message


def test_output_is_deterministic_and_names_its_source():
    rules = [rule("INPUT", TCP, Ports("dport", ((22, 22),)))]
    first = both(rules, rules)
    assert first == both(rules, rules)
    assert first.splitlines()[:2] == [
        "#!/usr/sbin/nft -f", "# Generated by fwc from p.fw; edit the policy, not this file."]


@pytest.mark.system
def test_every_construct_here_passes_nft_check(tmp_path):
    need_root()
    need_tool("nft", "unshare")
    cond = Rate((("hashlimit-above", "6/sec"), ("hashlimit-mode", "dstip")), module="hashlimit")
    v4 = [rule("INPUT", Iface("in", "eth+"), TCP, Ports("dport", ((22, 22),)), cond),
          rule("INPUT", Proto("icmp"), Icmp(4, 3, 4), line=2),
          rule("INPUT", Proto("icmp"), Icmp(4, None), line=3),
          rule("INPUT", Proto("47"), target="DROP", line=4),
          rule("INPUT", Proto("sctp"), Ports("dport", ((9, 9),), negated=True), line=5),
          rule("INPUT", Fragment(negated=True), TCP, TcpFlags(frozenset({"ALL"}),
                                                               frozenset({"NONE"})),
               target="DROP", line=6),
          rule("INPUT", target="NFLOG", args=("--nflog-group", "2", "--nflog-prefix", "x"),
               line=7),
          rule("OUTPUT", Iface("out", "eth0", negated=True), Proto("udp"),
               Ports("sport", ((1024, 65535),)), target="REJECT",
               args=("--reject-with", "icmp-net-prohibited"), line=8),
          rule("FORWARD", target="LOG", args=("--log-level", "debug", "--log-tcp-options",
                                              "--log-uid"), line=9)]
    v6 = [rule("INPUT", Proto("ipv6-icmp"), Icmp(6, 1, 4), line=2),
          rule("INPUT", Proto("ipv6-icmp"), Icmp(6, 143), line=2),
          rule("INPUT", TCP, target="REJECT", args=("--reject-with", "icmp6-addr-unreachable"),
               line=10)]
    text = both(v4, v6)
    path = tmp_path / "fwc.nft"
    path.write_text(text)
    done = subprocess.run(["unshare", "-n", "nft", "-c", "-f", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + text


def test_return_in_a_builtin_chain_applies_that_familys_policy():
    # iptables: RETURN from INPUT falls to the policy; nft: return from a base chain accepts.
    v4 = [rule("INPUT", Proto("udp"), target="RETURN"), rule("INPUT", Proto("udp"), line=2)]
    v6 = [rule("INPUT", Proto("udp"), target="RETURN"), rule("INPUT", Proto("udp"), line=2)]
    text = nftables.render({4: ruleset(4, v4, ("DROP", "DROP", "ACCEPT")),
                            6: ruleset(6, v6, ("ACCEPT", "DROP", "ACCEPT"))}, source_name="p.fw")
    # IPv6's RETURN (now `accept`) pairs with IPv4's second rule: each family still meets
    # its own rules in its own order.
    assert chain_body(text) == [
        "meta nfproto ipv4 meta l4proto udp drop",
        "meta l4proto udp accept",
        "meta nfproto ipv6 meta l4proto udp accept",
        "meta nfproto ipv4 drop",
    ]
    sub = [rule("SUB", target="RETURN")]
    assert chain_body(both(sub, sub, extra_chains=("SUB",)), "SUB") == ["return"]
