"""Property tests: no input makes the policy front end raise; statements parsed from the
shape cache equal a fresh parse; the tokeniser's and the lowering's caches give what
computing afresh gives; what it produces renders and reads back unchanged."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fwc.backends.iptables_restore import render
from fwc.parse import policy, policy_syntax
from fwc.parse.policy import load_policy
from fwc.parse.rules_save import read_rules
from fwc.source import SourceFile

WORDS = ["allow", "deny", "drop", "reject", "policy", "input", "forward", "output", "accept",
         "define", "service", "include", "raw", "filter", "in", "out", "on", "ipv4", "ipv6",
         "tcp", "udp", "sctp", "icmp", "icmpv6", "esp", "all", "ssh", "dns", "https", "from", "to",
         "port", "not", "any", "state", "new", "established", "invalid", "loopback", "limit",
         "burst", "per", "source", "log", "level", "info", "with", "tcp-reset", "comment",
         "essential", "echo-request", "eth0", "lo", "$x", "$web", "22", "80", "8000-8100",
         "65536", "3/4", "6/minute", "10.0.0.0/8", "10.0.0.1/8", "10.0.0.1-10.0.0.9",
         "2001:db8::/32", "::1", "{", "}", ",", "=", "-", "/", '"x"', '"', "#", "\n", "  "]

settings_ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_never_raises(text: str) -> None:
    result = load_policy("fuzz.fw", text=text)
    for d in result.diagnostics:
        assert d.span.line >= 1 and d.span.col >= 1, d
        assert d.message
    assert sorted(result.rulesets) == [4, 6]


@settings_
@given(st.text())
def test_arbitrary_text_never_raises(text):
    check_never_raises(text)


@settings_
@given(st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join))
def test_word_salad_never_raises(text):
    check_never_raises("define x = 10.0.0.1\ndefine web = 80\n" + text)


# --------------------------------------------------------------------------- valid statements

ports = st.lists(st.sampled_from(["22", "80", "443", "1000-2000", "$web"]), min_size=1, max_size=20, unique=True).map(", ".join)
addrs = st.lists(st.sampled_from(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "any", "$net",
                                  "10.1.1.1-10.1.1.9", "fe80::1"]), min_size=1, max_size=3, unique=True)


@st.composite
def statements(draw):
    parts = [draw(st.sampled_from(["allow", "deny", "drop", "reject"]))]
    parts.append(draw(st.sampled_from(["", "in", "out", "in on eth0", "out on eth1", "forward in on eth0 out on eth+"])))
    parts.append(draw(st.sampled_from(["", "ipv4", "ipv6"])))
    what = draw(st.sampled_from(["", "tcp", "udp", "icmp", "icmpv6", "ssh", "dns", "http, https", "esp", "47"]))
    parts.append(what)
    if what in ("tcp", "udp") and draw(st.booleans()):
        parts.append(draw(ports))
    if what == "icmp":
        parts.append(draw(st.sampled_from(["", "echo-request", "3/4", "essential"])))
    if what == "icmpv6":
        parts.append(draw(st.sampled_from(["", "neighbor-solicitation", "essential"])))
    for side in ("from", "to"):
        if draw(st.booleans()):
            items = draw(addrs)
            neg = "not " if draw(st.booleans()) else ""
            listed = items[0] if len(items) == 1 else "{" + ", ".join(items) + "}"
            parts.append(f"{side} {neg}{listed}")
            if what in ("tcp", "udp") and side == "from" and draw(st.booleans()):
                parts.append("port 1024-65535")
    options = draw(st.lists(st.sampled_from(["state new", "limit", 'log "x: " level debug', 'comment "c \\"q\\""']),
                            unique=True, max_size=3))
    limits = ["limit 5/second burst 9", "limit 1/minute per source"]
    parts += [draw(st.sampled_from(limits)) if o == "limit" else o for o in options]
    if "comment" not in " ".join(options) and draw(st.booleans()):
        parts.append("comment " + quoted(draw(st.text(max_size=40))))
    return " ".join(p for p in parts if p)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


PRELUDE = "define web = 8080, 9000-9100\ndefine net = 10.2.0.0/16, 2001:db8:2::/48\n"


@settings_
@given(st.lists(statements(), min_size=1, max_size=6))
def test_generated_policies_load_render_and_read_back(lines):
    text = PRELUDE + "\n".join(lines) + "\n"
    result = load_policy("gen.fw", text=text)
    for d in result.diagnostics:  # only value errors the generator can produce on purpose
        assert d.code in ("FW007", "FW008", "FW011", "FW013"), (d.code, d.message, text)
    for family, ruleset in result.rulesets.items():
        rendered = render(ruleset, source_name="gen.fw")
        back = read_rules(rendered, "gen.rules", family=family)
        assert back.diagnostics == [], (rendered, back.diagnostics)
        assert [r for _, _, r in back.ruleset.rules()] == [r for _, _, r in ruleset.rules()]


@settings_
@given(statements())
def test_shape_cache_gives_the_same_tree_as_a_fresh_parse(line):
    cached = policy_syntax.parse_statement(line)
    saved = dict(policy_syntax._SHAPES)
    policy_syntax._SHAPES.clear()
    try:
        fresh = policy_syntax.parse_statement(line)
    finally:
        policy_syntax._SHAPES.update(saved)
    assert _plain(cached) == _plain(fresh)


def _plain(node):
    """A tree as nested plain values (tokens as (type, value, line, column))."""
    if hasattr(node, "__dataclass_fields__"):
        return (type(node).__name__,) + tuple(_plain(getattr(node, f)) for f in node.__dataclass_fields__)
    if isinstance(node, (list, tuple)):
        return tuple(_plain(x) for x in node)
    if hasattr(node, "type") and hasattr(node, "value"):
        return (node.type, str(node.value), node.line, node.column, node.end_column)
    return node


@settings_
@given(st.lists(st.sampled_from(WORDS[:-3] + ["a,b", "22,80", "$x,", "{22", "10.0.0.1-::1", "é", "6/min",
                                               "tcp\xa022", "\x0b", "\x1c", "\u2003", "\t", "\r"]),
                max_size=15).map(" ".join))
def test_word_cache_tokenises_like_the_scanner(text):
    _assert_tokenises_like_the_scanner(policy_syntax._lexicon(), text)


def _assert_tokenises_like_the_scanner(lexicon, text: str) -> None:
    fast, fast_bad = lexicon.tokenize(text)
    slow, slow_bad = lexicon.scan(text)
    assert fast_bad == slow_bad
    if fast_bad is None:
        assert [(t.type, t.value, t.line, t.column, t.end_column) for t in fast] == \
               [(t.type, t.value, t.line, t.column, t.end_column) for t in slow]


octet = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "007", "256"]))


@settings_
@given(st.tuples(octet, octet, octet, octet), st.one_of(st.none(), st.integers(0, 40)))
def test_fast_ipv4_networks_agree_with_ipaddress(octets, prefix):
    text = ".".join(octets) + ("" if prefix is None else f"/{prefix}")
    try:
        expected = ipaddress.ip_network(text)
    except ValueError:
        expected = None
    try:
        got = policy._network(text)
    except ValueError:
        got = None
    assert got == expected


# --------------------------------------------------------------------------- caches


@settings_
@given(st.lists(st.sampled_from(WORDS[:-3] + ["a,b", "22,80", "é", "\t", "\x0b", "  "]), max_size=8),
       st.lists(st.sampled_from(WORDS[:-3] + ["a,b", "{22", "$x,", "é", "\xa0"]), min_size=1, max_size=6),
       st.sampled_from([" ", "  ", "\t", " \t ", "\u2003"]))
def test_statements_sharing_their_beginning_tokenise_like_the_scanner(head, tails, space):
    """The tokeniser keeps the tokens of a statement's text before its last word; every
    statement that begins the same way must still get its own, correct tokens."""
    lexicon = policy_syntax._Lexicon(policy_syntax._parser())
    for tail in tails:
        _assert_tokenises_like_the_scanner(lexicon, space.join(head + [tail]) + space)


class _NoCache(dict):
    """A cache that keeps nothing: every look-up computes afresh."""

    def __setitem__(self, key, value):
        pass


_LOADER_CACHES = ("_addr_cache", "_sources", "_destinations", "_endpoint_cache", "_ports_cache", "_alts_cache")


def _load_without_caches(text: str):
    loader = policy._Loader("gen.fw")
    for name in _LOADER_CACHES:
        assert isinstance(getattr(loader, name), dict), name
        setattr(loader, name, _NoCache())
    loader._every_protocol[0].plans = _NoCache()
    lexicon = policy_syntax._lexicon()
    saved = lexicon.heads, lexicon.words
    lexicon.heads, lexicon.words = _NoCache(), _NoCache()
    try:
        return loader.run(SourceFile("gen.fw", text))
    finally:
        lexicon.heads, lexicon.words = saved


def _everything(result):
    """All a load gives, spans and source text included (they are not part of equality)."""
    rules = [(family, rule, rule.span, rule.text, [c.span for c in rule.match])
             for family, ruleset in sorted(result.rulesets.items()) for _, _, rule in ruleset.rules()]
    chains = [(c.name, c.policy, c.span) for rs in result.rulesets.values() for t in rs.tables for c in t.chains]
    return rules, chains, result.diagnostics, result.comments, result.directives


@settings_
@given(st.lists(statements(), min_size=1, max_size=6), st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join))
def test_caches_give_what_computing_afresh_gives(lines, salad):
    """Rules that write the same addresses, ports or protocols share what was derived
    from them; repeated at other lines and columns, and after errors, they must still
    lower exactly as a loader that caches nothing lowers them."""
    repeated = ["  " + line for line in reversed(lines)] + [salad] + lines
    text = PRELUDE + "\n".join(lines + repeated) + "\n"
    assert _everything(load_policy("gen.fw", text=text)) == _everything(_load_without_caches(text))
