"""Shared helpers for the baseline checks: walking a built-in chain the way the kernel does.

Two tools, both linear in the number of rules:

* :func:`walk` follows one *probe* (a concrete kind of packet: "an ICMP
  fragmentation-needed error from a public address on the external interface") through a
  built-in chain: first match wins, ``-j`` into user chains and back on ``RETURN`` or at
  the end, ``-g`` never comes back, the chain's policy applies when nothing decided.
  Each rule's match is judged against the probe as matching ``ALL`` of it, ``NONE``,
  ``SOME`` (a rate limit: definitely not all) or ``MAYBE`` (it depends on something the
  probe leaves open, such as the name of the external interface, or on a match module
  fwc does not model). A check proving something bad ("this packet is dropped") lets a
  ``MAYBE`` rule with the other verdict stop the proof, so unmodelled matches never make
  fwc claim more than it knows.
* :func:`flatten` lists the rules a packet may meet walking a built-in chain, each with
  the conditions of the jumps that led to it, visiting every user chain once.

Results are cached per ruleset on the check context (``ctx.fact``), so the checks that
ask the same question share one walk.
"""

from __future__ import annotations

import bisect
import heapq
import ipaddress
import itertools
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Literal, NamedTuple

from ..analysis.compile import addr_intervals
from ..model import Addr, Chain, Cond, Fragment, Icmp, Iface, Opaque, Ports, Proto, Rate, Rule, Ruleset, State, Table
from ..source import Span

# How a rule's match relates to a probe.
ALL, SOME, MAYBE, NONE = "all", "some", "maybe", "none"

# The probe arrives on the host's external interface, whose name fwc does not know.
EXTERNAL = "<external>"
LOOPBACK = "lo"

DROPS = frozenset({"DROP", "REJECT"})
ACCEPTS = frozenset({"ACCEPT"})
PUBLIC_SOURCE = {4: ipaddress.ip_address("198.51.100.77"), 6: ipaddress.ip_address("2001:db8:77::77")}
LOOPBACK_ADDRESS = {4: ipaddress.ip_address("127.0.0.1"), 6: ipaddress.ip_address("::1")}
LINK_LOCAL_SOURCE = ipaddress.ip_address("fe80::77")
EPHEMERAL_PORT = 51234

_PROTO_ALIASES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp", "icmpv6": "ipv6-icmp",
                  "ipv6-icmp": "ipv6-icmp", "icmp6": "ipv6-icmp", "132": "sctp", "136": "udplite",
                  "0": "all"}


def proto_name(name: str) -> str:
    name = name.lower()
    return _PROTO_ALIASES.get(name, name)


@dataclass(frozen=True)
class Probe:
    """One kind of packet. ``None`` in a field means "any value": conditions on it are MAYBE."""

    family: int
    iface_in: str | None = EXTERNAL
    iface_out: str | None = None
    proto: str | None = None
    sport: int | None = None
    dport: int | None = None
    icmp: tuple[int, int] | None = None
    states: frozenset[str] | None = None
    src: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    hop_limit: int | None = None
    # Interfaces the chain accepts wholesale (`-i eth1 -j ACCEPT`): trusted ones, so the
    # external interface is none of them.
    trusted: frozenset[str] = frozenset()

    def __post_init__(self):
        # (version, integer) of src and dst, or None: found once per probe, since every
        # address condition of a walk compares them.
        object.__setattr__(self, "numbers", (_number(self.src), _number(self.dst)))

    def describe(self) -> str:
        """The probe in words, for messages."""
        parts = []
        if self.states:
            parts.append("/".join(sorted(s.lower() for s in self.states)))
        if self.proto:
            parts.append({"ipv6-icmp": "icmpv6"}.get(self.proto, self.proto))
        if self.icmp:
            parts.append(f"type {self.icmp[0]}" + (f" code {self.icmp[1]}" if self.icmp[1] else ""))
        if self.src is not None:
            parts.append(f"from {self.src}" + (f" port {self.sport}" if self.sport else ""))
        if self.dport is not None:
            parts.append(f"to port {self.dport}")
        if self.iface_in:
            parts.append("on an external interface" if self.iface_in == EXTERNAL else f"in on {self.iface_in}")
        return " ".join(parts)


