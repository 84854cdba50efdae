"""Every problem in a policy: its code, exact position and message in words."""

from __future__ import annotations

import pytest

from fwc.diagnostics import FwcError, Severity
from fwc.parse.policy import load_policy


def problems(text):
    result = load_policy("policy.fw", text=text)
    assert all(d.severity is Severity.ERROR for d in result.diagnostics)
    return [(d.code, d.span.line, d.span.col, d.message) for d in result.diagnostics]


def one(text):
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


CASES = [
    # syntax, with words instead of terminal names
    ("allow tcp port 22", ("FW001", 1, 11, "expected a port or port range after `tcp`, found `port`")),
    ("alow tcp 22", ("FW001", 1, 1, "unknown statement `alow`: did you mean `allow`?")),
    ("masquerade out on eth0 from 10.8.0.0/24", ("FW001", 1, 1,
                                                  "`masquerade` (NAT) is not supported yet: a policy compiles the filter table")),
    ("Allow tcp 22", ("FW001", 1, 1, "unknown statement `Allow`: did you mean `allow`?")),
    ("allow tcp 22 form 10.0.0.1", ("FW001", 1, 14, "unexpected `form` after `22`: did you mean `from`?")),
    ("allow tcp 22 from", ("FW001", 1, 18,
                           "expected an address, network or range, `any` or a `$name` after `from`, found the end of the statement")),
    ("allow tcp 22;", ("FW001", 1, 13, "unexpected character `;`")),
    ("allow\xa0tcp 22", ("FW001", 1, 6, "unexpected character U+00A0 (no-break space)")),
    ('allow tcp 22 comment "open', ("FW001", 1, 22, 'unterminated string: this `"` has no closing `"`')),
    ("allow tcp {22,\n  80", ("FW001", 2, 5, "expected `}` to close the list after `80`, found the end of the statement")),
    ("policy input", ("FW001", 1, 13, "expected `accept` or `drop` after `input`, found the end of the statement")),
    ("allow in on", ("FW001", 1, 12, "expected an interface name after `on`, found the end of the statement")),
    ("allow tcp 22 state", ("FW001", 1, 19,
                            "expected a connection state (new, established, related, invalid, untracked) after `state`, found the end of the statement")),
    # names
    ("policy input dorp", ("FW001", 1, 14, "unknown verdict `dorp`: did you mean `drop`?")),
    ("policy inptu drop", ("FW001", 1, 8, "unknown chain `inptu`: did you mean `input`?")),
    ("allow shh", ("FW001", 1, 7, "unknown protocol or service `shh`: did you mean `ssh`?")),
    ("allow tcp $web", ("FW001", 1, 11, "`$web` is not defined")),
    ("define web = 80\nallow tcp $wbe", ("FW001", 2, 11, "`$wbe` is not defined: did you mean `$web`?")),
    ("define web = 80\ndefine web = 81", ("FW001", 2, 8, "`$web` is already defined at policy.fw:1:8")),
    ("define Web = 80", ("FW001", 1, 8, "`Web` is not a valid definition name")),
    ("policy input drop\npolicy input accept", ("FW001", 2, 1, "the policy of `input` is already set at policy.fw:1:1")),
    ("allow tcp 22 comment \"a\" comment \"b\"", ("FW001", 1, 26, "`comment` is given twice")),
    ("allow tcp 22 with tcp-reset", ("FW001", 1, 14, "`with` sets the reply of `reject`, but this rule says `allow`")),
    ("allow forward on eth0", ("FW001", 1, 18, "a forward rule must say which side: `in on IFACE` or `out on IFACE`")),
    ("allow in out on eth0", ("FW001", 1, 10, "expected a protocol or service after `in`, found `out`")),
    ("allow loopback on eth0", ("FW001", 1, 16,
                                "expected an option (`state`, `limit`, `log`, `with`, `comment`) after `loopback`, found `on`")),
    ("allow tcp 22 80", ("FW001", 1, 14, "expected `,` between `22` and `80`")),
    ("allow tcp {22, 80 from", ("FW001", 1, 19, "expected `}` to close the list after `80`, found `from`")),
    ("allow in on lo loopback", ("FW001", 1, 16, "`loopback` already names the interface (`lo`)")),
    ("allow forward loopback", ("FW001", 1, 15, "loopback traffic is never forwarded")),
    ("allow established state new", ("FW001", 1, 19, "`established` already sets the connection state")),
    ("allow tcp 22 to 10.0.0.1 port 80", ("FW001", 1, 31,
                                          "destination ports are given twice (after the protocol and after `to`)")),
    ("service tcp = tcp 1", ("FW001", 1, 9, "expected a name after `service`, found `tcp`")),
    # values
    ("allow tcp 70000", ("FW008", 1, 11, "port 70000 is out of range (0-65535)")),
    ("allow tcp 90-80", ("FW008", 1, 11, "port range 90-80 is backwards: the first port must not be greater than the last")),
    ("allow from 10.0.0.300", ("FW008", 1, 12, "`10.0.0.300` is not a valid address, network or range (Octet 300 (> 255) not permitted in '10.0.0.300')")),
    ("allow from 10.0.0.9-10.0.0.1", ("FW008", 1, 12, "range `10.0.0.9-10.0.0.1` is backwards: the first address must not be greater than the last")),
    ("allow from 10.0.0.1-::1", ("FW008", 1, 12, "range `10.0.0.1-::1` mixes an IPv4 and an IPv6 address")),
    ("allow from 10.0.0", ("FW008", 1, 12, "`10.0.0` is not a valid address, network or range (an IPv4 address has 4 numbers in '10.0.0')")),
    ("allow from ::g", ("FW008", 1, 12, "`::g` is not a valid address, network or range (Only hex digits permitted in 'g' in '::g')")),
    ("allow from 10.0.0.0/33", ("FW008", 1, 12, "`10.0.0.0/33` is not a valid address, network or range "
                                "(prefix length /33 is more than 32, the size of an IPv4 address)")),
    ("allow from not any", ("FW008", 1, 12, "`not any` matches no address at all")),
    ("allow icmp echo-requets", ("FW008", 1, 12, "unknown ICMP type `echo-requets`: did you mean `echo-request`?")),
    ("allow icmp 300", ("FW008", 1, 12, "ICMP type 300 is out of range (0-255)")),
    ("allow icmp 3/256", ("FW008", 1, 14, "ICMP code 256 is out of range (0-255)")),
    ("allow tcp 22 state nwe", ("FW008", 1, 20, "unknown connection state `nwe`: did you mean `new`?")),
    ("allow tcp 22 limit 6/minuet", ("FW008", 1, 22, "unknown time unit `minuet`: did you mean `minute`?")),
    ("allow tcp 22 limit 0/second", ("FW008", 1, 20, "a rate limit must be at least 1 per unit")),
    ("allow tcp 22 limit 6/minute burst 0", ("FW008", 1, 35, "burst 0 is out of range (1-10000)")),
    ("allow tcp 22 limit 6/minute per sourse", ("FW008", 1, 33, "`per sourse` is not supported: did you mean `per source`?")),
    ('allow tcp 22 log "x" level loud', ("FW008", 1, 28, "unknown log level `loud`")),
    ('allow tcp 22 log level 9', ("FW008", 1, 24, "log level 9 is out of range (0-7)")),
    ('allow tcp 22 log ""', ("FW008", 1, 18, "log prefix is empty (iptables refuses it); leave it out for the default")),
    ("reject tcp 22 with tcp-rest", ("FW008", 1, 20, "unknown reject type `tcp-rest`: did you mean `tcp-reset`?")),
    ("reject udp 53 with tcp-reset", ("FW008", 1, 20, "`with tcp-reset` only works for tcp rules")),
    ("allow in on averyveryverylongname", ("FW008", 1, 13, "interface name `averyveryverylongname` is longer than 15 characters")),
    ("allow in on e+th", ("FW008", 1, 13, "interface name `e+th`: `+` is only allowed at the end (a wildcard)")),
    ("allow 256", ("FW008", 1, 7, "protocol number 256 is out of range (0-255)")),
    ("policy input reject", ("FW006", 1, 14, "a built-in chain's policy must be `accept` or `drop`")),
    # ports without a protocol that has them
    ("allow from 10.0.0.1 port 53", ("FW007", 1, 26, "ports need tcp, udp, sctp or udplite, but this is a rule without a protocol")),
    ("allow icmp to 10.0.0.1 port 53", ("FW007", 1, 29, "ports need tcp, udp, sctp or udplite, but this is `icmp`")),
    ("allow 47 22", ("FW007", 1, 10, "protocol 47 has no ports: ports need tcp, udp, sctp or udplite")),
    ("service x = 80", ("FW007", 1, 13, "a service port needs a protocol: write `tcp 8080` or `udp 8080`")),
    # host bits
    ("allow from 10.0.0.1/8", ("FW010", 1, 12, "`10.0.0.1/8` has host bits set: did you mean `10.0.0.0/8`?")),
    ("allow from 2001:db8::1/32", ("FW010", 1, 12, "`2001:db8::1/32` has host bits set: did you mean `2001:db8::/32`?")),
    # families
    ("allow ipv6 from 10.0.0.1", ("FW011", 1, 17, "the source `10.0.0.1` is IPv4 but `ipv6` is IPv6: no packet can match both")),
    ("allow icmp from 2001:db8::1", ("FW011", 1, 17, "the source `2001:db8::1` is IPv6 but `icmp` is IPv4: no packet can match both")),
    ("allow from 10.0.0.1 to 2001:db8::1", ("FW011", 1, 24,
                                            "the destination `2001:db8::1` is IPv6 but the source `10.0.0.1` is IPv4: no packet can match both")),
    ("allow icmp echo-request from 10.0.0.1, 2001:db8::1", ("FW011", 1, 40,
                                                            "`2001:db8::1` is an IPv6 address but this rule is IPv4 only")),
    ("allow icmp neighbor-solicitation", ("FW011", 1, 12, "`neighbor-solicitation` is an ICMPv6 type, not an icmp one")),
    ("allow icmpv6 source-quench", ("FW011", 1, 14, "`source-quench` is an ICMP (IPv4) type, not an icmpv6 one")),
    ("reject ipv6 with icmp-host-prohibited", ("FW011", 1, 18, "`icmp-host-prohibited` is an IPv4 reply; it cannot answer IPv6 packets")),
    ('allow tcp 22 comment "a\tb"', ("FW008", 1, 22, "comment contains U+0009, which iptables-restore cannot read back")),
    ('allow tcp 22 log "a\x07"', ("FW008", 1, 18, "log prefix contains U+0007, which iptables-restore cannot read back")),
    ('allow tcp 22 comment "a\u2028b"', ("FW008", 1, 22, "comment contains U+2028 (line separator), which iptables-restore cannot read back")),
    # limits (in bytes, as the kernel counts: é is two)
    ('allow tcp 22 log "' + "é" * 15 + '"', ("FW013", 1, 18, "log prefix is 30 bytes long; iptables allows at most 29")),
    ('allow tcp 22 log "' + "x" * 30 + '"', ("FW013", 1, 18, "log prefix is 30 bytes long; iptables allows at most 29")),
    ('allow tcp 22 comment "' + "x" * 256 + '"', ("FW013", 1, 22, "comment is 256 bytes long; iptables allows at most 255")),
]


