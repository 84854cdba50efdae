"""The iptables-save reader: goldens, error positions, commands, family detection, and the
agreement of its fast paths (word splitting, shape templates) with the reference paths."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.diagnostics import Severity
from fwc.model import Addr, Icmp, Iface, Opaque, Ports, Proto, Rate, State, TcpFlags
from fwc.parse.rules_save import (detect_family, lark_words, parse_rule, read_rules, split_words,
                                  split_words_regex)
from fwc.source import LineMap, Span

HERE = Path(__file__).parent
GOLDENS = HERE / "goldens"
ROOT = HERE.parent.parent
SHARED = ROOT.parent / "shared"


# --------------------------------------------------------------------------- goldens

def _cond(c) -> str:
    fields = {k: getattr(c, k) for k in c.__slots__ if k != "span"}
    for key, value in list(fields.items()):
        if isinstance(value, frozenset):
            fields[key] = "{" + ",".join(sorted(value)) + "}"
    where = f"@{c.span.col}-{c.span.end_col}" if c.span else ""
    return f"{type(c).__name__}({', '.join(f'{k}={v}' for k, v in fields.items())}){where}"


def describe(result) -> str:
    """A stable text view of what the reader made of a file."""
    out = [f"family {result.ruleset.family}"]
    for table in result.ruleset.tables:
        out.append(f"table {table.name}")
        for chain in table.chains:
            out.append(f"  chain {chain.name} policy={chain.policy} counters={chain.counters}")
            for rule in chain.rules:
                out.append(f"    line {rule.span.line} counters={rule.counters} comment={rule.comment!r}")
                out += [f"      {_cond(c)}" for c in rule.match.conds]
                t = rule.target
                if t is not None:
                    out.append(f"      -> {'goto ' if t.goto else ''}{t.name} {list(t.args)} "
                               f"@{t.span.col}-{t.span.end_col}")
    for d in result.diagnostics:
        out.append(f"{d.code} {d.severity} {d.span.line}:{d.span.col}-{d.span.end_col} {d.message}")
    for c in result.comments:
        out.append(f"comment {c.span.line}:{c.span.col} {c.text!r}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDENS.glob("*.rules")))
def test_golden(name):
    source = GOLDENS / f"{name}.rules"
    result = read_rules(source.read_text(), source.name)
    golden = GOLDENS / f"{name}.golden"
    assert describe(result) == golden.read_text()


# --------------------------------------------------------------------------- lowering

def _one(line: str, family: int = 4, table: str = "filter"):
    rule, diags = parse_rule(line, family=family, table=table)
    assert diags == [], diags
    return rule


def test_typed_conditions_and_their_modules():
    rule = _one("-A INPUT ! -s 10.0.0.0/8 -i eth+ -p 6 --dport 1000: -m conntrack --ctstate new,ESTABLISHED "
                "-m multiport --sports 22,80:90 -m comment --comment \"web \\\"front\\\"\" -j ACCEPT")
    assert rule.match.conds == (
        Addr("src", ipaddress.ip_network("10.0.0.0/8"), True, None),
        Iface("in", "eth+", False, None),
        Proto("tcp", False, None),
        Ports("dport", ((1000, 65535),), False, "tcp"),
        State(frozenset({"NEW", "ESTABLISHED"}), False, "conntrack"),
        Ports("sport", ((22, 22), (80, 90)), False, "multiport"),
    )
    assert rule.comment == 'web "front"'


def test_canonical_forms():
    rule = _one("-A INPUT -p icmp --icmp-type echo-request -m limit --limit 6/minute -j REJECT")
    assert rule.match.conds[1] == Icmp(4, 8, None, False, "icmp")
    assert rule.match.conds[2] == Rate((("limit", "6/min"),), False, "limit")
    assert rule.target.args == ("--reject-with", "icmp-port-unreachable")
    assert _one("-A INPUT -p icmpv6 -j ACCEPT", family=6).match.conds == (Proto("ipv6-icmp", False, None),)
    flags = _one("-A INPUT -p tcp --syn -j DROP").match.conds[1]
    assert flags == TcpFlags(frozenset({"FIN", "SYN", "RST", "ACK"}), frozenset({"SYN"}), False, "tcp")


def test_known_and_unknown_modules_stay_opaque():
    rule = _one("-A INPUT -m mac ! --mac-source 00:11:22:33:44:55 -m foo --bar baz -j ACCEPT")
    assert rule.match.conds == (Opaque("mac", ("!", "--mac-source", "00:11:22:33:44:55"), False, True),
                                Opaque("foo", ("--bar", "baz"), False, False))


def test_condition_spans_point_at_their_words():
    line = "-A INPUT ! -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT"
    rule = _one(line)
    addr, proto, ports = rule.match.conds
    assert (addr.span.col, addr.span.end_col) == (10, 25)   # "! -s 10.0.0.0/8"
    assert line[proto.span.col - 1:proto.span.end_col - 1] == "-p tcp"
    assert line[ports.span.col - 1:ports.span.end_col - 1] == "--dport 22"
    assert line[rule.target.span.col - 1:rule.target.span.end_col - 1] == "-j ACCEPT"


def test_comma_separated_addresses_become_one_rule_each():
    result = read_rules("*filter\n-A INPUT -s 10.0.0.1,10.0.0.2 -d 192.0.2.1,192.0.2.2 -j ACCEPT\nCOMMIT\n",
                        "rules.v4")
    rules = result.ruleset.table("filter").chain("INPUT").rules
    pairs = [(str(r.match.conds[0].value), str(r.match.conds[1].value)) for r in rules]
    assert pairs == [("10.0.0.1/32", "192.0.2.1/32"), ("10.0.0.1/32", "192.0.2.2/32"),
                     ("10.0.0.2/32", "192.0.2.1/32"), ("10.0.0.2/32", "192.0.2.2/32")]


def test_hostnames_and_odd_masks_are_kept_verbatim():
    rule = _one("-A INPUT -s backup.example.com -d 10.11.12.13/255.0.255.0 -j ACCEPT")
    assert rule.match.conds == (Opaque("", ("-s", "backup.example.com"), False, False),
                                Opaque("", ("-d", "10.11.12.13/255.0.255.0"), False, False))


# --------------------------------------------------------------------------- errors

ERRORS = [
    # (line, family, code, column, words in the message)
    ("-A INPUT -p tcp --dport 70000 -j ACCEPT", 4, "FW008", 25, "70000"),
    ("-A INPUT -p tcp -m tcp --dport 22 --dport 23 -j ACCEPT", 4, "FW001", 35, "only once"),
    ("-A INPUT -s 1.2.3.4 -s 1.2.3.5 -j ACCEPT", 4, "FW001", 21, "only once"),
    ("-A INPUT ! ! -s 1.2.3.4 -j ACCEPT", 4, "FW001", 12, "consecutive"),
    ("-A INPUT -p tcp --dport 22 ! -j ACCEPT", 4, "FW001", 28, "'!' cannot be used before -j"),
    ("-A INPUT ! -m tcp -j ACCEPT", 4, "FW001", 10, "--match"),
    ("-A INPUT -m state --state NEW,FOO -j ACCEPT", 4, "FW008", 27, "FOO"),
    ("-A INPUT -m conntrack -j ACCEPT", 4, "FW001", 10, "is required"),
    ("-A INPUT -m comment -j ACCEPT", 4, "FW001", 10, "--comment must be specified"),
    ("-A INPUT -m mark --mark 0x1ffffffff -j ACCEPT", 4, "FW008", 25, "mark"),
    ("-A INPUT -j MARK", 4, "FW001", 10, "is required"),
    ("-A INPUT -p tcp -m tcp --tcp-flags SYN,FOO SYN -j DROP", 4, "FW008", 36, "FOO"),
    ("-A INPUT -m limit --limit 5/fortnight -j ACCEPT", 4, "FW008", 27, "rate"),
    ("-A INPUT -p icmp --icmp-type 300 -j ACCEPT", 4, "FW008", 30, "300"),
    ("-A INPUT -s ::1 -j ACCEPT", 4, "FW011", 13, "IPv6"),
    ("-A INPUT -f -j DROP", 6, "FW011", 10, "IPv4"),
    ("-A INPUT -j TTL --ttl-set 1", 6, "FW011", 13, "IPv4"),
    ("-A INPUT -m comment --comment " + "x" * 256 + " -j ACCEPT", 4, "FW013", 31, "255"),
    ("-A INPUT -p tcp --sport=22 --protocol=tcp -j ACCEPT", 4, "FW001", 28, "--protocol=tcp"),
    ("-A INPUT -m set --match-set blocklist src,foo -j DROP", 4, "FW008", 39, "src and dst"),
]


@pytest.mark.parametrize("line,family,code,col,words", ERRORS)
def test_error_positions(line, family, code, col, words):
    text = f"*filter\n:INPUT DROP [0:0]\n{line}\nCOMMIT\n"
    result = read_rules(text, "rules", family=family)
    assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [(code, 3, col)]
    assert words in result.diagnostics[0].message
    assert result.ruleset.table("filter").chain("INPUT").rules == ()


def test_one_bad_line_does_not_stop_the_file():
    text = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport x -j ACCEPT\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n"
    result = read_rules(text, "rules.v4")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("FW008", 3)]
    assert len(result.ruleset.table("filter").chain("INPUT").rules) == 1


def test_crlf_file_is_one_finding_and_still_read():
    result = read_rules("*filter\r\n:INPUT DROP [0:0]\r\n-A INPUT -j ACCEPT\r\nCOMMIT\r\n", "rules.v4")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("FW001", 1)]
    assert result.ruleset.table("filter").chain("INPUT").rules[0].target.name == "ACCEPT"


def test_malformed_chain_counters_are_a_warning():
    result = read_rules("*filter\n:QBS-POSTROUTING - [0:0\nCOMMIT\n", "ip6tables", family=6)
    (d,) = result.diagnostics
    assert (d.code, d.severity, d.span.line, d.span.col) == ("FW001", Severity.WARNING, 2, 20)


def test_comments_are_captured_with_positions():
    result = read_rules("# fwc: ignore=FW102 -- lab host\n*filter\n:INPUT DROP [0:0]\nCOMMIT\n", "rules.v4")
    (comment,) = result.comments
    assert (comment.span.line, comment.span.col, comment.own_line) == (1, 1, True)
    assert comment.text == " fwc: ignore=FW102 -- lab host"


# --------------------------------------------------------------------------- commands

def test_restore_commands_edit_the_chains():
    text = (GOLDENS / "restore-commands.rules").read_text()
    result = read_rules(text, "rules.v4")
    assert result.diagnostics == []
    table = result.ruleset.table("filter")
    assert table.chain("INPUT").policy == "DROP"
    ports = [r.match.conds[1].ranges[0][0] for r in table.chain("SERVICES").rules]
    assert ports == [443, 8443, 53]
    assert [c.name for c in table.chains] == ["INPUT", "SERVICES", "RENAMED"]


def test_insert_beyond_the_end_is_reported():
    result = read_rules("*filter\n:INPUT DROP [0:0]\n-I INPUT 3 -j ACCEPT\nCOMMIT\n", "rules.v4")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("FW008", 3)]


# --------------------------------------------------------------------------- family

@pytest.mark.parametrize("text,path,family", [
    ("# Generated by ip6tables-save v1.8.9\n*filter\nCOMMIT\n", "dump", 6),
    ("*filter\nCOMMIT\n", "/etc/iptables/rules.v6", 6),
    ("*filter\nCOMMIT\n", "/etc/ufw/before6.rules", 6),
    ("*filter\nCOMMIT\n", "/etc/sysconfig/ip6tables", 6),
    ("*filter\n-A INPUT -s 2001:db8::/32 -j ACCEPT\nCOMMIT\n", "user-data", 6),
    ("*filter\n-A INPUT -p ipv6-icmp -j ACCEPT\nCOMMIT\n", "rules", 6),
    ("*filter\n-A INPUT -s 192.0.2.1 -j ACCEPT\nCOMMIT\n", "rules", 4),
    ("*filter\nCOMMIT\n", "/etc/iptables/rules.v4", 4),
    ("*filter\nCOMMIT\n", "rules", 4),
])
def test_family_detection(text, path, family):
    assert detect_family(text, path) == family
    assert read_rules(text, path).ruleset.family == family


# --------------------------------------------------------------------------- positions

def test_linemap_moves_findings_into_the_outer_file():
    result = read_rules("*filter\n-A INPUT -p tcp --dport x -j ACCEPT\nCOMMIT\n", "user-data",
                        linemap=LineMap("user-data", first_line=10, indent=6))
    (d,) = result.diagnostics
    assert (d.span.path, d.span.line, d.span.col) == ("user-data", 11, 31)


def test_parse_rule_points_into_the_given_span():
    span = Span("policy.fw", 7, 9, 7, 60)
    rule, diags = parse_rule("-A INPUT -p tcp --dport 22 -j ACCEPT", family=4, span=span)
    assert rule.span == span and diags == []
    rule, diags = parse_rule("-A INPUT -p tcp --dport 99999 -j ACCEPT", family=4, span=span)
    assert rule is None
    assert [(d.code, d.span.path, d.span.line, d.span.col) for d in diags] == [("FW008", "policy.fw", 7, 33)]


# --------------------------------------------------------------------------- fast paths

def _corpus_lines() -> list[str]:
    lines = []
    for path in sorted((SHARED / "corpus" / "real").glob("*")):
        if path.name != "SOURCES.md":
            lines += path.read_bytes().decode("utf-8", errors="replace").split("\n")
    for golden in GOLDENS.glob("*.rules"):
        lines += golden.read_text().split("\n")
    return [l for l in lines if l.strip() and l[0] not in "#*:["]


def test_word_splitters_agree_on_every_corpus_line():
    lines = _corpus_lines()
    assert len(lines) > 20
    for line in lines:
        fast = split_words(line)
        assert fast == split_words_regex(line), line
        if fast is not None:
            assert lark_words(line)[1] == fast, line


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=' "\\ab-!\t', max_size=24))
def test_word_splitters_agree_on_any_text(text):
    line = "-A X " + text
    fast = split_words(line)
    assert fast == split_words_regex(line)
    if fast is not None and fast:
        assert lark_words(line)[1] == fast


def _everything(result):
    """Chains and rules with every span and counter, which are not part of equality."""
    chains = [(t.name, c.name, c.policy, c.span, c.counters) for t in result.ruleset.tables
              for c in t.chains]
    return chains + [(r, r.span, r.counters, r.text, tuple(c.span for c in r.match.conds),
                      r.target.span if r.target else None) for _, _, r in result.ruleset.rules()]


def _shape_files() -> list[tuple[str, str]]:
    files = [(p.name, p.read_text()) for p in GOLDENS.glob("*.rules")]
    for path in sorted((SHARED / "corpus" / "real").glob("*")):
        if path.name != "SOURCES.md":
            files.append((path.name, path.read_bytes().decode("utf-8", errors="replace")))
    gen = SHARED / "bench" / "gen_dump.py"
    if gen.is_file():
        dump = subprocess.run([sys.executable, str(gen), "3000"], capture_output=True, text=True,
                              check=True).stdout
        files.append(("gen_dump-3000.rules", dump))
    return files


def test_shape_templates_give_the_same_model_as_the_full_interpreter():
    files = _shape_files()
    assert files
    for name, text in files:
        fast = read_rules(text, name)
        full = read_rules(text, name, shapes=False)
        assert _everything(fast) == _everything(full), name
        assert fast.diagnostics == full.diagnostics, name


def test_shape_templates_fall_back_on_values_they_cannot_take():
    lines = ["-A INPUT -s 10.0.0.1/32 -p tcp -m tcp --dport 22 -j ACCEPT",
             "-A INPUT -s 10.0.0.5/8 -p tcp -m tcp --dport 23 -j ACCEPT",      # host bits: warning
             "-A INPUT -s 10.0.0.2/32 -p tcp -m tcp --dport 99999 -j ACCEPT",   # bad port
             "-A INPUT -s 10.0.0.3,10.0.0.4 -p tcp -m tcp --dport 24 -j ACCEPT"]
    text = "*filter\n:INPUT DROP [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n"
    fast, full = read_rules(text, "r.v4"), read_rules(text, "r.v4", shapes=False)
    assert _everything(fast) == _everything(full)
    assert [(d.code, d.span.line) for d in fast.diagnostics] == [("FW010", 4), ("FW008", 5)]


def test_shape_templates_give_a_too_long_comment_to_the_full_interpreter():
    comment = '-A INPUT -s 10.0.0.{n}/32 -m comment --comment "{text}" -j ACCEPT'
    lines = [comment.format(n=1, text="a b"), comment.format(n=2, text="c d"),
             comment.format(n=3, text="x" * 256), comment.format(n=4, text="y" * 255),
             "-A INPUT -m comment --comment z -j DROP", "-A INPUT -m comment --comment " + "w" * 300
             + " -j DROP"]
    text = "*filter\n:INPUT DROP [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n"
    fast, full = read_rules(text, "r.v4"), read_rules(text, "r.v4", shapes=False)
    assert _everything(fast) == _everything(full)
    assert fast.diagnostics == full.diagnostics
    assert [(d.code, d.span.line) for d in fast.diagnostics] == [("FW013", 5), ("FW013", 8)]


def test_target_places_follow_jumps_through_user_chains_and_loops():
    text = "\n".join(["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":A - [0:0]",
                      ":B - [0:0]", "-A PREROUTING -j A", "-A POSTROUTING -j B", "-A B -j A",
                      "-A A -p tcp -j DNAT --to-destination 10.0.0.1", "-A A -p udp -j B",
                      "COMMIT"]) + "\n"
    result = read_rules(text, "rules.v4")
    found = [(d.code, d.span.line, d.span.col) for d in result.diagnostics]
    assert found == [("FW005", 8, 9), ("FW012", 9, 16)]
    assert "POSTROUTING" in result.diagnostics[1].message


def test_chain_loops_are_found_past_chains_whose_jumps_are_all_explored():
    text = "\n".join(["*filter", ":INPUT ACCEPT [0:0]", ":A - [0:0]", ":B - [0:0]", ":C - [0:0]",
                      ":D - [0:0]", ":LEAF - [0:0]", "-A INPUT -j A", "-A A -j LEAF", "-A A -j B",
                      "-A B -j C", "-A C -j LEAF", "-A C -j B", "-A INPUT -j D", "-A D -j LEAF",
                      "-A D -j D", "COMMIT"]) + "\n"
    found = [(d.code, d.span.line, d.message) for d in read_rules(text, "rules.v4").diagnostics]
    assert [f[:2] for f in found] == [("FW005", 13), ("FW005", 16)]
    assert "chain loop: B -> C -> B;" in found[0][2] and "chain loop: D -> D;" in found[1][2]


def test_shape_regex_never_takes_a_line_of_another_shape():
    """Lines that look like the previous shape but are read differently."""
    lines = ['-A INPUT -s 10.0.0.1/32 -m comment --comment "abc" -j MYCHAIN',
             '-A INPUT -s 10.0.0.2/32 -m comment --comment "-x" -j MYCHAIN',    # value like an option
             '-A INPUT -s 10.0.0.3/32 -m comment --comment abc -j REJECT',     # a target, not a chain
             '-A INPUT -s 10.0.0.4/32 -m comment --comment "a\\"b" -j MYCHAIN',  # an escape
             '-A INPUT -s 10.0.0.5/32 -m comment --comment ! -j MYCHAIN',       # a lone "!"
             '-A INPUT -s 10.0.0.6/32  -m comment --comment abc -j MYCHAIN',   # two spaces
             '-A INPUT -s 10.0.0.7/32 -m comment --comment "" -j MYCHAIN',      # empty quotes
             '-A INPUT -s 10.0.0.8/32 -m comment --comment abc -j MYCHAIN']
    text = "*filter\n:INPUT DROP [0:0]\n:MYCHAIN - [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n"
    fast, full = read_rules(text, "r.v4"), read_rules(text, "r.v4", shapes=False)
    assert _everything(fast) == _everything(full)
    assert fast.diagnostics == full.diagnostics
    rules = fast.ruleset.table("filter").chain("INPUT").rules
    assert [r.comment for r in rules] == ["abc", "-x", "abc", 'a"b', "!", "abc", "", "abc"]
    assert rules[2].target.args == ("--reject-with", "icmp-port-unreachable")


def test_unknown_modules_keep_their_words_up_to_the_next_base_option():
    rule = _one("-A INPUT -m foo --a 1 ! --b 2 --c ! 3 ! -s 1.2.3.4 -j ACCEPT")
    assert rule.match.conds[0] == Opaque("foo", ("--a", "1", "!", "--b", "2", "--c", "!", "3"), False, False)
    assert rule.match.conds[1].negated and rule.match.conds[1].field == "src"
    target = _one("-A INPUT -j CLUSTERIP --new --hashmode sourceip").target
    assert (target.name, target.args) == ("CLUSTERIP", ("--new", "--hashmode", "sourceip"))


def test_only_the_first_comment_is_the_rule_comment():
    rule = _one("-A INPUT -m comment --comment first -p tcp -m comment --comment second -j ACCEPT")
    assert rule.comment == "first"
    assert rule.match.conds == (Proto("tcp", False, None), Opaque("comment", ("--comment", "second"), False, True))


def test_a_stray_carriage_return_is_reported_on_its_line():
    result = read_rules("*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\r\nCOMMIT\n", "rules.v4")
    assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [("FW001", 3, 19)]


def test_value_errors_suggest_the_closest_value():
    result = read_rules("*filter\n-A INPUT -m conntrack --ctstate ESTABLISH -j ACCEPT\nCOMMIT\n", "rules.v4")
    assert result.diagnostics[0].help == "did you mean ESTABLISHED?"


_TOKENS = ["-A", "INPUT", "FOO", "-I", "-N", "-P", "-F", "-X", "-D", "1", "0", "!", "-s", "-d", "-p",
           "tcp", "udp", "icmp", "-m", "--dport", "--sport", "22", "1:2", "65536", "-j", "-g",
           "ACCEPT", "DROP", "REJECT", "LOG", "--log-prefix", '"a b"', '"', "comment", "--comment",
           "conntrack", "--ctstate", "NEW", "multiport", "--dports", "10.0.0.1/8", "::1", "-i",
           "eth0", "--to-destination", "DNAT", "1.2.3.4:80", "--syn", "--tcp-flags", "SYN", "x=y",
           "--dport=22", "-f", "#", "[1:2]", "*filter", "*nat", ":INPUT", ":FOO", "-", "[0:0]",
           "COMMIT", "limit", "--limit", "5/s", "recent", "--set", "--name", "mac", "--mac-source"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_TOKENS), max_size=12).map(" ".join), max_size=8))
def test_any_token_soup_is_read_without_a_crash_and_both_paths_agree(lines):
    text = "\n".join(["*filter", ":INPUT DROP [0:0]", ":FOO - [0:0]", *lines, "COMMIT", ""])
    for family in (4, 6):
        fast = read_rules(text, "soup.rules", family=family)
        full = read_rules(text, "soup.rules", family=family, shapes=False)
        assert _everything(fast) == _everything(full)
        assert fast.diagnostics == full.diagnostics
        assert all(d.span.line >= 1 and d.span.col >= 1 for d in fast.diagnostics)


def test_shape_template_rebuilds_conditions_whose_words_interleave():
    # The conntrack options fwc keeps opaque surround the state it models.
    lines = ["-A INPUT -m conntrack --ctstatus ASSURED --ctstate NEW --ctexpire 10 -j ACCEPT",
             "-A INPUT -m conntrack --ctstatus ASSURED --ctstate ESTABLISHED --ctexpire 10 -j ACCEPT",
             "-A INPUT -m conntrack --ctstatus SEEN_REPLY --ctstate ESTABLISHED --ctexpire 20 -j ACCEPT"]
    text = "*filter\n:INPUT DROP [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n"
    fast, full = read_rules(text, "r.v4"), read_rules(text, "r.v4", shapes=False)
    assert _everything(fast) == _everything(full)
    states = [r.match.one(State).states for r in fast.ruleset.table("filter").chain("INPUT").rules]
    assert states == [frozenset({"NEW"}), frozenset({"ESTABLISHED"}), frozenset({"ESTABLISHED"})]