def _number(address) -> tuple[int, int] | None:
    return None if address is None else (address.version, int(address))


# --------------------------------------------------------------------------- matching


def _addr(cond: Addr, probe: Probe) -> bool | None:
    entry = _ADDR_BOUNDS.get(id(cond))
    if entry is None or entry[0] is not cond:
        entry = _remember_bounds(cond)
    _, version, lo, hi = entry
    if version is None:  # a host name: fwc cannot know its addresses
        return None
    if lo is None:  # /0: any address
        return True
    address = probe.numbers[0 if cond.field == "src" else 1]
    if address is None or address[0] != version:
        return None
    return lo <= address[1] <= hi


# An address condition as (condition, version, first, last) integers, by the condition's
# identity: every probe walk tests each condition, and ipaddress's int() and version
# are Python-level calls. The readers intern conditions (a 100k-rule policy holds ~40k
# distinct ones); the entry keeps the condition alive, so its id is not reused.
_ADDR_BOUNDS: dict[int, tuple] = {}


def _remember_bounds(cond: Addr) -> tuple:
    value = cond.value
    if isinstance(value, str):
        entry = (cond, None, None, None)
    else:
        # The bounds the lowering found (cached there too); the version by type, not by
        # ipaddress's version property.
        [(lo, hi)] = addr_intervals(cond)
        first = value[0] if isinstance(value, tuple) else value
        version = 4 if isinstance(first, (ipaddress.IPv4Address, ipaddress.IPv4Network)) else 6
        if not isinstance(value, tuple) and lo == 0 and hi == _TOP[version]:
            entry = (cond, version, None, None)  # /0: any address (an iprange's family counts)
        else:
            entry = (cond, version, lo, hi)
    if len(_ADDR_BOUNDS) > 1_000_000:
        _ADDR_BOUNDS.clear()
    _ADDR_BOUNDS[id(cond)] = entry
    return entry


_TOP = {4: (1 << 32) - 1, 6: (1 << 128) - 1}


def _iface(cond: Iface, probe: Probe) -> bool | None:
    name = probe.iface_in if cond.field == "in" else probe.iface_out
    if cond.name in ("+", ""):
        return True
    if name is None:
        return None
    if name != EXTERNAL:  # a known name (lo, or one a rule of the chain named)
        if cond.is_wildcard:
            return name.startswith(cond.name[:-1])
        return cond.name == name
    # The external interface: not lo, not a trusted one, otherwise any name.
    if cond.name == LOOPBACK or cond.name in probe.trusted:
        return False
    return None


def _proto(cond: Proto, probe: Probe) -> bool | None:
    want = proto_name(cond.name)
    if want == "all":
        return True
    if probe.proto is None:
        return None
    return want == probe.proto


def _ports(cond: Ports, probe: Probe) -> bool | None:
    def inside(port: int | None) -> bool | None:
        if port is None:
            return None
        return any(lo <= port <= hi for lo, hi in cond.ranges)

    if cond.field == "sport":
        return inside(probe.sport)
    if cond.field == "dport":
        return inside(probe.dport)
    either = (inside(probe.sport), inside(probe.dport))
    if True in either:
        return True
    return None if None in either else False


def _state(cond: State, probe: Probe) -> bool | None:
    if probe.states is None:
        return None
    if probe.states <= cond.states:
        return True
    if not probe.states & cond.states:
        return False
    return None


def _icmp(cond: Icmp, probe: Probe) -> bool | None:
    if probe.icmp is None:
        return None if cond.type is not None else True
    if cond.version != probe.family:
        return False
    if cond.type is None:
        return True
    if cond.type != probe.icmp[0]:
        return False
    return cond.code is None or cond.code == probe.icmp[1]


