"""The iptables-restore backend: a ruleset rendered exactly as ``iptables-save`` prints it.

The spelling follows iptables 1.8's save functions, so loading the output and running
``iptables-save`` prints the same rule lines, and reading the output back with the
rules-save reader gives the same model:

- base options first, in the order iptables-save prints them (``-s -d -i -o -p -f``);
- every other condition behind the ``-m MODULE`` that expresses it (``-m tcp`` for a
  single port, ``-m multiport`` for a list, ``-m icmp`` / ``-m icmp6``...); consecutive
  conditions of one mergeable module (``--sport`` and ``--dport`` of ``-m tcp``) share
  one ``-m``, as iptables-save prints them;
- addresses always with a prefix length (``1.2.3.4/32``), conntrack states and TCP
  flags in kernel bit order, strings quoted by iptables' own ``xtables_save_string``
  rule;
- the rule's comment as ``-m comment --comment`` just before the target.

:func:`check` lists what iptables-restore would refuse (an IPv6 address in an IPv4
ruleset, a 16th multiport port, a 256-byte comment...) as diagnostics pointing at the
rule's source; :func:`render` refuses to render a ruleset with such problems.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable, Iterator, NamedTuple

from ..diagnostics import Diagnostic, Severity
from ..model import (BUILTIN_CHAINS, Addr, Chain, Cond, Fragment, Icmp, Iface, Opaque,
                     Ports, Proto, Rate, Rule, Ruleset, State, Table, TcpFlags)
from .base import GENERATED_MARKER, Backend, fallback_span

# Base options, in the order iptables-save prints them.
_SRC, _DST, _IN, _OUT, _PROTO, _FRAG = range(6)

PORT_MODULES = frozenset({"tcp", "udp", "sctp", "udplite"})
# Modules whose options iptables-save prints behind one ``-m``.
MERGEABLE_MODULES = PORT_MODULES | {"iprange"}
MULTIPORT_MAX = 15
COMMENT_MAX_BYTES = 255
LOG_PREFIX_MAX = 29
CHAIN_NAME_MAX = 28
IFACE_NAME_MAX = 15
# Options whose value iptables-save prints with xtables_save_string().
STRING_OPTIONS = frozenset({"--comment", "--log-prefix", "--nflog-prefix"})

STATE_ORDER = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
STATE_MODULE_STATES = frozenset(STATE_ORDER[:5])
TCP_FLAG_ORDER = ("FIN", "SYN", "RST", "PSH", "ACK", "URG")
# Extension targets iptables ships; any other -j name must be a chain of the table.
KNOWN_TARGETS = frozenset("""
    ACCEPT DROP REJECT RETURN QUEUE NFQUEUE LOG NFLOG ULOG MARK CONNMARK CONNSECMARK
    SECMARK DNAT SNAT MASQUERADE REDIRECT NETMAP CT NOTRACK TCPMSS TCPOPTSTRIP TPROXY
    SYNPROXY AUDIT CLASSIFY DSCP TOS TTL HL ECN SET TEE TRACE CHECKSUM IDLETIMER LED
    RATEEST CLUSTERIP HMARK""".split())
ICMP_PROTOCOLS = {4: ("icmp", "1"), 6: ("ipv6-icmp", "icmpv6", "58")}

_UNQUOTED = re.compile(r"[A-Za-z0-9_-]+\Z")
_ESCAPED = re.compile(r"([\"\\'])")
_NEEDS_QUOTES = re.compile(r"[\s\"'\\]")


# --------------------------------------------------------------------------- quoting


def save_string(value: str) -> str:
    """A string value as iptables-save prints it (``xtables_save_string``): bare when it is
    only letters, digits, ``_`` and ``-``; otherwise in double quotes with ``"``, ``\\``
    and ``'`` escaped by a backslash."""
    if _UNQUOTED.match(value):
        return value
    return '"' + _ESCAPED.sub(r"\\\1", value) + '"'


