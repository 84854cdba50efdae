"""The one immutable model both frontends lower into: Ruleset > Table > Chain > Rule.

A rule's match is a conjunction of typed conditions (:data:`Cond`), kept in the order the
rule states them. Each condition remembers the iptables match module that expressed it
(``module``: ``None`` for the base options ``-s -d -i -o -p -f``), so the iptables-restore
backend renders exactly what the model says, and ``parse(render(model)) == model``.

Conditions fwc does not model are :class:`Opaque`: their tokens are kept verbatim and the
analysis treats the rule as *opaque* (it may match anything or nothing), so fwc never
claims a rule is dead or a port closed because of a match it does not understand.

Spans and counters are carried on every node but are not part of equality, so a rule
read back from rendered text equals the rule that was rendered.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Iterator, Literal, Union

from .source import Span

Family = Literal[4, 6]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

BUILTIN_CHAINS: dict[str, tuple[str, ...]] = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}

# Targets that end a packet's walk through the chains.
TERMINAL_TARGETS = frozenset({"ACCEPT", "DROP", "REJECT", "RETURN", "QUEUE", "NFQUEUE",
                              "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP", "TPROXY",
                              "SYNPROXY", "CT_DROP"})
VERDICTS = frozenset({"ACCEPT", "DROP", "REJECT", "RETURN"})


def _span_field():
    return field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class Proto:
    """``-p NAME``; ``name`` is the canonical lower-case name (``tcp``, ``ipv6-icmp``) or
    the decimal number for protocols without a name."""

    name: str
    negated: bool = False
    module: str | None = None
    span: Span | None = _span_field()


@dataclass(frozen=True, slots=True)
class Addr:
    """``-s``/``-d`` (a network) or ``-m iprange --src-range/--dst-range`` (a range)."""

    field: Literal["src", "dst"]
    value: Network | tuple[Address, Address]
    negated: bool = False
    module: str | None = None
    span: Span | None = _span_field()

    @property
    def version(self) -> int:
        v = self.value
        return v[0].version if isinstance(v, tuple) else v.version

    def bounds(self) -> tuple[int, int]:
        """The first and last address as integers."""
        v = self.value
        if isinstance(v, tuple):
            return int(v[0]), int(v[1])
        return int(v.network_address), int(v.broadcast_address)

    @property
    def is_any(self) -> bool:
        return not isinstance(self.value, tuple) and self.value.prefixlen == 0


@dataclass(frozen=True, slots=True)
class Iface:
    """``-i``/``-o``; a name ending in ``+`` matches every interface with that prefix."""

    field: Literal["in", "out"]
    name: str
    negated: bool = False
    module: str | None = None
    span: Span | None = _span_field()

    @property
    def is_wildcard(self) -> bool:
        return self.name.endswith("+")


@dataclass(frozen=True, slots=True)
class Ports:
    """Source or destination ports: a union of inclusive ranges.

    ``field`` is ``sport``, ``dport`` or ``ports`` (multiport ``--ports``: either side).
    ``module`` is ``tcp``/``udp``/``sctp``/``udplite`` or ``multiport``.
    """

    field: Literal["sport", "dport", "ports"]
    ranges: tuple[tuple[int, int], ...]
    negated: bool = False
    module: str | None = None
    span: Span | None = _span_field()


@dataclass(frozen=True, slots=True)
class State:
    """Connection-tracking states (upper case: NEW, ESTABLISHED, RELATED, INVALID,
    UNTRACKED, SNAT, DNAT). ``module`` is ``conntrack`` (``--ctstate``) or ``state``."""

    states: frozenset[str]
    negated: bool = False
    module: str | None = "conntrack"
    span: Span | None = _span_field()


@dataclass(frozen=True, slots=True)
class Icmp:
    """An ICMP (``version`` 4) or ICMPv6 (6) type and optional code; ``type`` None means
    any type (``--icmp-type any``)."""

    version: int
    type: int | None
    code: int | None = None
    negated: bool = False
    module: str | None = None
    span: Span | None = _span_field()


@dataclass(frozen=True, slots=True)
class TcpFlags:
    """``--tcp-flags MASK COMP`` (``--syn`` is ``SYN,RST,ACK,FIN SYN``)."""

    mask: frozenset[str]
    comp: frozenset[str]
    negated: bool = False
    module: str | None = "tcp"
    span: Span | None = _span_field()


@dataclass(frozen=True, slots=True)
class Fragment:
    """``-f``: second and later fragments only (IPv4)."""

    negated: bool = False
    module: str | None = None
    span: Span | None = _span_field()


@dataclass(frozen=True, slots=True)
class Rate:
    """``-m limit`` or ``-m hashlimit``: matches only some of the packets it sees.

    ``options`` keeps the module's options as ``(name, value)`` pairs in canonical long
    form (``("limit", "6/min")``, ``("limit-burst", "10")``, ``("hashlimit-mode", "srcip")``).
    """

    options: tuple[tuple[str, str], ...]
    negated: bool = False
    module: str | None = "limit"
    span: Span | None = _span_field()

    def get(self, name: str) -> str | None:
        for key, value in self.options:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Opaque:
    """A match fwc does not model: ``-m MODULE`` and its option tokens, verbatim.

    ``args`` are the tokens after ``-m MODULE`` exactly as they will be rendered
    (quoting applied by the renderer where a token needs it). ``known`` is True when the
    reader validated the options (a known module whose semantics the analysis does not
    use, e.g. ``mac`` or ``owner``); False when the module is unknown to fwc.
    """

    module: str
    args: tuple[str, ...]
    negated: bool = False
    known: bool = False
    span: Span | None = _span_field()


Cond = Union[Proto, Addr, Iface, Ports, State, Icmp, TcpFlags, Fragment, Rate, Opaque]


@dataclass(frozen=True, slots=True)
class Match:
    conds: tuple[Cond, ...] = ()

    def __iter__(self) -> Iterator[Cond]:
        return iter(self.conds)

    def of(self, kind: type, **attrs) -> tuple:
        """All conditions of one kind whose attributes equal ``attrs``."""
        return tuple(c for c in self.conds
                     if isinstance(c, kind) and all(getattr(c, k) == v for k, v in attrs.items()))

    def one(self, kind: type, **attrs):
        found = self.of(kind, **attrs)
        return found[0] if found else None

    @property
    def protocol(self) -> Proto | None:
        return self.one(Proto)

    @property
    def in_iface(self) -> Iface | None:
        return self.one(Iface, field="in")

    @property
    def out_iface(self) -> Iface | None:
        return self.one(Iface, field="out")

    @property
    def state(self) -> State | None:
        return self.one(State)

    @property
    def is_empty(self) -> bool:
        """No conditions at all: the rule matches every packet."""
        return not self.conds

    @property
    def is_opaque(self) -> bool:
        """A condition the analysis cannot decide (unmodelled match or a rate limit)."""
        return any(isinstance(c, (Opaque, Rate)) for c in self.conds)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Target:
    """``-j NAME`` (or ``-g NAME`` when ``goto``) with the target's options as tokens in
    canonical long form, e.g. ``("--reject-with", "tcp-reset")``."""

    name: str
    args: tuple[str, ...] = ()
    goto: bool = False
    span: Span | None = _span_field()

    def option(self, name: str) -> str | None:
        """The value after ``--name`` in ``args``, or None."""
        flag = "--" + name
        for i, tok in enumerate(self.args):
            if tok == flag and i + 1 < len(self.args):
                return self.args[i + 1]
        return None

    @property
    def is_verdict(self) -> bool:
        return self.name in VERDICTS

    @property
    def is_terminal(self) -> bool:
        return self.goto or self.name in TERMINAL_TARGETS


@dataclass(frozen=True, slots=True)
class Rule:
    chain: str
    match: Match = Match()
    target: Target | None = None
    comment: str | None = None
    span: Span | None = _span_field()
    counters: tuple[int, int] | None = field(default=None, compare=False, repr=False)
    # The rule's source text (a rules-save line, or the policy line it came from).
    text: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Chain:
    name: str
    policy: str | None = None  # ACCEPT/DROP for a built-in chain, None for a user chain
    rules: tuple[Rule, ...] = ()
    span: Span | None = _span_field()
    counters: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    @property
    def is_builtin(self) -> bool:
        return self.policy is not None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    chains: tuple[Chain, ...] = ()
    span: Span | None = _span_field()
    committed: bool = field(default=True, compare=False)

    def chain(self, name: str) -> Chain | None:
        for c in self.chains:
            if c.name == name:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Ruleset:
    """Every table of one family, from one source (a rules file, or a compiled policy)."""

    family: Family
    tables: tuple[Table, ...] = ()
    path: str | None = field(default=None, compare=False)

    def table(self, name: str) -> Table | None:
        for t in self.tables:
            if t.name == name:
                return t
        return None

    def rules(self) -> Iterator[tuple[Table, Chain, Rule]]:
        for t in self.tables:
            for c in t.chains:
                for r in c.rules:
                    yield t, c, r