@pytest.mark.parametrize("text, expected", CASES, ids=[c[0][:40] for c in CASES])
def test_error(text, expected):
    assert one(text) == expected


def test_wrong_place_use_of_a_definition_names_both_places():
    result = load_policy("policy.fw", text="define web = 80, 443\nallow from $web\n")
    (d,) = result.diagnostics
    assert (d.code, d.span.line, d.span.col) == ("FW001", 2, 12)
    assert d.message == "`$web` is used here as an address, but it holds a port (`80` at policy.fw:1:14)"
    assert [(r.span.line, r.span.col) for r in d.related] == [(1, 14), (1, 8)]


def test_definition_with_an_address_used_as_ports():
    assert one("define x = 10.0.0.1\nallow tcp $x") == (
        "FW001", 2, 11, "`$x` is used here as ports, but it holds an address (`10.0.0.1` at policy.fw:1:12)")
    assert one("define x = eth0\nallow from $x")[3].startswith("`$x` is used here as an address, but it holds an interface name")
    assert one("define x = 80\nallow on $x")[3].startswith("`$x` is used here as an interface name, but it holds a port")


def test_host_bits_offer_an_unsafe_fix():
    (d,) = load_policy("policy.fw", text="allow from 10.0.0.1/8").diagnostics
    assert d.fix is not None and not d.fix.safe
    assert [(e.span.col, e.span.end_col, e.text) for e in d.fix.edits] == [(12, 22, "10.0.0.0/8")]