def _opaque(cond: Opaque, probe: Probe) -> bool | None:
    # Neighbour discovery must arrive with hop limit 255 (RFC 4861); rulesets say so.
    if cond.module == "hl" and probe.hop_limit is not None and len(cond.args) >= 2:
        op, value = cond.args[0], cond.args[1]
        if value.isdigit():
            n = int(value)
            if op == "--hl-eq":
                return probe.hop_limit == n
            if op == "--hl-lt":
                return probe.hop_limit < n
            if op == "--hl-gt":
                return probe.hop_limit > n
    return None


_MATCHERS = {Proto: _proto, Addr: _addr, Iface: _iface, Ports: _ports, State: _state, Icmp: _icmp,
             Opaque: _opaque}


def cond_matches(cond: Cond, probe: Probe) -> bool | None:
    """True: every packet of the probe matches; False: none does; None: it depends."""
    matcher = _MATCHERS.get(type(cond))  # a dict lookup: this runs for every rule and probe
    if matcher is not None:
        value = matcher(cond, probe)
    elif isinstance(cond, Fragment):
        value = False  # probes are whole packets or first fragments
    else:  # TcpFlags and anything unmodelled
        value = None
    if value is None:
        return None
    return value != cond.negated


def match_probe(conds: Iterable[Cond], probe: Probe) -> str:
    """ALL, SOME, MAYBE or NONE: how much of the probe a conjunction of conditions matches."""
    result = ALL
    for cond in conds:
        matcher = _MATCHERS.get(type(cond))
        if matcher is not None:  # cond_matches() inlined for the usual conditions
            value = matcher(cond, probe)
            if value is not None:
                value = value != cond.negated
        elif isinstance(cond, Rate):
            # A rate limit matches some packets and not others, whatever they are.
            if result == ALL:
                result = SOME
            continue
        else:
            value = cond_matches(cond, probe)
        if value is False:
            return NONE
        if value is None:
            result = MAYBE
    return result


def matches_all(conds: Iterable[Cond], probe: Probe) -> bool:
    """``match_probe(conds, probe) == ALL``, without testing the conditions after the
    first one that is not certainly true (a rate limit never is)."""
    for cond in conds:
        matcher = _MATCHERS.get(type(cond))
        if matcher is not None:
            value = matcher(cond, probe)
            if value is None:
                return False
            if value == cond.negated:
                return False
        elif isinstance(cond, Rate) or cond_matches(cond, probe) is not True:
            return False
    return True


# --------------------------------------------------------------------------- walking

Kind = Literal["bad", "good", "through"]


@dataclass(frozen=True)
class Outcome:
    """Where a probe's walk ended.

    ``kind`` is ``bad`` (a verdict the check looks for), ``good`` (another verdict, or one
    that may apply), or ``through`` (fell off a user chain / returned). At the top level,
    ``rule`` None means the chain's policy decided. ``tested`` counts the rules the packet
    was compared with before the decision.
    """

    kind: Kind
    rule: Rule | None
    chain: Chain
    tested: int = 0


# Table.chain() scans the table; big tables (kube-proxy: tens of thousands of chains)
# need an index. Kept for the few most recent tables (a strong reference keeps ids valid).
_CHAIN_INDEX: dict[int, tuple[Table, dict[str, Chain]]] = {}


def chain_index(table: Table) -> dict[str, Chain]:
    entry = _CHAIN_INDEX.get(id(table))
    if entry is None or entry[0] is not table:
        if len(_CHAIN_INDEX) >= 16:
            _CHAIN_INDEX.pop(next(iter(_CHAIN_INDEX)))
        entry = (table, {c.name: c for c in table.chains})
        _CHAIN_INDEX[id(table)] = entry
    return entry[1]


