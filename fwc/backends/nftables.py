"""nftables backend: the IPv4 and IPv6 rulesets of a policy in one ``table inet fwc``.

The two families are merged into one table: a rule both families state identically
(``iifname "lo" accept``, ``tcp dport 22 accept``) is written once; a rule only one family
has is restricted to it (``ip saddr`` / ``ip6 saddr`` say so themselves, anything else gets
``meta nfproto ipv4``/``ipv6``). Each family's rules keep their relative order, so every
packet meets the same rules in the same order as under iptables and gets the same verdict.

Consecutive rules that differ only in one port, address or ICMP type list and end in a
verdict are folded into one rule with an anonymous set (``tcp dport { 22, 80, 443 }``),
which is what multiport splitting and per-address rules were working around.

What nftables cannot say exactly is refused before rendering (:func:`diagnose`), with the
span of the policy line or rule that asked for it: the output never quietly differs from
the iptables output for the same policy.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from ..diagnostics import Diagnostic, Severity
from ..model import (Addr, Fragment, Icmp, Iface, Match, Opaque, Ports, Proto, Rate,
                     Rule, Ruleset, State, Target, TcpFlags)
from ..source import Span
from .base import GENERATED_MARKER, Unsupported

CODE = "FW015"  # target-cannot-express: the chosen output format cannot state this rule
TABLE = "fwc"
NFT_PATH = "/usr/sbin/nft"
BASE_CHAINS = {"INPUT": "input", "FORWARD": "forward", "OUTPUT": "output"}
FAMILY_WORD = {4: "ipv4", 6: "ipv6"}
ADDR_WORD = {4: "ip", 6: "ip6"}
COMMENT_MAX = 127  # NFT_USERDATA_MAXLEN is 128 bytes including the terminating NUL
LOG_PREFIX_MAX = 127

ICMP_TYPES = {
    4: {0: "echo-reply", 3: "destination-unreachable", 4: "source-quench", 5: "redirect",
        8: "echo-request", 9: "router-advertisement", 10: "router-solicitation",
        11: "time-exceeded", 12: "parameter-problem", 13: "timestamp-request",
        14: "timestamp-reply", 15: "info-request", 16: "info-reply",
        17: "address-mask-request", 18: "address-mask-reply"},
    6: {1: "destination-unreachable", 2: "packet-too-big", 3: "time-exceeded",
        4: "parameter-problem", 128: "echo-request", 129: "echo-reply",
        130: "mld-listener-query", 131: "mld-listener-report", 132: "mld-listener-done",
        133: "nd-router-solicit", 134: "nd-router-advert", 135: "nd-neighbor-solicit",
        136: "nd-neighbor-advert", 137: "nd-redirect", 138: "router-renumbering",
        141: "ind-neighbor-solicit", 142: "ind-neighbor-advert", 143: "mld2-listener-report"},
}
ICMP_KEYWORD = {4: "icmp", 6: "icmpv6"}
ICMP_PROTO = {4: "icmp", 6: "ipv6-icmp"}

# Protocols nft knows by name on every system; others are written as numbers so the
# output does not depend on the loading host's /etc/protocols.
NFT_PROTO_NAMES = {"tcp", "udp", "sctp", "udplite", "dccp", "icmp", "ipv6-icmp", "esp", "ah",
                   "gre", "comp"}
PROTO_NUMBERS = {"ipip": 4, "ipv4": 4, "egp": 8, "igp": 9, "ipv6": 41, "rsvp": 46,
                 "ospf": 89, "pim": 103, "vrrp": 112, "l2tp": 115, "mh": 135,
                 "ipv6-route": 43, "ipv6-frag": 44, "ipv6-nonxt": 59, "ipv6-opts": 60,
                 "icmpv6": 58, "igmp": 2}
PORT_PROTOS = {"tcp", "udp", "sctp", "udplite", "dccp"}

# iptables --reject-with -> the icmpx code both families share, or the family's own.
REJECT_ICMPX = {"icmp-port-unreachable": "port-unreachable",
                "icmp6-port-unreachable": "port-unreachable",
                "icmp-admin-prohibited": "admin-prohibited",
                "icmp6-adm-prohibited": "admin-prohibited",
                "icmp-net-unreachable": "no-route", "icmp6-no-route": "no-route",
                "icmp-host-unreachable": "host-unreachable",
                "icmp6-addr-unreachable": "host-unreachable"}
REJECT_FAMILY = {"icmp-proto-unreachable": "icmp prot-unreachable",
                 "icmp-net-prohibited": "icmp net-prohibited",
                 "icmp-host-prohibited": "icmp host-prohibited"}
REJECT_ALIASES = {"port-unreach": "port-unreachable", "net-unreach": "net-unreachable",
                  "host-unreach": "host-unreachable", "proto-unreach": "proto-unreachable",
                  "addr-unreach": "addr-unreachable", "adm-prohibited": "adm-prohibited"}
LOG_LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]
LOG_LEVEL_NAMES = {"panic": "emerg", "error": "err", "warning": "warn", "warn": "warn",
                   **{name: name for name in LOG_LEVELS}}
RATE_UNITS = {"s": "second", "sec": "second", "second": "second", "m": "minute",
              "min": "minute", "minute": "minute", "h": "hour", "hour": "hour",
              "d": "day", "day": "day"}
TCP_FLAGS = ("fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr")
NFT_TCP_FLAG = {"ece": "ecn"}  # nft spells ECN-Echo `ecn`
VERDICT_TARGETS = {"ACCEPT": "accept", "DROP": "drop", "RETURN": "return"}
FOLDABLE_VERDICTS = {"ACCEPT", "DROP", "REJECT"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class NftUnsupported(Unsupported):
    """The rulesets ask for something nftables cannot state exactly (exit 1)."""


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class SetMatch:
    """``lhs VALUE`` or ``lhs { V1, V2 }``: a match that rule folding may widen."""

    lhs: str
    values: tuple[str, ...]
    negated: bool = False
    kind: str = "plain"  # ports, addr or icmp: how values are merged when folding

    def text(self) -> str:
        op = "!= " if self.negated else ""
        if len(self.values) == 1:
            return f"{self.lhs} {op}{self.values[0]}"
        return f"{self.lhs} {op}{{ {', '.join(self.values)} }}"


@dataclass(frozen=True)
class NftRule:
    """One rendered rule of one family (or of both, once merged)."""

    stmts: tuple  # str or SetMatch, in order
    verdict: str  # the final statement text (may be empty)
    comment: str | None
    family: int | None  # None: written once for both families
    shareable: bool  # nothing family-specific: may be merged with the other family's twin
    foldable: bool  # a verdict rule without rate state: may absorb its neighbour's set
    line: int = 0  # source line, to interleave family-only rules in policy order

    def body(self) -> str:
        parts = [s.text() if isinstance(s, SetMatch) else s for s in self.stmts]
        if self.verdict:
            parts.append(self.verdict)
        if self.comment is not None:
            parts.append(f'comment "{self.comment}"')
        return " ".join(parts)

    def text(self) -> str:
        body = self.body()
        if self.family is not None:
            return f"meta nfproto {FAMILY_WORD[self.family]} {body}"
        return body


@dataclass(frozen=True)
class RateSet:
    """A dynamic set holding per-address rate state (``limit ... per source``)."""

    name: str
    family: int
    timeout_ms: int

    def text(self) -> str:
        kind = "ipv4_addr" if self.family == 4 else "ipv6_addr"
        return (f"\tset {self.name} {{\n\t\ttype {kind}\n\t\tsize 65535\n"
                f"\t\tflags dynamic,timeout\n\t\ttimeout {self.timeout_ms}ms\n\t}}\n")


@dataclass
class _Output:
    chains: dict[str, list[NftRule]] = field(default_factory=dict)
    policies: dict[str, dict[int, str]] = field(default_factory=dict)
    sets: dict[str, RateSet] = field(default_factory=dict)


class _Refused(Exception):
    """Raised inside one rule's translation; becomes a diagnostic with the rule's span."""

    def __init__(self, message: str, span: Span | None = None, help: str | None = None):
        super().__init__(message)
        self.span = span
        self.help = help


# --------------------------------------------------------------------------- public API


def diagnose(rulesets, *, source_name: str = "<policy>") -> list[Diagnostic]:
    """Everything in ``rulesets`` nftables cannot express, as diagnostics with spans."""
    return _translate(_by_family(rulesets), source_name)[1]


def render(rulesets, *, source_name: str) -> str:
    """The ``nft -f`` text for ``rulesets`` (a mapping family -> Ruleset, or Rulesets).

    Raises :class:`NftUnsupported` (exit 1, with diagnostics) when some rule cannot be
    expressed; call :func:`diagnose` first to report those problems with the others.
    """
    out, diagnostics = _translate(_by_family(rulesets), source_name)
    if any(d.severity == Severity.ERROR for d in diagnostics):
        raise NftUnsupported(diagnostics)
    return _layout(out, source_name)


def header(source_name: str) -> str:
    return (f"#!{NFT_PATH} -f\n"
            f"{GENERATED_MARKER} from {source_name}; edit the policy, not this file.\n")


# --------------------------------------------------------------------------- translation


def _by_family(rulesets) -> dict[int, Ruleset]:
    if isinstance(rulesets, Ruleset):
        return {rulesets.family: rulesets}
    if isinstance(rulesets, Mapping):
        return {int(k): v for k, v in rulesets.items() if v is not None}
    found: dict[int, Ruleset] = {}
    for ruleset in rulesets:
        found[ruleset.family] = ruleset
    return found


def _translate(rulesets: dict[int, Ruleset], source_name: str):
    out = _Output()
    diagnostics: list[Diagnostic] = []
    per_family: dict[str, dict[int, list[NftRule]]] = {}
    names = _chain_names(rulesets, source_name, diagnostics)
    for family in sorted(rulesets):
        ruleset = rulesets[family]
        for table in ruleset.tables:
            if table.name != "filter":
                _refuse_table(table, source_name, diagnostics)
                continue
            for chain in table.chains:
                name = names[chain.name]
                if chain.policy is not None and chain.name in BASE_CHAINS:
                    out.policies.setdefault(name, {})[family] = chain.policy
                rules = per_family.setdefault(name, {}).setdefault(family, [])
                base_policy = chain.policy if chain.name in BASE_CHAINS else None
                for rule in chain.rules:
                    try:
                        rules.extend(_rule(rule, family, names, out, base_policy))
                    except _Refused as exc:
                        found = _diagnostic(exc, rule, source_name)
                        if found not in diagnostics:  # one policy line, both families
                            diagnostics.append(found)
    for name in _chain_order(per_family):
        families = per_family[name]
        folded = {fam: _fold(rules) for fam, rules in families.items()}
        out.chains[name] = _merge_families(folded.get(4, []), folded.get(6, []))
    for name in BASE_CHAINS.values():
        if name in out.chains or name in out.policies:
            out.chains.setdefault(name, [])
            _finish_policy(out, name, set(rulesets))
    return out, diagnostics


def _chain_names(rulesets, source_name, diagnostics) -> dict[str, str]:
    """iptables chain name -> nft chain name (user chains keep theirs when nft allows)."""
    names = dict(BASE_CHAINS)
    taken = set(BASE_CHAINS.values())
    for ruleset in rulesets.values():
        table = ruleset.table("filter")
        for chain in (table.chains if table else ()):
            if chain.name in names:
                continue
            name = _user_chain_name(chain.name)
            if name is None or name in taken:
                diagnostics.append(Diagnostic(
                    CODE, Severity.ERROR, chain.span or _file_span(source_name),
                    f"chain name `{chain.name}` cannot be written as an nftables chain",
                    help="rename the chain to letters, digits, `_` and `-`"))
                names[chain.name] = chain.name
                continue
            names[chain.name] = name
            taken.add(name)
    return names


def _user_chain_name(name: str) -> str | None:
    """nft has no quoting for chain names and its keywords are lower-case words: keep a
    name with an upper-case letter or `_`, prefix an all-lower-case one with `fwc_`."""
    if not IDENTIFIER.fullmatch(name):
        return None
    if any(c.isupper() or c == "_" for c in name):
        return name
    return f"fwc_{name}"


def _chain_order(per_family) -> list[str]:
    base = [n for n in BASE_CHAINS.values() if n in per_family]
    return base + [n for n in per_family if n not in base]


def _finish_policy(out: _Output, name: str, families: set[int]) -> None:
    """One policy for both families; where they differ, accept and drop the other family
    with a final rule (an absent family loads no rules, so the kernel accepts it)."""
    policies = {fam: out.policies.get(name, {}).get(fam, "ACCEPT") for fam in (4, 6)}
    for fam in (4, 6):
        if fam not in families:
            policies[fam] = "ACCEPT"
    if policies[4] == policies[6]:
        out.policies[name] = {0: policies[4]}
        return
    out.policies[name] = {0: "ACCEPT"}
    for fam in (4, 6):
        if policies[fam] == "DROP":
            out.chains[name].append(NftRule((), "drop", None, fam, False, False))


def _refuse_table(table, source_name, diagnostics) -> None:
    if any(chain.rules for chain in table.chains):
        first = next(r for c in table.chains for r in c.rules)
        diagnostics.append(Diagnostic(
            CODE, Severity.ERROR, first.span or table.span or _file_span(source_name),
            f"the nftables output holds the filter table only; the `{table.name}` "
            f"table's rules have no translation here",
            help="compile this policy to iptables (--emit iptables) instead"))


def _diagnostic(exc: _Refused, rule: Rule, source_name: str) -> Diagnostic:
    span = exc.span or rule.span or _file_span(source_name)
    return Diagnostic(CODE, Severity.ERROR, span,
                      f"the nftables output cannot express {exc}", help=exc.help)


def _file_span(path: str) -> Span:
    return Span(path, 1, 1, 1, 2)


# --------------------------------------------------------------------------- one rule


def _rule(rule: Rule, family: int, names, out: _Output, base_policy: str | None
          ) -> list[NftRule]:
    """The nft rules for one iptables rule (two when multiport --ports needs splitting)."""
    verdict, verdict_shareable = _target(rule.target, family, names, base_policy)
    comment = _comment(rule.comment)
    line = rule.span.line if rule.span else 0
    foldable = (rule.target is not None and rule.target.name in FOLDABLE_VERDICTS
                and not rule.target.goto)
    variants = _split_either_port(rule)
    result = []
    for match in variants:
        stmts, shareable, stateful = _conds(match, family, out, rule)
        result.append(NftRule(tuple(stmts), verdict, comment, family,
                              shareable and verdict_shareable and not stateful,
                              foldable and not stateful, line))
    return result


def _split_either_port(rule: Rule) -> list[Match]:
    """multiport ``--ports`` matches either side; nft has no "or" inside a rule, so the
    rule becomes two with disjoint matches (source port in the list; source port not in
    it and destination port in it): every packet meets the target at most once, as before,
    whatever the target. Only a rate limit cannot be split (it would get two buckets)."""
    either = [c for c in rule.match if isinstance(c, Ports) and c.field == "ports"
              and not c.negated]
    if not either:
        return [rule.match]
    if any(isinstance(c, Rate) for c in rule.match):
        raise _Refused("`--ports` (either source or destination port) with a rate limit",
                       either[0].span,
                       help="split it into a `from ... port` rule and a `port` rule")
    cond = either[0]
    sport = replace(cond, field="sport")
    not_sport = replace(cond, field="sport", negated=True)
    dport = replace(cond, field="dport")
    first = tuple(sport if c is cond else c for c in rule.match)
    second = tuple(x for c in rule.match for x in ((not_sport, dport) if c is cond else (c,)))
    return [Match(first), Match(second)]


def _conds(match: Match, family: int, out: _Output, rule: Rule):
    """Statements for a rule's conditions, whether they are family-neutral, and whether
    they hold state (a rate limit) that must not be shared between families."""
    stmts: list = []
    shareable = True
    stateful = False
    proto = match.protocol
    implied = _implied_protocol(match)
    for cond in match:
        if isinstance(cond, Proto):
            if cond.name.lower() in ("all", "0"):
                if cond.negated:
                    raise _Refused("`! -p all` matches no packet", cond.span)
                continue  # every protocol
            if cond is proto and implied and not cond.negated:
                continue
            stmts.append(_proto(cond))
        elif isinstance(cond, Addr):
            stmts.append(_addr(cond, family))
            shareable = False
        elif isinstance(cond, Iface):
            stmts.append(_iface(cond))
        elif isinstance(cond, Ports):
            stmts.extend(_ports(cond, proto))
        elif isinstance(cond, State):
            stmts.append(_state(cond))
        elif isinstance(cond, Icmp):
            stmts.extend(_icmp(cond, proto is not None))
            shareable = False
        elif isinstance(cond, TcpFlags):
            stmts.append(_tcp_flags(cond))
        elif isinstance(cond, Fragment):
            stmts.append(_fragment(cond, family))
            shareable = False
        elif isinstance(cond, Rate):
            stmts.append(_rate(cond, family, out, rule))
            stateful = True
        elif isinstance(cond, Opaque):
            raise _Refused(f"the `-m {cond.module}` match (`{' '.join(cond.args)}`)", cond.span,
                           help="keep this host on the iptables targets, or express the "
                                "rule in the policy language")
        else:  # a condition type added to the model later
            raise _Refused(f"a `{type(cond).__name__}` condition", getattr(cond, "span", None))
    return stmts, shareable, stateful


def _implied_protocol(match: Match) -> bool:
    """``tcp dport``/``tcp flags``/``icmp type`` (``!=`` too) already restrict the protocol:
    nft adds the ``meta l4proto`` dependency itself."""
    return any(isinstance(c, (Ports, TcpFlags)) for c in match) or any(
        isinstance(c, Icmp) and c.type is not None for c in match)


def _proto_name(cond: Proto) -> str:
    name = cond.name.lower()
    if name in ("icmpv6", "ipv6-icmp"):
        return "ipv6-icmp"
    if name in NFT_PROTO_NAMES or name.isdigit():
        return name
    if name in PROTO_NUMBERS:
        return str(PROTO_NUMBERS[name])
    try:
        return str(socket.getprotobyname(name))
    except OSError:
        raise _Refused(f"unknown protocol `{cond.name}`", cond.span) from None


def _proto(cond: Proto) -> str:
    op = "!= " if cond.negated else ""
    return f"meta l4proto {op}{_proto_name(cond)}"


def _addr(cond: Addr, family: int) -> SetMatch:
    if cond.version != family:
        raise _Refused(f"an IPv{cond.version} address in the IPv{family} rules", cond.span)
    lhs = f"{ADDR_WORD[family]} {'saddr' if cond.field == 'src' else 'daddr'}"
    value = cond.value
    if isinstance(value, tuple):
        text = f"{value[0]}-{value[1]}"
    elif value.prefixlen == value.max_prefixlen:
        text = str(value.network_address)
    else:
        text = str(value)
    return SetMatch(lhs, (text,), cond.negated, "addr")


def _iface(cond: Iface) -> SetMatch:
    name = cond.name
    if '"' in name or "*" in name or "\\" in name:
        raise _Refused(f"interface name `{name}`", cond.span)
    if name.endswith("+"):
        name = name[:-1] + "*"
    lhs = "iifname" if cond.field == "in" else "oifname"
    return SetMatch(lhs, (f'"{name}"',), cond.negated, "iface")


def _ports(cond: Ports, proto: Proto | None) -> list:
    if proto is None or proto.negated:
        raise _Refused("ports without a protocol", cond.span)
    name = _proto_name(proto)
    values = tuple(_port_text(lo, hi) for lo, hi in _merge_ranges(cond.ranges))
    if name in PORT_PROTOS:
        prefix = name
        extra = []
    else:
        prefix = "th"
        extra = [f"meta l4proto {name}"]
    if cond.field == "ports":  # negated --ports: neither side is in the list
        return extra + [SetMatch(f"{prefix} sport", values, True, "ports"),
                        SetMatch(f"{prefix} dport", values, True, "ports")]
    return extra + [SetMatch(f"{prefix} {cond.field}", values, cond.negated, "ports")]


def _port_text(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _merge_ranges(ranges) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _state(cond: State) -> SetMatch:
    states = sorted(s.upper() for s in cond.states)
    ct_states = {"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"}
    if not set(states) <= ct_states:
        odd = ", ".join(s for s in states if s not in ct_states)
        raise _Refused(f"the conntrack state(s) {odd}", cond.span,
                       help="SNAT/DNAT are connection status bits, not states, in nftables")
    order = ["ESTABLISHED", "RELATED", "NEW", "INVALID", "UNTRACKED"]
    names = [s.lower() for s in order if s in states]
    if cond.negated:
        return SetMatch("ct state", tuple(names), True, "state")
    return SetMatch("ct state", (",".join(names),), False, "state")


def _icmp(cond: Icmp, has_proto: bool) -> list:
    version = cond.version
    keyword = ICMP_KEYWORD[version]
    if cond.type is None:  # `--icmp-type any`: the protocol match already says it
        if cond.negated:
            raise _Refused("`! --icmp-type any` matches no packet", cond.span)
        return [] if has_proto else [f"meta l4proto {ICMP_PROTO[version]}"]
    if cond.negated and cond.code is not None:  # not (this type and this code)
        return [f"{keyword} type . {keyword} code != {{ {cond.type} . {cond.code} }}"]
    type_text = ICMP_TYPES[version].get(cond.type, str(cond.type))
    if cond.code is None:
        return [SetMatch(f"{keyword} type", (type_text,), cond.negated, "icmp")]
    return [f"{keyword} type {type_text}", f"{keyword} code {cond.code}"]


def _flag_set(flags) -> str:
    names = set()
    for flag in flags:
        flag = flag.lower()
        if flag == "all":
            names.update(TCP_FLAGS)
        elif flag != "none":
            names.add(flag)
    unknown = names - set(TCP_FLAGS)
    if unknown:
        raise _Refused(f"TCP flag(s) {', '.join(sorted(unknown))}")
    return "|".join(NFT_TCP_FLAG.get(f, f) for f in TCP_FLAGS if f in names)


def _tcp_flags(cond: TcpFlags) -> str:
    mask = _flag_set(cond.mask)
    comp = _flag_set(cond.comp) or "0x0"
    op = "!=" if cond.negated else "=="
    return f"tcp flags & ({mask}) {op} {comp}"


def _fragment(cond: Fragment, family: int) -> str:
    if family != 4:
        raise _Refused("`-f` (fragments) in IPv6 rules", cond.span)
    return f"ip frag-off & 0x1fff {'==' if cond.negated else '!='} 0"


def _rate_text(value: str | None, span) -> str:
    if not value or "/" not in value:
        raise _Refused(f"rate `{value}`", span)
    count, unit = value.split("/", 1)
    if unit not in RATE_UNITS or not count.isdigit():
        raise _Refused(f"rate `{value}` (only packets per second/minute/hour/day)", span)
    return f"{count}/{RATE_UNITS[unit]}"


def _rate(cond: Rate, family: int, out: _Output, rule: Rule) -> str:
    if cond.module == "limit":
        rate = _rate_text(cond.get("limit") or "3/hour", cond.span)
        burst = cond.get("limit-burst") or "5"
        over = "over " if cond.negated else ""
        return f"limit rate {over}{rate} burst {burst} packets"
    if cond.module == "hashlimit":
        return _hashlimit(cond, family, out)
    raise _Refused(f"the `-m {cond.module}` rate match", cond.span)


def _hashlimit(cond: Rate, family: int, out: _Output) -> str:
    """``limit ... per source``: a dynamic set keyed by address, one per hashlimit name."""
    upto, above = cond.get("hashlimit-upto"), cond.get("hashlimit-above")
    rate = _rate_text(upto or above, cond.span)
    mode = cond.get("hashlimit-mode") or ""
    if mode not in ("srcip", "dstip"):
        raise _Refused(f"hashlimit mode `{mode or 'none'}` (fwc translates srcip or dstip)",
                       cond.span)
    full = "32" if family == 4 else "128"
    for mask in ("hashlimit-srcmask", "hashlimit-dstmask"):
        if cond.get(mask) not in (None, full):
            raise _Refused(f"`--{mask} {cond.get(mask)}`", cond.span)
    base = re.sub(r"[^A-Za-z0-9_]", "_", cond.get("hashlimit-name") or "rate")
    name = f"{base if base.startswith('fwc_') else 'fwc_' + base}_v{family}"
    expire = int(cond.get("hashlimit-htable-expire") or 10000)
    out.sets.setdefault(name, RateSet(name, family, expire))
    burst = cond.get("hashlimit-burst") or "5"
    key = f"{ADDR_WORD[family]} {'saddr' if mode == 'srcip' else 'daddr'}"
    over = "over " if (above and not cond.negated) or (upto and cond.negated) else ""
    return f"update @{name} {{ {key} limit rate {over}{rate} burst {burst} packets }}"


def _comment(text: str | None) -> str | None:
    if text is None:
        return None
    if '"' in text:
        raise _Refused("a comment containing `\"`",
                       help="nft strings cannot hold a double quote: use single quotes")
    if len(text.encode("utf-8")) > COMMENT_MAX:
        raise _Refused(f"a comment of {len(text.encode('utf-8'))} bytes (nft keeps at most "
                       f"{COMMENT_MAX})", help="shorten the comment")
    return text


# --------------------------------------------------------------------------- targets


def _target(target: Target | None, family: int, names, base_policy: str | None = None
            ) -> tuple[str, bool]:
    """The verdict statement and whether both families would write it the same way."""
    if target is None:
        return "counter", True
    name = target.name
    if target.goto:
        return f"goto {_jump_name(name, names)}", True
    if name == "RETURN" and base_policy is not None:
        # RETURN from a built-in chain applies its policy; nft's return from a base
        # chain accepts, so write the policy's verdict (this family's, when they differ).
        return base_policy.lower(), True
    if name in VERDICT_TARGETS:
        return VERDICT_TARGETS[name], True
    if name == "REJECT":
        return _reject(target, family)
    if name == "LOG":
        return _log(target), True
    if name == "NFLOG":
        return _nflog(target), True
    if name in names and name not in BASE_CHAINS:
        return f"jump {_jump_name(name, names)}", True
    raise _Refused(f"the `-j {name}` target", target.span)


def _jump_name(name: str, names) -> str:
    if name not in names or name in BASE_CHAINS:
        raise _Refused(f"a jump to `{name}`, which is not a chain of this table")
    return names[name]


def _reject(target: Target, family: int) -> tuple[str, bool]:
    kind = target.option("reject-with")
    if kind is None:
        kind = "icmp-port-unreachable" if family == 4 else "icmp6-port-unreachable"
    kind = REJECT_ALIASES.get(kind, kind)
    if kind == "tcp-reset":
        return "reject with tcp reset", True
    if kind in REJECT_ICMPX:
        return f"reject with icmpx {REJECT_ICMPX[kind]}", True
    if kind in REJECT_FAMILY and family == 4:
        return f"reject with {REJECT_FAMILY[kind]}", False
    raise _Refused(f"`--reject-with {kind}`", target.span)


def _log(target: Target) -> str:
    parts = ["log"]
    prefix = target.option("log-prefix")
    if prefix is not None:
        parts.append(f"prefix {_quoted(prefix, LOG_PREFIX_MAX, 'log prefix')}")
    level = target.option("log-level")
    if level is not None:
        parts.append(f"level {_log_level(level)}")
    tcp = [word for option, word in (("--log-tcp-sequence", "sequence"),
                                     ("--log-tcp-options", "options")) if option in target.args]
    if tcp:
        parts.append("flags tcp " + ",".join(tcp))
    for option, flag in (("--log-ip-options", "ip options"), ("--log-uid", "skuid"),
                         ("--log-macdecode", "ether")):
        if option in target.args:
            parts.append(f"flags {flag}")
    return " ".join(parts)


def _log_level(level: str) -> str:
    if level.isdigit() and int(level) < len(LOG_LEVELS):
        return LOG_LEVELS[int(level)]
    if level.lower() in LOG_LEVEL_NAMES:
        return LOG_LEVEL_NAMES[level.lower()]
    raise _Refused(f"log level `{level}`")


def _nflog(target: Target) -> str:
    parts = ["log", f"group {target.option('nflog-group') or '0'}"]
    prefix = target.option("nflog-prefix")
    if prefix is not None:
        parts.append(f"prefix {_quoted(prefix, LOG_PREFIX_MAX, 'log prefix')}")
    for option, word in (("nflog-size", "snaplen"), ("nflog-range", "snaplen"),
                         ("nflog-threshold", "queue-threshold")):
        value = target.option(option)
        if value is not None:
            parts.append(f"{word} {value}")
    return " ".join(parts)


def _quoted(text: str, limit: int, what: str) -> str:
    if '"' in text:
        raise _Refused(f"a {what} containing `\"`")
    if len(text.encode("utf-8")) > limit:
        raise _Refused(f"a {what} longer than {limit} bytes")
    return f'"{text}"'


# --------------------------------------------------------------------------- folding


def _fold(rules: list[NftRule]) -> list[NftRule]:
    """Fold runs of verdict rules that differ only in one set-able match into one rule."""
    result: list[NftRule] = []
    for rule in rules:
        if result:
            merged = _fold_pair(result[-1], rule)
            if merged is not None:
                result[-1] = merged
                continue
        result.append(rule)
    return result


def _fold_pair(a: NftRule, b: NftRule) -> NftRule | None:
    if not (a.foldable and b.foldable) or (a.verdict, a.comment, a.family) != (
            b.verdict, b.comment, b.family) or len(a.stmts) != len(b.stmts):
        return None
    differing = [i for i, (x, y) in enumerate(zip(a.stmts, b.stmts)) if x != y]
    if len(differing) != 1:
        return None
    i = differing[0]
    x, y = a.stmts[i], b.stmts[i]
    if not (isinstance(x, SetMatch) and isinstance(y, SetMatch)) or x.lhs != y.lhs \
            or x.kind != y.kind or x.kind not in ("ports", "addr", "icmp") \
            or x.negated or y.negated:
        return None
    values = _union(x.kind, x.values + y.values)
    stmts = a.stmts[:i] + (replace(x, values=values),) + a.stmts[i + 1:]
    return replace(a, stmts=stmts, shareable=a.shareable and b.shareable)


def _union(kind: str, values: tuple[str, ...]) -> tuple[str, ...]:
    if kind == "ports":
        ranges = []
        for v in values:
            lo, _, hi = v.partition("-")
            ranges.append((int(lo), int(hi or lo)))
        return tuple(_port_text(lo, hi) for lo, hi in _merge_ranges(ranges))
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return tuple(seen)


# --------------------------------------------------------------------------- families


def _merge_families(v4: list[NftRule], v6: list[NftRule]) -> list[NftRule]:
    """One rule list for the inet chain: twins written once, the rest family-restricted,
    each family's order kept (so each family's first match is unchanged)."""
    keys4 = [r.body() if r.shareable else ("v4", i) for i, r in enumerate(v4)]
    keys6 = [r.body() if r.shareable else ("v6", i) for i, r in enumerate(v6)]
    matcher = SequenceMatcher(None, keys4, keys6, autojunk=False)
    result: list[NftRule] = []
    i = j = 0
    for block in matcher.get_matching_blocks():
        result.extend(_interleave(v4[i:block.a], v6[j:block.b]))
        for k in range(block.size):
            result.append(replace(v4[block.a + k], family=None))
        i, j = block.a + block.size, block.b + block.size
    return result


def _interleave(a: list[NftRule], b: list[NftRule]) -> list[NftRule]:
    """Family-only rules in policy-line order (stable: IPv4 first on equal lines)."""
    result = []
    while a or b:
        if b and (not a or b[0].line < a[0].line):
            result.append(_restricted(b.pop(0)))
        else:
            result.append(_restricted(a.pop(0)))
    return result


def _restricted(rule: NftRule) -> NftRule:
    """Keep the family restriction unless an ``ip``/``ip6`` address match implies it."""
    if any(isinstance(s, SetMatch) and s.kind == "addr" for s in rule.stmts):
        return replace(rule, family=None)
    return rule


# --------------------------------------------------------------------------- layout


def _layout(out: _Output, source_name: str) -> str:
    lines = [header(source_name),
             "# Replaces only its own table, so other tables (containers, VPNs) stay.\n",
             f"table inet {TABLE}\ndelete table inet {TABLE}\n\n",
             f"table inet {TABLE} {{\n"]
    blocks = [rate_set.text() for rate_set in out.sets.values()]
    for name, rules in out.chains.items():
        blocks.append(_chain_text(name, rules, out.policies.get(name)))
    lines.append("\n".join(blocks))
    lines.append("}\n")
    return "".join(lines)


def _chain_text(name: str, rules: list[NftRule], policy: dict | None) -> str:
    text = [f"\tchain {name} {{\n"]
    if policy is not None:
        verdict = policy[0].lower()
        text.append(f"\t\ttype filter hook {name} priority filter; policy {verdict};\n")
    for rule in rules:
        text.append(f"\t\t{rule.text()}\n")
    text.append("\t}\n")
    return "".join(text)
