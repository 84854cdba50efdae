"""The reader's per-line fast paths give what the full interpreter gives: the new-user-chain
line, the shape templates' generated code (values as literals, host networks rebuilt from
the new words, NAT ranges checked directly), with every span."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings, strategies as st

from fwc.model import Addr
from fwc.parse.rules_save import read_rules


def _everything(result):
    chains = [(t.name, c.name, c.policy, c.span, c.counters) for t in result.ruleset.tables
              for c in t.chains]
    return chains + [(r, r.span, r.counters, r.text, tuple(c.span for c in r.match.conds),
                      r.target.span if r.target else None) for _, _, r in result.ruleset.rules()]


def _same_both_ways(text: str, name: str = "r.v4", family: int | None = None):
    fast = read_rules(text, name, family=family)
    full = read_rules(text, name, family=family, shapes=False)
    assert _everything(fast) == _everything(full)
    assert fast.diagnostics == full.diagnostics
    return fast


def test_chain_lines_near_the_plain_form_are_read_as_the_full_interpreter_reads_them():
    lines = [":A - [0:0]", ":B - [12:345]", ":C  - [0:0]", ":D - [0:0] ", ":E\t- [0:0]", ":F - [0:0",
             ":G - [x:0]", ":" + "H" * 28 + " - [0:0]", ":" + "I" * 29 + " - [0:0]", ":Jé - [0:0]",
             ":A - [0:0]", ":INPUT - [0:0]", ":K ACCEPT [0:0]", ": - [0:0]", ":L - [1:2:3]",
             ":M - [0:0]\r", ":N - []", ":O -  [0:0]", ':"P" - [0:0]']
    text = "*filter\n:INPUT DROP [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n"
    result = _same_both_ways(text)
    chains = {c.name: c for c in result.ruleset.table("filter").chains}
    assert chains["B"].counters == (12, 345) and chains["B"].span.end_col == len(":B - [12:345]") + 1
    assert "H" * 28 in chains and "I" * 29 not in chains
    assert sorted({d.span.line for d in result.diagnostics}) == [8, 9, 11, 13, 14, 15, 16, 17, 18, 19]
    assert chains["C"].counters == chains["E"].counters == (0, 0) and "Jé" in chains


_octet = st.integers(0, 255).map(str) | st.sampled_from(["00", "010", "256", "1e2", ""])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_octet, _octet, st.sampled_from(["", "/32", "/24", "/8", "/33", "/255.255.255.0"]),
                          st.sampled_from(["-s", "-d", "! -s"])), min_size=1, max_size=12))
def test_template_addresses_are_the_networks_of_their_words(addresses):
    lines = ["-A INPUT -s 10.0.0.1/32 -m comment --comment a -j ACCEPT"]
    for c, d, mask, option in addresses:
        lines.append(f"-A INPUT {option} 10.9.{c}.{d}{mask} -m comment --comment a -j ACCEPT")
    text = "*filter\n:INPUT DROP [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n"
    result = _same_both_ways(text)
    read = {r.span.line: r for r in result.ruleset.table("filter").chain("INPUT").rules}
    for line, (c, d, mask, option) in enumerate(addresses, 4):
        if line not in read:
            continue  # refused: the full interpreter's finding (checked equal above)
        addrs = [x for x in read[line].match.conds if isinstance(x, Addr)]
        if not (c.isdigit() and d.isdigit()):
            assert not addrs  # a name, kept opaque
            continue
        (addr,) = addrs
        expected = ipaddress.ip_network(f"10.9.{int(c)}.{int(d)}{mask or '/32'}", strict=False)
        assert addr.value == expected and addr.negated == option.startswith("!")
        assert addr.field == ("src" if "-s" in option else "dst")


def test_many_distinct_hosts_and_nat_ranges_are_each_their_own():
    lines = []
    for n in range(600):
        host = f"10.{n % 7}.{n // 256}.{n % 256}"
        lines += [f"-A SEP{n % 5} -s {host}/32 -m comment --comment \"svc {n}\" -j MARK --set-xmark 0x4000/0x4000",
                  f"-A SEP{n % 5} -p tcp -m comment --comment \"svc {n}\" -m tcp -j DNAT "
                  f"--to-destination {host}:{1 + n % 9000}"]
    chains = "".join(f":SEP{k} - [0:0]\n" for k in range(5))
    text = "*nat\n:PREROUTING ACCEPT [0:0]\n" + chains + "\n".join(lines) + "\nCOMMIT\n"
    result = _same_both_ways(text)
    rules = sorted(result.ruleset.rules(), key=lambda item: item[2].span.line)
    for n in range(600):
        host = f"10.{n % 7}.{n // 256}.{n % 256}"
        masq, dnat = rules[2 * n][2], rules[2 * n + 1][2]
        assert masq.match.conds[0].value == ipaddress.ip_network(host + "/32")
        assert masq.comment == dnat.comment == f"svc {n}"
        assert dnat.target.args == ("--to-destination", f"{host}:{1 + n % 9000}")


def test_template_values_that_the_checks_refuse_go_to_the_full_interpreter():
    lines = ['-A X -p tcp -m comment --comment "a" -m tcp -j DNAT --to-destination 10.0.0.1:80',
             '-A X -p tcp -m comment --comment "b" -m tcp -j DNAT --to-destination 10.0.0.2:80',
             '-A X -p tcp -m comment --comment "c" -m tcp -j DNAT --to-destination 10.0.0.3:0',
             '-A X -p tcp -m comment --comment "d" -m tcp -j DNAT --to-destination 10.0.0.4',
             '-A X -p tcp -m comment --comment "e" -m tcp -j DNAT --to-destination 10.0.0.999:80',
             '-A X -p tcp -m comment --comment "f" -m tcp -j DNAT --to-destination 10.0.0.6:80-90',
             '-A X -p tcp -m comment --comment "g" -m tcp -j DNAT --to-destination ::1',
             '-A Y -m comment --comment "s" -m statistic --mode random --probability 0.5 -j X',
             '-A Y -m comment --comment "t" -m statistic --mode random --probability 0.25 -j X',
             '-A Y -m comment --comment "u" -m statistic --mode random --probability 1.5 -j X',
             '-A Y -m comment --comment "v" -m statistic --mode random --probability "" -j X']
    text = "*nat\n:PREROUTING ACCEPT [0:0]\n:X - [0:0]\n:Y - [0:0]\n-A PREROUTING -j Y\n" + \
        "\n".join(lines) + "\nCOMMIT\n"
    result = _same_both_ways(text)
    assert sorted({d.span.line for d in result.diagnostics}) == [8, 10, 12, 15, 16]