def user_chain(table: Table, name: str) -> Chain | None:
    chain = chain_index(table).get(name)
    return chain if chain is not None and not chain.is_builtin else None


@dataclass
class _Walker:
    table: Table
    probe: Probe
    bad: frozenset[str]
    maybe_decides: Kind | None
    memo: dict[str, Outcome] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)

    def kind_of(self, target_name: str) -> Kind:
        return "bad" if target_name in self.bad else "good"

    def chain(self, chain: Chain) -> Outcome:
        cached = self.memo.get(chain.name)
        if cached is not None:
            return cached
        if chain.name in self.active:  # a loop (FW005): treat as falling through
            return Outcome("through", None, chain)
        self.active.add(chain.name)
        outcome = self.rules(chain, chain.rules)
        self.active.discard(chain.name)
        self.memo[chain.name] = outcome
        return outcome

    def rules(self, chain: Chain, rules: tuple[Rule, ...]) -> Outcome:
        # ``tested`` counts the rules of this chain up to the current one (those the
        # source index skips included) and the rules tested in the chains it entered.
        tested = entered = 0
        # After a RETURN that may match, a later verdict only holds for the packets that
        # did not return, so it settles the walk only if it is of the kind a MAYBE settles.
        may_have_returned = False

        def decided(kind: Kind, rule: Rule | None, where: Chain) -> Outcome:
            if may_have_returned and kind != self.maybe_decides:
                return Outcome("through", None, chain, tested)
            return Outcome(kind, rule, where, tested)

        for position in may_match(chain, rules, self.probe):
            rule = rules[position]
            target = rule.target
            tested = position + 1 + entered
            if target is None:
                continue
            how = match_probe(rule.match.conds, self.probe)
            if how == NONE:
                continue
            sub_chain = user_chain(self.table, target.name)
            if sub_chain is not None:
                sub = self.chain(sub_chain)
                entered += sub.tested
                tested += sub.tested
                if sub.kind != "through":
                    if how == ALL or sub.kind == self.maybe_decides:
                        return decided(sub.kind, sub.rule, sub.chain)
                elif target.goto and how == ALL:
                    return Outcome("through", None, chain, tested)
                continue
            if target.name == "RETURN":
                if how == ALL:
                    return Outcome("through", None, chain, tested)
                may_have_returned = True
                continue
            if not _is_terminal(target.name):
                continue
            kind = self.kind_of(target.name)
            if how == ALL or (how == MAYBE and kind == self.maybe_decides):
                return decided(kind, rule, chain)
        return Outcome("through", None, chain, len(rules) + entered)


def _is_terminal(name: str) -> bool:
    return name in ("ACCEPT", "DROP", "REJECT", "QUEUE", "NFQUEUE", "DNAT", "SNAT", "MASQUERADE",
                    "REDIRECT", "TPROXY", "SYNPROXY")


def walk(table: Table, chain_name: str, probe: Probe, *, bad: frozenset[str] = DROPS,
         maybe_decides: Kind | None = "good") -> Outcome | None:
    """Follow ``probe`` through built-in chain ``chain_name`` of ``table``.

    ``bad`` are the verdicts the caller wants to prove; ``maybe_decides`` says which kind
    of verdict a MAYBE match settles: "good" when proving something bad (any doubt means
    no finding), "bad" when proving something good, None to let only certain matches
    decide. Returns None when the chain does not exist.
    """
    chain = chain_index(table).get(chain_name)
    if chain is None:
        return None
    if probe.iface_in == EXTERNAL:
        probe = replace(probe, trusted=trusted_interfaces(chain))
    walker = _Walker(table, probe, bad, maybe_decides)
    outcome = walker.rules(chain, chain.rules)
    if outcome.kind == "through":
        policy = chain.policy or "ACCEPT"
        return Outcome(walker.kind_of(policy), None, chain, outcome.tested)
    return outcome