def quote_token(token: str) -> str:
    """A verbatim option token, quoted only when iptables-restore would otherwise split it
    or lose a character."""
    if token and not _NEEDS_QUOTES.search(token):
        return token
    return '"' + _ESCAPED.sub(r"\\\1", token) + '"'


def render_args(args: tuple[str, ...]) -> str:
    """Option tokens, each string-valued option's value quoted as iptables-save does."""
    out = []
    previous = ""
    for token in args:
        out.append(save_string(token) if previous in STRING_OPTIONS else quote_token(token))
        previous = token
    return " ".join(out)


# --------------------------------------------------------------------------- conditions


def _neg(cond) -> str:
    return "! " if cond.negated else ""


def _port_range(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}:{hi}"


_BASE_KINDS = (Proto, Iface, Fragment)


def _is_base(cond: Cond) -> bool:
    kind = type(cond)
    if kind in _BASE_KINDS:
        return True
    return kind is Addr and cond.module is None and type(cond.value) is not tuple


def _base_rank(cond: Cond) -> int:
    if isinstance(cond, Addr):
        return _SRC if cond.field == "src" else _DST
    if isinstance(cond, Iface):
        return _IN if cond.field == "in" else _OUT
    if isinstance(cond, Proto):
        return _PROTO
    return _FRAG


def address_text(address) -> str:
    """An address as iptables prints it (glibc's inet_ntop): IPv6 addresses whose first 96
    bits are zero, or that are IPv4-mapped, end in dotted IPv4 (``::0.2.0.0``,
    ``::ffff:1.2.3.4``), which Python's ipaddress does not do."""
    if address.version == 4:
        return str(address)
    value = int(address)
    high = value >> 32
    if (high == 0 and value >> 16 != 0) or high == 0xFFFF:
        dotted = str(ipaddress.IPv4Address(value & 0xFFFFFFFF))
        return ("::ffff:" if high else "::") + dotted
    return str(address)


def network_text(network) -> str:
    if type(network) is ipaddress.IPv4Network:
        # What str() gives, without its several calls per address.
        value = int(network.network_address)
        return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}/{network.prefixlen}"
    if network.version == 4:
        return str(network)
    return f"{address_text(network.network_address)}/{network.prefixlen}"


def _render_base(cond: Cond) -> str:
    if isinstance(cond, Addr):
        flag = "-s" if cond.field == "src" else "-d"
        return f"{_neg(cond)}{flag} {network_text(cond.value)}"
    if isinstance(cond, Iface):
        flag = "-i" if cond.field == "in" else "-o"
        return f"{_neg(cond)}{flag} {cond.name}"
    if isinstance(cond, Proto):
        return f"{_neg(cond)}-p {cond.name}"
    return f"{_neg(cond)}-f"


def _protocol_name(rule: Rule) -> str | None:
    for cond in rule.match.conds:
        if isinstance(cond, Proto) and not cond.negated:
            return cond.name
    return None


def ports_module(cond: Ports, protocol: str | None) -> str:
    """The module that expresses ``cond``: its own, else the protocol's match for a single
    range, else multiport."""
    if cond.module:
        return cond.module
    if cond.field != "ports" and len(cond.ranges) == 1 and protocol in PORT_MODULES:
        return protocol
    return "multiport"


def icmp_module(cond: Icmp) -> str:
    return cond.module or ("icmp" if cond.version == 4 else "icmp6")


def _ports_text(cond: Ports, module: str) -> str:
    if module == "multiport":
        values = ",".join(_port_range(lo, hi) for lo, hi in cond.ranges)
        option = "--ports" if cond.field == "ports" else f"--{cond.field}s"
        return f"{_neg(cond)}{option} {values}"
    lo, hi = cond.ranges[0]
    return f"{_neg(cond)}--{cond.field} {_port_range(lo, hi)}"


