"""Hypothesis strategies for policy text: valid statements of the policy language in every
shape a rule can take (directions, interfaces, families, protocols, port lists past the
multiport limit, address lists and ranges, negation, options, shorthands, definitions)."""

from __future__ import annotations

from hypothesis import strategies as st

IFACES = ("eth0", "eth1", "wg0", "eth+", "br0")
V4 = ("10.0.0.0/8", "192.0.2.7", "198.51.100.0/24", "203.0.113.1-203.0.113.9", "$nets4")
V6 = ("2001:db8::/32", "2001:db8:1::5", "fd00::/8", "2001:db8::1-2001:db8::9", "$nets6")
ICMP4 = ("echo-request", "echo-reply", "destination-unreachable", "time-exceeded", "3/4", "8")
ICMP6 = ("echo-request", "neighbor-solicitation", "packet-too-big", "1/4", "128")
SERVICES = ("ssh", "http", "https", "dns", "ntp", "smtp", "postgres", "metrics")
HEADER = """\
define nets4 = 10.0.0.0/8, 192.0.2.0/24
define nets6 = 2001:db8:10::/48, fd00:1::/64
define web = 80, 443
service metrics = tcp 9100, udp 8125
"""
COMMENT_CHARS = st.sampled_from(list("abcXYZ019 _-:./#$'") + ['\\"', "\\\\"])


def port_item():
    single = st.integers(1, 65535).map(str)
    ranged = st.tuples(st.integers(1, 65000), st.integers(0, 500)).map(
        lambda t: f"{t[0]}-{t[0] + t[1]}")
    return st.one_of(single, ranged, st.just("$web"))


def port_list(max_size=20):
    return st.lists(port_item(), min_size=1, max_size=max_size).map(", ".join)


@st.composite
def addresses(draw, families):
    pool = (V4 if 4 in families else ()) + (V6 if 6 in families else ())
    items = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    negate = "not " if draw(st.booleans()) else ""
    return negate + ", ".join(items)


@st.composite
def placement(draw):
    direction = draw(st.sampled_from(("", "in", "out", "forward")))
    if direction == "forward":
        words = ["forward"]
        if draw(st.booleans()):
            words.append(f"in on {draw(st.sampled_from(IFACES))}")
        if draw(st.booleans()):
            words.append(f"out on {draw(st.sampled_from(IFACES))}")
        return " ".join(words)
    on = f"on {draw(st.sampled_from(IFACES))}" if draw(st.booleans()) else ""
    return " ".join(w for w in (direction, on) if w)


@st.composite
def what(draw, families):
    """(text, protocol kind, families it leaves) for the protocol part of a rule."""
    kinds = ["none", "tcp", "udp", "sctp", "esp", "gre", "service"]
    if 4 in families:
        kinds.append("icmp")
    if 6 in families:
        kinds.append("icmpv6")
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return "", kind, families
    if kind in ("tcp", "udp", "sctp"):
        ports = draw(st.one_of(st.just(""), port_list()))
        return f"{kind} {ports}".strip(), kind, families
    if kind == "service":
        return draw(st.sampled_from(SERVICES)), kind, families
    if kind == "icmp":
        names = draw(st.lists(st.sampled_from(ICMP4), max_size=2, unique=True))
        return " ".join(["icmp", ", ".join(names)]).strip(), kind, {4}
    if kind == "icmpv6":
        names = draw(st.lists(st.sampled_from(ICMP6), max_size=2, unique=True))
        return " ".join(["icmpv6", ", ".join(names)]).strip(), kind, {6}
    return kind, kind, families


@st.composite
def options(draw, action, kind):
    chosen = []
    if draw(st.integers(0, 3)) == 0:
        states = draw(st.lists(st.sampled_from(("new", "established", "related")),
                               min_size=1, max_size=3, unique=True))
        chosen.append("state " + ",".join(states))
    if draw(st.integers(0, 3)) == 0:
        limit = f"limit {draw(st.integers(1, 30))}/{draw(st.sampled_from(('second', 'minute', 'hour')))}"
        if draw(st.booleans()):
            limit += f" burst {draw(st.integers(1, 50))}"
        if draw(st.booleans()):
            limit += " per source"
        chosen.append(limit)
    if draw(st.integers(0, 3)) == 0:
        prefix = draw(st.text(st.sampled_from(list("abcxyz :-")), max_size=12))
        chosen.append(f'log "{prefix}"' if prefix else "log")
    if action == "reject" and kind == "tcp" and draw(st.booleans()):
        chosen.append("with tcp-reset")
    if draw(st.integers(0, 2)) == 0:
        text = "".join(draw(st.lists(COMMENT_CHARS, max_size=30)))
        chosen.append(f'comment "{text}"')
    return draw(st.permutations(chosen)) if chosen else []


@st.composite
def rule_statement(draw):
    action = draw(st.sampled_from(("allow", "deny", "drop", "reject")))
    family_word = draw(st.sampled_from(("", "ipv4", "ipv6")))
    families = {4, 6} if not family_word else {int(family_word[-1])}
    proto_text, kind, families = draw(what(families))
    words = [action, draw(placement()), family_word, proto_text]
    ported = kind in ("tcp", "udp", "sctp")
    # Destination ports come either after the protocol or after `to`, not both.
    dports_given = ported and any(ch.isdigit() or ch == "$" for ch in proto_text)
    clauses = draw(st.sampled_from(("", "from", "to", "both")))
    if clauses == "both" and len(families) == 2:
        families = {draw(st.sampled_from((4, 6)))}
    for clause in ("from", "to"):
        if clauses in (clause, "both"):
            words.append(f"{clause} {draw(addresses(families))}")
            if ported and not (clause == "to" and dports_given) and draw(st.booleans()):
                words.append(f"port {draw(port_list(5))}")
    words += draw(options(action, kind))
    return " ".join(w for w in words if w)


SHORTHANDS = ("allow loopback", "allow established", "drop invalid", "allow icmp essential",
              "allow out established", "allow forward established")


@st.composite
def policies(draw):
    lines = [HEADER]
    for chain in ("input", "forward", "output"):
        if draw(st.booleans()):
            lines.append(f"policy {chain} {draw(st.sampled_from(('accept', 'drop')))}")
    statements = draw(st.lists(st.one_of(rule_statement(), st.sampled_from(SHORTHANDS)),
                               min_size=1, max_size=8))
    return "\n".join(lines + statements) + "\n"