# Every walk of a chain on the external interface asks; kept for the few most recent
# chains (a strong reference keeps ids valid), like _CHAIN_INDEX.
_TRUSTED: dict[int, tuple[Chain, frozenset[str]]] = {}


def trusted_interfaces(chain: Chain) -> frozenset[str]:
    """Interfaces whose traffic ``chain`` accepts wholesale: ``-A INPUT -i eth1 -j ACCEPT``."""
    entry = _TRUSTED.get(id(chain))
    if entry is None or entry[0] is not chain:
        if len(_TRUSTED) >= 16:
            _TRUSTED.pop(next(iter(_TRUSTED)))
        entry = (chain, _trusted_interfaces(chain))
        _TRUSTED[id(chain)] = entry
    return entry[1]


def _trusted_interfaces(chain: Chain) -> frozenset[str]:
    names = set()
    for rule in chain.rules:
        conds = rule.match.conds
        if (rule.target is not None and rule.target.name == "ACCEPT" and len(conds) == 1
                and isinstance(conds[0], Iface) and conds[0].field == "in"
                and not conds[0].negated and conds[0].name != LOOPBACK):
            names.add(conds[0].name)
    return frozenset(names)


def walk_cached(ctx, ruleset: Ruleset, chain_name: str, probe: Probe, *,
                bad: frozenset[str] = DROPS, maybe_decides: Kind | None = "good",
                table: str = "filter") -> Outcome | None:
    """:func:`walk`, computed once per ruleset and question for all checks."""
    key = ("walk", id(ruleset), table, chain_name, probe, bad, maybe_decides)

    def compute():
        t = ruleset.table(table)
        return walk(t, chain_name, probe, bad=bad, maybe_decides=maybe_decides) if t else None

    return ctx.fact(key, compute)


# --------------------------------------------------------------------------- source index

# The rules a walk tests one by one before it turns to the source index (filing a
# chain costs about as much as walking it; most walks end early).
INDEX_FROM = 512
# Buckets of the source index: one /16 of IPv4, one /48 of IPv6.
_BUCKET_SHIFT = {4: 16, 6: 80}


def may_match(chain: Chain, rules: tuple[Rule, ...], probe: Probe) -> Iterable[int]:
    """The positions of ``rules`` (``chain``'s) that may match ``probe``, in order.

    A probe from a known source does not match a rule whose source network leaves it
    out (match_probe says NONE: one false condition is enough). Long chains (blocklists,
    per-client accepts) are mostly such rules, so past its first INDEX_FROM rules (most
    walks end there) a chain is filed by its rules' source network buckets, and a walk
    from a known source visits only the rules of its bucket and those without a narrow
    source. Other walks visit every rule.
    """
    source = probe.numbers[0]
    if (source is None or source[0] not in _BUCKET_SHIFT or len(rules) <= INDEX_FROM
            or rules is not chain.rules):
        return range(len(rules))
    return itertools.chain(range(INDEX_FROM), _indexed(chain, source, INDEX_FROM))


def _indexed(chain: Chain, source: tuple[int, int], start: int) -> Iterator[int]:
    """The positions from ``start`` on that may match a probe from ``source``."""
    version, number = source
    anywhere, buckets = _source_index(chain, version)
    bucket = buckets.get(number >> _BUCKET_SHIFT[version], ())
    yield from heapq.merge(anywhere[bisect.bisect_left(anywhere, start):],
                           bucket[bisect.bisect_left(bucket, start):])


# Per chain object: {version: (positions of rules without a narrow source of that
# version, {bucket: positions})}; kept for the few most recent chains, like _TRUSTED.
_SOURCE_INDEX: dict[int, tuple[Chain, dict]] = {}