def _icmp_text(cond: Icmp) -> str:
    option = "--icmp-type" if cond.version == 4 else "--icmpv6-type"
    if cond.type is None:
        value = "any"
    elif cond.code is None:
        value = str(cond.type)
    else:
        value = f"{cond.type}/{cond.code}"
    return f"{_neg(cond)}{option} {value}"


def tcp_flag_list(flags: frozenset[str]) -> str:
    """Flags in kernel bit order, as iptables prints them (``NONE`` when empty)."""
    expanded = set(TCP_FLAG_ORDER) if "ALL" in flags else set(flags)
    names = [f for f in TCP_FLAG_ORDER if f in expanded]
    return ",".join(names) if names else "NONE"


def _state_text(cond: State) -> str:
    option = "--state" if cond.module == "state" else "--ctstate"
    states = ",".join(s for s in STATE_ORDER if s in cond.states)
    return f"{_neg(cond)}{option} {states}"


def _addr_range_text(cond: Addr) -> str:
    value = cond.value
    if isinstance(value, tuple):
        first, last = value
    else:
        first, last = value.network_address, value.broadcast_address
    option = "--src-range" if cond.field == "src" else "--dst-range"
    return f"{_neg(cond)}{option} {address_text(first)}-{address_text(last)}"


def _rate_text(cond: Rate) -> str:
    return " ".join(f"--{name} {quote_token(value)}" for name, value in cond.options)


def _opaque_text(cond: Opaque) -> str:
    args = render_args(cond.args)
    return f"! {args}" if cond.negated else args


def _module_part(cond: Cond, protocol: str | None) -> tuple[str, object, str]:
    """(module, option key, option text) of a condition expressed through ``-m``.
    The key tells whether a following condition of the same module may share the ``-m``."""
    if isinstance(cond, Ports):
        module = ports_module(cond, protocol)
        return module, cond.field, _ports_text(cond, module)
    if isinstance(cond, TcpFlags):
        text = f"{_neg(cond)}--tcp-flags {tcp_flag_list(cond.mask)} {tcp_flag_list(cond.comp)}"
        return cond.module or "tcp", "flags", text
    if isinstance(cond, Icmp):
        return icmp_module(cond), "icmp", _icmp_text(cond)
    if isinstance(cond, State):
        return cond.module or "conntrack", "state", _state_text(cond)
    if isinstance(cond, Addr):
        return cond.module or "iprange", cond.field, _addr_range_text(cond)
    if isinstance(cond, Rate):
        return cond.module or "limit", "rate", _rate_text(cond)
    if isinstance(cond, Opaque):
        return cond.module, cond, _opaque_text(cond)
    raise TypeError(f"not a match condition: {cond!r}")


def rule_line(rule: Rule) -> str:
    """One ``-A CHAIN ...`` line."""
    return _LineWriter().line(rule)


# Where a rendered condition goes in the line: base options by their rank (``-s -d -i -o
# -p -f``), every ``-m`` condition after them, in the model's order.
_MODULE_RANK = _FRAG + 1


class _Part(NamedTuple):
    """A condition's rendering. For a ``-m`` condition, ``key`` tells whether a following
    condition of the same module may share the ``-m``, ``alone`` is its text with its own
    ``-m``, and ``is_comment`` marks an ``-m comment`` kept opaque."""

    cond: Cond
    rank: int
    text: str
    module: str | None = None
    key: object = None
    alone: str = ""
    is_comment: bool = False


def _cond_part(cond: Cond, protocol: str | None) -> _Part:
    if type(cond) is Addr and cond.module is None and type(cond.value) is not tuple:
        # The most common condition, so the shortest way (what _render_base writes).
        if cond.field == "src":
            return _Part(cond, _SRC, f"{_neg(cond)}-s {network_text(cond.value)}")
        return _Part(cond, _DST, f"{_neg(cond)}-d {network_text(cond.value)}")
    if _is_base(cond):
        return _Part(cond, _base_rank(cond), _render_base(cond))
    module, key, text = _module_part(cond, protocol)
    alone = f"-m {module} {text}" if text else "-m " + module
    return _Part(cond, _MODULE_RANK, text, module, key, alone,
                 type(cond) is Opaque and module == "comment")


