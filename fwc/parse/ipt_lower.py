"""Lowering validated match modules and targets into the model's typed conditions.

Modelled modules become typed conditions (ports, states, ICMP types, TCP flags, rates,
address ranges); a module fwc knows but does not model becomes ``Opaque(known=True)``
with its options in canonical long form; a module fwc does not know stays
``Opaque(known=False)`` with its words verbatim. Each condition records the ``-m``
module that expressed it so the renderer can write the rule back exactly.
"""

from __future__ import annotations

from ..model import Addr, Icmp, Opaque, Ports, Rate, State, TcpFlags

_SYN = (frozenset({"FIN", "SYN", "RST", "ACK"}), frozenset({"SYN"}))
_PORT_FIELDS = {"sport": "sport", "dport": "dport", "source-ports": "sport",
                "destination-ports": "dport", "ports": "ports"}
_DEFAULT_REJECT = {4: "icmp-port-unreachable", 6: "icmp6-port-unreachable"}


def lower_module(mod, family: int, span) -> list[tuple[int, object]]:
    """[(word index, condition)] for one module of a rule."""
    if mod.ext is None:
        return [(mod.pos, Opaque(mod.name, tuple(mod.raw), False, False, span(mod.start, mod.end)))]
    lower = _LOWER.get(mod.name)
    if lower is None:
        return [(_pos(mod), Opaque(mod.name, _canonical_args(mod.items), False, True,
                                   span(*_extent(mod))))]
    return lower(mod, family, span)


def _pos(mod) -> int:
    return mod.pos if mod.pos >= 0 else (mod.items[0][6] if mod.items else 0)


def _extent(mod) -> tuple[int, int]:
    if mod.start >= 0:
        return mod.start, mod.end
    return mod.items[0][4], mod.items[-1][5]


def _canonical_args(items) -> tuple[str, ...]:
    args: list[str] = []
    for name, negated, values, *_ in items:
        if negated:
            args.append("!")
        args.append("--" + name)
        args.extend(values)
    return tuple(args)


def _opaque_rest(mod, items, span, out) -> None:
    """Options of a modelled module that the model has no field for."""
    if items:
        start = min(i[4] for i in items)
        end = max(i[5] for i in items)
        out.append((items[0][6], Opaque(mod.name, _canonical_args(items), False, True, span(start, end))))


def _lower_ports_module(mod, family, span):
    out = []
    rest = []
    for item in mod.items:
        name, negated, values, parsed, start, end, pos = item
        if name in ("sport", "dport"):
            out.append((pos, Ports(name, (parsed,), negated, mod.name, span(start, end))))
        elif name == "syn":
            out.append((pos, TcpFlags(_SYN[0], _SYN[1], negated, mod.name, span(start, end))))
        elif name == "tcp-flags":
            out.append((pos, TcpFlags(parsed[0], parsed[1], negated, mod.name, span(start, end))))
        else:
            rest.append(item)
    _opaque_rest(mod, rest, span, out)
    return out


def _lower_multiport(mod, family, span):
    out = []
    for name, negated, values, parsed, start, end, pos in mod.items:
        out.append((pos, Ports(_PORT_FIELDS[name], parsed, negated, "multiport", span(start, end))))
    return out


def _lower_icmp(mod, family, span):
    out = []
    version = 4 if mod.name == "icmp" else 6
    for name, negated, values, parsed, start, end, pos in mod.items:
        type_, code = parsed
        out.append((pos, Icmp(version, type_, code, negated, mod.name, span(start, end))))
    return out


def _lower_conntrack(mod, family, span):
    out = []
    rest = []
    for item in mod.items:
        name, negated, values, parsed, start, end, pos = item
        if name == "ctstate":
            out.append((pos, State(parsed, negated, "conntrack", span(start, end))))
        else:
            rest.append(item)
    _opaque_rest(mod, rest, span, out)
    return out


def _lower_state(mod, family, span):
    return [(pos, State(parsed, negated, "state", span(start, end)))
            for name, negated, values, parsed, start, end, pos in mod.items]


def _lower_limit(mod, family, span):
    rate = "3/hour"
    burst = "5"
    for name, negated, values, parsed, start, end, pos in mod.items:
        if name == "limit":
            rate = parsed
        elif name == "limit-burst":
            burst = str(parsed)
    options = (("limit", rate),) if burst == "5" else (("limit", rate), ("limit-burst", burst))
    return [(_pos(mod), Rate(options, False, "limit", span(*_extent(mod))))]


def _lower_hashlimit(mod, family, span):
    options = tuple((name, values[0] if values else "") for name, _, values, *_ in mod.items)
    return [(_pos(mod), Rate(options, False, "hashlimit", span(*_extent(mod))))]


def _lower_iprange(mod, family, span):
    out = []
    for name, negated, values, parsed, start, end, pos in mod.items:
        field_ = "src" if name == "src-range" else "dst"
        out.append((pos, Addr(field_, parsed, negated, "iprange", span(start, end))))
    return out


_LOWER = {
    "tcp": _lower_ports_module, "udp": _lower_ports_module, "sctp": _lower_ports_module,
    "dccp": _lower_ports_module, "udplite": _lower_ports_module,
    "multiport": _lower_multiport, "icmp": _lower_icmp, "icmp6": _lower_icmp,
    "conntrack": _lower_conntrack, "state": _lower_state,
    "limit": _lower_limit, "hashlimit": _lower_hashlimit, "iprange": _lower_iprange,
}


def lower_target_args(mod, family: int) -> tuple[str, ...]:
    """A known target's options in canonical long form (REJECT's default spelled out)."""
    args: list[str] = []
    for name, negated, values, parsed, *_ in mod.items:
        args.append("--" + name)
        if mod.name == "REJECT" and name == "reject-with":
            args.append(parsed)
        else:
            args.extend(values)
    if mod.name == "REJECT" and "reject-with" not in mod.seen:
        args += ["--reject-with", _DEFAULT_REJECT[family]]
    return tuple(args)


def comment_of(mod) -> str | None:
    for name, negated, values, *_ in mod.items:
        if name == "comment":
            return values[0]
    return None


__all__ = ["lower_module", "lower_target_args", "comment_of"]