def _source_index(chain: Chain, version: int) -> tuple[list[int], dict[int, list[int]]]:
    entry = _SOURCE_INDEX.get(id(chain))
    if entry is None or entry[0] is not chain:
        if len(_SOURCE_INDEX) >= 16:
            _SOURCE_INDEX.pop(next(iter(_SOURCE_INDEX)))
        entry = (chain, {})
        _SOURCE_INDEX[id(chain)] = entry
    by_version = entry[1]
    if version not in by_version:
        by_version[version] = _file_by_source(chain.rules, version)
    return by_version[version]


def _file_by_source(rules: tuple[Rule, ...], version: int) -> tuple[list[int], dict[int, list[int]]]:
    """Each rule's position under the bucket of a source condition of ``rule`` that is
    false for every address of ``version`` outside one bucket (see _addr), or under
    ``anywhere``. One loop, no call per rule: it runs over every rule of a long chain."""
    shift = _BUCKET_SHIFT[version]
    anywhere: list[int] = []
    buckets: dict[int, list[int]] = {}
    for position, rule in enumerate(rules):
        key = None
        for cond in rule.match.conds:
            if type(cond) is Addr and cond.field == "src" and not cond.negated:
                entry = _ADDR_BOUNDS.get(id(cond))
                if entry is None or entry[0] is not cond:
                    entry = _remember_bounds(cond)
                if entry[1] == version and entry[2] is not None and entry[2] >> shift == entry[3] >> shift:
                    key = entry[2] >> shift
                    break
        if key is None:
            anywhere.append(position)
        else:
            filed = buckets.get(key)
            if filed is None:
                buckets[key] = [position]
            else:
                filed.append(position)
    return anywhere, buckets


# --------------------------------------------------------------------------- flattening


class Step(NamedTuple):
    """A rule a packet may meet in a built-in chain, with the jumps' conditions before its own.

    A named tuple rather than a frozen dataclass: flatten() makes one per rule of the
    table, and a tuple is made without a __setattr__ call per field."""

    rule: Rule
    conds: tuple[Cond, ...]
    via: tuple[Rule, ...] = ()

    @property
    def target(self) -> str | None:
        return self.rule.target.name if self.rule.target else None

    def matches(self, probe: Probe) -> str:
        return match_probe(self.conds, probe)

    def matches_all(self, probe: Probe) -> bool:
        return matches_all(self.conds, probe)


def flatten(table: Table, chain_name: str) -> list[Step]:
    """The rules reachable from built-in chain ``chain_name``, in the order a packet meets
    them. Jump rules are listed too. Each user chain is expanded once (at its first jump),
    so the list is never longer than the table; the walk of a chain stops after a rule
    without conditions that ends it (``-j DROP``, ``-g X``, ``-j RETURN``)."""
    chain = chain_index(table).get(chain_name)
    if chain is None:
        return []
    steps: list[Step] = []
    expanded: set[str] = {chain_name}

    chains = chain_index(table)

    def visit(chain: Chain, path: tuple[Cond, ...], via: tuple[Rule, ...]) -> None:
        # Runs once per rule of the table: user_chain() and the Match.is_empty property
        # are written out.
        for rule in chain.rules:
            own = rule.match.conds
            conds = path + own if path else own
            steps.append(Step(rule, conds, via))
            target = rule.target
            if target is None:
                continue
            sub = chains.get(target.name)
            if sub is not None and sub.policy is None and sub.name not in expanded:
                expanded.add(sub.name)
                visit(sub, conds, via + (rule,))
            if not own and (target.goto or _is_terminal(target.name) or target.name == "RETURN"):
                return

    visit(chain, (), ())
    return steps


def flatten_cached(ctx, ruleset: Ruleset, chain_name: str, table: str = "filter") -> list[Step]:
    def compute():
        t = ruleset.table(table)
        return flatten(t, chain_name) if t else []

    return ctx.fact(("flatten", id(ruleset), table, chain_name), compute)


# --------------------------------------------------------------------------- small facts


def filter_chain(ruleset: Ruleset, name: str) -> Chain | None:
    table = ruleset.table("filter")
    return chain_index(table).get(name) if table else None