# Conditions whose text and check depend on nothing else in the rule (a port's module
# and check depend on the rule's protocol, an interface's check on the chain...).
_CONTEXT_FREE = frozenset({Addr, Proto, State, Rate, Opaque, Fragment})


def _rank(part: _Part) -> int:
    return part.rank


class _LineWriter:
    """Writes rule lines, rendering each distinct condition and target once.

    Conditions are frozen and a policy's rules share them (one ``-p tcp``, one
    ``--dport 443`` object for thousands of rules), so the text of each condition is
    kept, keyed by the object's identity and the rule's protocol (a port's module depends
    on it). With a checker, each condition's and target's check is kept the same way
    (keyed also by the chain, which the interface check looks at): :meth:`line` returns
    None for a rule the checker would refuse. Identity keys are safe because every entry
    holds its object, so no id is reused while the writer lives.
    """

    def __init__(self, checker: _Checker | None = None, table: Table | None = None):
        self.checker = checker
        self.table = table
        self._parts: dict[tuple, dict[int, _Part | tuple]] = {}
        self._context_free: dict[int, _Part | tuple] = {}
        self._targets: dict[int, tuple] = {}

    def line(self, rule: Rule) -> str | None:
        conds = rule.match.conds
        protocol = None
        for cond in conds:  # _protocol_name(rule), inline: this runs once per rule
            if isinstance(cond, Proto) and not cond.negated:
                protocol = cond.name
                break
        memo = self._parts.get((protocol, rule.chain))
        if memo is None:
            memo = self._parts[(protocol, rule.chain)] = {}
        parts = ["-A", rule.chain]
        rest = None
        last_rank = 0
        for cond in conds:
            part = memo.get(id(cond))
            if part is None:
                part = memo[id(cond)] = self._cond_entry(rule, cond, protocol)
            rank = part[1]
            if rank is None:  # the checker refuses this condition
                return None
            if rank < last_rank:  # not in the canonical order (rare): sort, then write
                return self._sorted_line(rule, memo, protocol)
            last_rank = rank
            if rank != _MODULE_RANK:
                parts.append(part[2])
            elif rest is None:
                rest = [part]
            else:
                rest.append(part)
        return self._finish(parts, rule, rest or ())

    def _sorted_line(self, rule: Rule, memo: dict, protocol: str | None) -> str | None:
        found = []
        for cond in rule.match.conds:
            part = memo.get(id(cond))
            if part is None:
                part = memo[id(cond)] = self._cond_entry(rule, cond, protocol)
            if part[1] is None:
                return None
            found.append(part)
        found.sort(key=_rank)  # stable: -m conditions keep the model's order
        parts = ["-A", rule.chain]
        parts.extend([part.text for part in found if part.rank != _MODULE_RANK])
        return self._finish(parts, rule, [part for part in found if part.rank == _MODULE_RANK])

    def _finish(self, parts: list[str], rule: Rule, rest) -> str | None:
        """Adds the ``-m`` conditions, the comment and the target to ``parts``."""
        if rule.comment is not None:
            if not self._add_commented_parts(parts, rule, rest):
                return None
        elif len(rest) == 1 and not rest[0].is_comment:
            parts.append(rest[0].alone)
        elif rest:
            _append_module_parts(parts, rest)
        target = rule.target
        if target is not None:
            entry = self._targets.get(id(target))
            if entry is None:
                entry = self._targets[id(target)] = self._target_entry(rule, target)
            if entry[1] is None:
                return None
            parts.append(entry[1])
        return " ".join(parts)

    def _cond_entry(self, rule: Rule, cond: Cond, protocol: str | None) -> _Part | tuple:
        kind = type(cond)
        if kind in _CONTEXT_FREE:
            part = self._context_free.get(id(cond))
            if part is not None:
                return part
        if self.checker is not None and not self.checker.cond_ok(rule, cond, protocol):
            part = cond, None
        else:
            part = _cond_part(cond, protocol)
        if kind in _CONTEXT_FREE:
            self._context_free[id(cond)] = part
        return part

    def _target_entry(self, rule: Rule, target) -> tuple:
        if self.checker is not None and next(self.checker.target(self.table, rule), None):
            return target, None
        text = ("-g " if target.goto else "-j ") + target.name
        if target.args:
            text += " " + render_args(target.args)
        return target, text

    def _add_commented_parts(self, parts: list[str], rule: Rule, rest: list[_Part]) -> bool:
        if self.checker is not None and next(self.checker.comment(rule), None):
            return False
        # The reader keeps a rule's first comment as Rule.comment and any later one as an
        # opaque condition, so the first comment goes back in front of the others.
        rest = list(rest)
        later = next((i for i, part in enumerate(rest) if part.is_comment), len(rest))
        if later:
            _append_module_parts(parts, rest[:later])
        parts.append("-m comment --comment " + save_string(rule.comment))
        if later < len(rest):
            _append_module_parts(parts, rest[later:])
        return True