def test_keyword_case_gets_a_help_line():
    (d,) = load_policy("policy.fw", text="allow tcp 22 FROM 10.0.0.1").diagnostics
    assert d.message == "unexpected `FROM` after `22`: did you mean `from`?"
    assert d.help == "keywords are lower case"


def test_every_bad_line_is_reported_and_good_lines_still_compile():
    text = "allow tcp 22\nalow tcp 80\nallow tcp 70000\nallow udp 53\nallow from 10.0.0.1/8\n"
    result = load_policy("policy.fw", text=text)
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("FW001", 2), ("FW008", 3), ("FW010", 5)]
    assert [r.text for r in result.rulesets[4].table("filter").chain("INPUT").rules] == ["allow tcp 22", "allow udp 53"]


def test_span_covers_the_offending_token():
    (d,) = load_policy("policy.fw", text="   allow tcp 70000").diagnostics
    assert (d.span.line, d.span.col, d.span.end_line, d.span.end_col) == (1, 14, 1, 19)


def test_missing_file_is_an_io_error(tmp_path):
    with pytest.raises(FwcError, match="cannot read"):
        load_policy(tmp_path / "nope.fw")
    with pytest.raises(FwcError, match="is a directory"):
        load_policy(tmp_path)


def test_byte_order_mark_is_ignored(tmp_path):
    p = tmp_path / "policy.fw"
    p.write_bytes(b"\xef\xbb\xbfallow tcp 22\n")
    assert load_policy(p).diagnostics == []


def test_unreadable_bytes_do_not_crash(tmp_path):
    p = tmp_path / "policy.fw"
    p.write_bytes(b"allow tcp 22\n\xff\xfe allow\n")
    result = load_policy(p)
    assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [("FW001", 2, 1)]