def chain_span(ctx, chain: Chain) -> Span:
    """Where a chain-level finding points: the chain's policy line, else the document's first line."""
    if chain.span is not None:
        return chain.span
    return Span(ctx.document.path, 1, 1, 1, 2)


def outcome_span(ctx, outcome: Outcome) -> Span:
    if outcome.rule is not None and outcome.rule.span is not None:
        return outcome.rule.span
    return chain_span(ctx, outcome.chain)


def where(outcome: Outcome) -> str:
    """The deciding rule or policy in words, for messages."""
    if outcome.rule is None:
        return f"the {outcome.chain.name} policy {outcome.chain.policy or 'ACCEPT'}"
    line = f" (line {outcome.rule.span.line})" if outcome.rule.span else ""
    return f"`{rule_text(outcome.rule)}`{line}"


_COUNTERS = re.compile(r"^\[\d+:\d+\]\s*")


def rule_text(rule: Rule) -> str:
    if rule.text:
        return _COUNTERS.sub("", rule.text.strip())
    target = rule.target.name if rule.target else ""
    return f"-A {rule.chain} ... -j {target}".strip()


def is_established_accept(conds: tuple[Cond, ...]) -> bool:
    """A match that accepts packets of established connections (any extra condition aside)."""
    return any(isinstance(c, State) and not c.negated and "ESTABLISHED" in c.states for c in conds)


def rulesets_with_filter(ctx) -> Iterator[Ruleset]:
    for ruleset in ctx.rulesets:
        if ruleset.table("filter") is not None:
            yield ruleset


def option(ctx, check, name: str):
    """A check option: the configured value, else the check's default."""
    configured = ctx.settings.options.get(check.code, {})
    return configured.get(name, check.options[name])


# --------------------------------------------------------------------------- one pass over every rule

LOG_TARGETS = frozenset({"LOG", "NFLOG", "ULOG"})
_HOSTNAME_OPTIONS = frozenset({"-s", "--source", "-d", "--destination"})


@dataclass
class RuleFacts:
    """What the rule-level checks look for, gathered in one pass over a ruleset."""

    state_module: list[Rule] = field(default_factory=list)          # `-m state`
    logging: list[tuple[Table, Chain, Rule]] = field(default_factory=list)
    hostnames: list[tuple[Rule, Opaque]] = field(default_factory=list)
    accepted_sources: list[tuple[Chain, Rule, Addr]] = field(default_factory=list)
    # Per table name: every chain declared and every target named, in file order.
    names: dict[str, dict[str, None]] = field(default_factory=dict)


def _gather(ruleset: Ruleset) -> RuleFacts:
    facts = RuleFacts()
    state_module, logging, hostnames, sources = (facts.state_module, facts.logging, facts.hostnames,
                                                 facts.accepted_sources)
    for table in ruleset.tables:
        names = facts.names.setdefault(table.name, {})
        for chain in table.chains:
            names[chain.name] = None
            for rule in chain.rules:
                target = rule.target.name if rule.target is not None else ""
                names[target] = None
                if target in LOG_TARGETS:
                    logging.append((table, chain, rule))
                stated = False
                for cond in rule.match.conds:
                    kind = type(cond)
                    if kind is State:
                        if cond.module == "state" and not stated:
                            state_module.append(rule)
                            stated = True
                    elif kind is Addr:
                        if target == "ACCEPT" and cond.field == "src":
                            sources.append((chain, rule, cond))
                    elif kind is Opaque:
                        if not cond.module and len(cond.args) == 2 and cond.args[0] in _HOSTNAME_OPTIONS:
                            hostnames.append((rule, cond))
        names.pop("", None)
    return facts


def rule_facts(ctx, ruleset: Ruleset) -> RuleFacts:
    return ctx.fact(("rule-facts", id(ruleset)), lambda: _gather(ruleset))