def _append_module_parts(parts: list[str], rest: list[_Part]) -> None:
    """The ``-m`` conditions, in the model's order; consecutive options of one mergeable
    module share its ``-m`` unless an option repeats."""
    current = None
    keys: set = set()
    for part in rest:
        module, key, text = part.module, part.key, part.text
        if module != current or module not in MERGEABLE_MODULES or key in keys:
            parts.append("-m " + module)
            current, keys = module, set()
        keys.add(key)
        if text:
            parts.append(text)


# --------------------------------------------------------------------------- tables


def ordered_chains(table: Table) -> list[Chain]:
    """Built-in chains in the kernel's order, then user chains in the model's order."""
    builtin = BUILTIN_CHAINS.get(table.name, ())
    by_name = {c.name: c for c in table.chains}
    chains = [by_name[name] for name in builtin if name in by_name]
    chains.extend(c for c in table.chains if c.name not in builtin)
    return chains


def _table_lines(table: Table, checker: _Checker | None = None) -> list[str] | None:
    """The table's block; None when ``checker`` would refuse something in it."""
    if checker is not None and not checker.structure_ok(table):
        return None
    chains = ordered_chains(table)
    lines = ["*" + table.name]
    lines.extend([f":{chain.name} {chain.policy or '-'} [0:0]" for chain in chains])
    writer = _LineWriter(checker, table)
    line = writer.line
    for chain in chains:
        if checker is not None and any(rule.chain != chain.name for rule in chain.rules):
            return None
        for rule in chain.rules:
            text = line(rule)
            if text is None:
                return None
            lines.append(text)
    lines.append("COMMIT")
    return lines


def header_line(source_name: str) -> str:
    return f"{GENERATED_MARKER} from {source_name}"


class IptablesRestore(Backend):
    """iptables-restore / ip6tables-restore text, one ``*table`` block per table."""

    name = "iptables-restore"

    def check(self, ruleset: Ruleset) -> list[Diagnostic]:
        return list(_Checker(ruleset).run())

    def render(self, ruleset: Ruleset, *, source_name: str) -> str:
        # One pass: each rule is checked as it is written, and only a ruleset with a
        # problem goes through the full check (which finds every diagnostic, in order).
        text = self._render(ruleset, source_name, _Checker(ruleset))
        if text is None:
            return super().render(ruleset, source_name=source_name)
        return text

    def render_checked(self, ruleset: Ruleset, *, source_name: str) -> str:
        return self._render(ruleset, source_name, None)

    def _render(self, ruleset: Ruleset, source_name: str, checker: _Checker | None) -> str | None:
        lines = [header_line(source_name)]
        for table in ruleset.tables:
            block = _table_lines(table, checker)
            if block is None:
                return None
            lines.extend(block)
        lines.append("")
        return "\n".join(lines)


BACKEND = IptablesRestore()


def check(ruleset: Ruleset) -> list[Diagnostic]:
    """What iptables-restore would refuse in ``ruleset``, as diagnostics with spans."""
    return BACKEND.check(ruleset)


def render(ruleset: Ruleset, *, source_name: str) -> str:
    """The ruleset as iptables-restore text (raises ``Unsupported`` when :func:`check`
    finds errors). Deterministic: the same model always gives the same bytes."""
    return BACKEND.render(ruleset, source_name=source_name)


# --------------------------------------------------------------------------- checking


class _Checker:
    """Finds what iptables-restore would refuse. One method per kind of node; each yields
    diagnostics."""

    def __init__(self, ruleset: Ruleset):
        self.ruleset = ruleset
        self.family = ruleset.family
        self.network_type = ipaddress.IPv4Network if self.family == 4 else ipaddress.IPv6Network

    def error(self, code: str, message: str, *nodes, help: str | None = None) -> Diagnostic:
        return Diagnostic(code, Severity.ERROR, fallback_span(self.ruleset, *nodes), message,
                          help=help)

    def run(self) -> Iterator[Diagnostic]:
        for table in self.ruleset.tables:
            yield from self.table(table)

    def table(self, table: Table) -> Iterator[Diagnostic]:
        if table.name not in BUILTIN_CHAINS:
            yield self.error("FW008", f"there is no table `{table.name}` in iptables", table)
            return
        seen: set[str] = set()
        for chain in table.chains:
            if chain.name in seen:
                yield self.error("FW014", f"chain `{chain.name}` is declared twice", chain)
            seen.add(chain.name)
            yield from self.chain(table, chain)
            for rule in chain.rules:
                yield from self.rule(table, chain, rule)

    def chain(self, table: Table, chain: Chain) -> Iterator[Diagnostic]:
        builtin = chain.name in BUILTIN_CHAINS[table.name]
        if builtin and chain.policy not in (None, "ACCEPT", "DROP"):
            yield self.error("FW006", f"built-in chain {chain.name} can only have the policy "
                             f"ACCEPT or DROP, not {chain.policy}", chain)
        if not builtin and chain.policy is not None:
            yield self.error("FW006", f"user chain `{chain.name}` cannot have a policy "
                             f"(only built-in chains of table {table.name} do)", chain)
        if len(chain.name) > CHAIN_NAME_MAX:
            yield self.error("FW013", f"chain name `{chain.name}` is longer than "
                             f"{CHAIN_NAME_MAX} characters", chain)

    def structure_ok(self, table: Table) -> bool:
        """True when :meth:`table` finds nothing wrong with the table and its chains (the
        rules aside)."""
        if table.name not in BUILTIN_CHAINS:
            return False
        names = [chain.name for chain in table.chains]
        if len(set(names)) != len(names):
            return False
        return all(next(self.chain(table, chain), None) is None for chain in table.chains)

    def cond_ok(self, rule: Rule, cond: Cond, protocol: str | None) -> bool:
        """True when :meth:`rule` finds nothing wrong with ``cond``."""
        if type(cond) is Addr and type(cond.value) is self.network_type:
            return True  # the common case, a network of the ruleset's family (see addr)
        checker = self._CONDITION_CHECKS.get(type(cond))
        return checker is not None and next(checker(self, rule, cond, protocol), None) is None

    def rule(self, table: Table, chain: Chain, rule: Rule) -> Iterator[Diagnostic]:
        if rule.chain != chain.name:
            yield self.error("FW004", f"rule for chain `{rule.chain}` sits in chain "
                             f"`{chain.name}`", rule)
        protocol = _protocol_name(rule)
        for cond in rule.match.conds:
            checker = self._CONDITION_CHECKS.get(type(cond))
            if checker is None:
                yield self.error("FW008", f"iptables-restore output cannot express a "
                                 f"{type(cond).__name__} condition", cond, rule)
                continue
            yield from checker(self, rule, cond, protocol)
        yield from self.comment(rule)
        yield from self.target(table, rule)

    # ---- conditions

    def addr(self, rule: Rule, cond: Addr, protocol) -> Iterator[Diagnostic]:
        if cond.version != self.family:
            yield self.error("FW011", f"IPv{cond.version} address in an IPv{self.family} "
                             "ruleset", cond, rule)
        if isinstance(cond.value, tuple) and cond.value[0] > cond.value[1]:
            yield self.error("FW008", "address range ends before it starts", cond, rule)

    def iface(self, rule: Rule, cond: Iface, protocol) -> Iterator[Diagnostic]:
        if not cond.name or len(cond.name) > IFACE_NAME_MAX:
            yield self.error("FW008", f"interface name `{cond.name}` must be 1 to "
                             f"{IFACE_NAME_MAX} characters", cond, rule)
        if not _printable(cond.name) or " " in cond.name:
            yield self.error("FW008", f"interface name {cond.name!r} has characters "
                             "iptables cannot load", cond, rule)
        wrong = {"in": ("OUTPUT", "POSTROUTING"), "out": ("INPUT", "PREROUTING")}
        if rule.chain in wrong[cond.field]:
            flag = "-i" if cond.field == "in" else "-o"
            yield self.error("FW008", f"iptables cannot use {flag} (the "
                             f"{'input' if cond.field == 'in' else 'output'} interface) "
                             f"in chain {rule.chain}", cond, rule)

    def fragment(self, rule: Rule, cond: Fragment, protocol) -> Iterator[Diagnostic]:
        if self.family == 6:
            yield self.error("FW011", "ip6tables has no -f (fragment) option; use "
                             "-m frag", cond, rule)

    def ports(self, rule: Rule, cond: Ports, protocol) -> Iterator[Diagnostic]:
        module = ports_module(cond, protocol)
        if not cond.ranges:
            yield self.error("FW008", "a port match with no ports", cond, rule)
            return
        for lo, hi in cond.ranges:
            if not 0 <= lo <= hi <= 65535:
                yield self.error("FW008", f"port range {lo}:{hi} is not within 0-65535 "
                                 "or ends before it starts", cond, rule)
        if module == "multiport":
            count = sum(1 if lo == hi else 2 for lo, hi in cond.ranges)
            if count > MULTIPORT_MAX:
                yield self.error("FW013", f"{count} ports in one multiport match (a range "
                                 f"counts 2); iptables allows {MULTIPORT_MAX}", cond, rule)
        elif module in PORT_MODULES:
            if cond.field == "ports" or len(cond.ranges) > 1:
                yield self.error("FW008", f"-m {module} takes one port or range per option; "
                                 "a list needs -m multiport", cond, rule)
        needed = module if module in PORT_MODULES else "tcp, udp, sctp or udplite"
        if protocol not in PORT_MODULES or (module in PORT_MODULES and module != protocol):
            found = "no -p" if protocol is None else f"-p {protocol}"
            yield self.error("FW007", f"a port match needs -p {needed}, found {found}",
                             cond, rule)

    def tcp_flags(self, rule: Rule, cond: TcpFlags, protocol) -> Iterator[Diagnostic]:
        unknown = (cond.mask | cond.comp) - set(TCP_FLAG_ORDER) - {"ALL", "NONE"}
        if unknown:
            yield self.error("FW008", f"unknown TCP flag {', '.join(sorted(unknown))}",
                             cond, rule)
        if protocol != "tcp":
            yield self.error("FW007", "--tcp-flags needs -p tcp", cond, rule)

    def icmp(self, rule: Rule, cond: Icmp, protocol) -> Iterator[Diagnostic]:
        if cond.version != self.family:
            kind = "ICMP" if cond.version == 4 else "ICMPv6"
            yield self.error("FW011", f"{kind} type in an IPv{self.family} ruleset", cond, rule)
            return
        if cond.version == 6 and cond.type is None:
            yield self.error("FW008", "ip6tables has no `any` ICMPv6 type; leave the type out",
                             cond, rule)
        for value in (cond.type, cond.code):
            if value is not None and not 0 <= value <= 255:
                yield self.error("FW008", f"ICMP type or code {value} is not within 0-255",
                                 cond, rule)
        if protocol not in ICMP_PROTOCOLS[cond.version]:
            yield self.error("FW008", f"an ICMP type needs -p {ICMP_PROTOCOLS[cond.version][0]}",
                             cond, rule)

    def state(self, rule: Rule, cond: State, protocol) -> Iterator[Diagnostic]:
        allowed = STATE_MODULE_STATES if cond.module == "state" else set(STATE_ORDER)
        unknown = set(cond.states) - allowed
        if not cond.states or unknown:
            yield self.error("FW008", f"-m {cond.module or 'conntrack'} cannot match the "
                             f"state(s) {', '.join(sorted(unknown)) or '(none)'}", cond, rule)

    def rate(self, rule: Rule, cond: Rate, protocol) -> Iterator[Diagnostic]:
        if cond.negated:
            yield self.error("FW008", f"-m {cond.module} cannot be negated", cond, rule)
        yield from self.tokens(rule, cond, [v for kv in cond.options for v in kv])

    def proto(self, rule: Rule, cond: Proto, protocol) -> Iterator[Diagnostic]:
        if not cond.name or not _printable(cond.name) or " " in cond.name:
            yield self.error("FW008", f"protocol {cond.name!r} cannot be written for "
                             "iptables", cond, rule)

    def opaque(self, rule: Rule, cond: Opaque, protocol) -> Iterator[Diagnostic]:
        yield from self.tokens(rule, cond, [cond.module, *cond.args])

    # Every kind of condition this backend can express, with what it checks of each.
    _CONDITION_CHECKS: dict[type, Callable] = {
        Proto: proto, Addr: addr, Iface: iface, Fragment: fragment, Ports: ports, TcpFlags: tcp_flags,
        Icmp: icmp, State: state, Rate: rate, Opaque: opaque,
    }

    # ---- comment and target

    def tokens(self, rule: Rule, node, tokens) -> Iterator[Diagnostic]:
        for token in tokens:
            if not _printable(token):
                yield self.error("FW008", f"{token!r} has a character iptables-restore "
                                 "cannot read back (a control character or line break)",
                                 node, rule)

    def comment(self, rule: Rule) -> Iterator[Diagnostic]:
        if rule.comment is None:
            return
        if len(rule.comment.encode("utf-8")) > COMMENT_MAX_BYTES:
            yield self.error("FW013", f"comment is {len(rule.comment.encode('utf-8'))} bytes; "
                             f"iptables allows {COMMENT_MAX_BYTES}", rule)
        yield from self.tokens(rule, rule, [rule.comment])

    def target(self, table: Table, rule: Rule) -> Iterator[Diagnostic]:
        target = rule.target
        if target is None:
            return
        if table.chain(target.name) is None and (target.goto or target.name not in
                                                 KNOWN_TARGETS):
            flag = "-g" if target.goto else "-j"
            yield self.error("FW004", f"{flag} {target.name}: no chain of that name in table "
                             f"{table.name}, and no such target", target, rule)
        prefix = target.option("log-prefix")
        if prefix is not None and len(prefix.encode("utf-8")) > LOG_PREFIX_MAX:
            yield self.error("FW013", f"log prefix is {len(prefix.encode('utf-8'))} bytes; "
                             f"iptables allows {LOG_PREFIX_MAX}", target, rule)
        yield from self.tokens(rule, target, [target.name, *target.args])


def _printable(text: str) -> bool:
    """No control characters or Unicode line breaks (which would split the line, or the
    YAML block scalar the rules are embedded in)."""
    return text.isprintable()
