"""One concrete packet, its text form (``fwc query --packet`` and finding witnesses).

Syntax::

    PROTO SRC[:SPORT] -> DST[:DPORT] [in IFACE] [out IFACE] [type T[/C]]
          [state S[,S...]] [flags F[,F...]] [fragment]

IPv6 addresses with a port are written in brackets (``[2001:db8::1]:22``). The options
after the destination may be wrapped in ``[...]``, as in
``tcp 203.0.113.5:40000 -> 10.0.0.1:22 in eth0 [state new]``. The state defaults to
``new``; a missing ``in``/``out`` is no interface (a packet in OUTPUT has no input
interface, one in INPUT no output interface).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from . import intervals as iv
from .compile import (ICMP4, ICMP6, PORT_PROTOCOLS, TCP, iface_code, iface_name, protocol_name,
                      protocol_number)
from .space import (DPORT, DST, FLAGS, FRAG, ICMP, IFACE_TOP, IIF, NFIELDS, OIF, PROTO, SPORT,
                    SRC, STATE, STATE_BASE, TCP_FLAG_BITS, Cube, state_codes, state_name)


class PacketSyntaxError(ValueError):
    """A packet description that does not parse; ``col`` is 1-based."""

    def __init__(self, message: str, text: str, col: int):
        super().__init__(message)
        self.text = text
        self.col = col

    def render(self) -> str:
        return f"{self.text}\n{' ' * (self.col - 1)}^\n{self.args[0]}"


@dataclass(frozen=True)
class Packet:
    family: int
    proto: int
    src: int
    dst: int
    sport: int = 0
    dport: int = 0
    iif: str = ""
    oif: str = ""
    state: int = STATE_BASE["NEW"]
    icmp: int = 0  # type * 256 + code
    flags: int = TCP_FLAG_BITS["SYN"]
    frag: int = 0

    def values(self) -> tuple[int, ...]:
        out = [0] * NFIELDS
        out[DST], out[SRC], out[DPORT], out[SPORT] = self.dst, self.src, self.dport, self.sport
        out[PROTO], out[IIF], out[OIF] = self.proto, iface_code(self.iif), iface_code(self.oif)
        out[STATE], out[ICMP], out[FLAGS], out[FRAG] = self.state, self.icmp, self.flags, self.frag
        return tuple(out)

    def in_cube(self, cube: Cube) -> bool:
        return all(iv.member(field, value) for field, value in zip(cube, self.values()))

    def __str__(self) -> str:
        return format_packet(self)


def _addr_text(family: int, value: int) -> str:
    return str(ipaddress.ip_address(value) if family == 6 else ipaddress.IPv4Address(value))


def _endpoint(family: int, addr: int, port: int | None) -> str:
    text = _addr_text(family, addr)
    if port is None:
        return text
    return f"[{text}]:{port}" if family == 6 else f"{text}:{port}"


def format_packet(p: Packet) -> str:
    has_ports = p.proto in PORT_PROTOCOLS and not p.frag
    words = [protocol_name(p.proto),
             _endpoint(p.family, p.src, p.sport if has_ports else None), "->",
             _endpoint(p.family, p.dst, p.dport if has_ports else None)]
    if p.proto in (ICMP4, ICMP6) and not p.frag:
        words += ["type", f"{p.icmp >> 8}/{p.icmp & 255}"]
    if p.iif:
        words += ["in", p.iif]
    if p.oif:
        words += ["out", p.oif]
    options = ["state " + state_name(p.state)]
    if p.proto == TCP and not p.frag:
        options.append("flags " + _flags_text(p.flags))
    if p.frag:
        options.append("fragment")
    return " ".join(words) + " [" + " ".join(options) + "]"


def _flags_text(flags: int) -> str:
    names = [name for name, bit in TCP_FLAG_BITS.items() if flags & bit]
    return ",".join(names) if names else "none"


# --------------------------------------------------------------------------- parsing

_TOKEN = re.compile(r"\[(?=[0-9a-fA-F:]*:[0-9a-fA-F:.]*\])[^\]]*\](?::\d+)?|->|[^\s\[\]]+|[\[\]]")


def parse_packet(text: str, *, family: int | None = None) -> Packet:
    """Parse the packet syntax above; raises :class:`PacketSyntaxError`."""
    tokens = [(m.group(), m.start() + 1) for m in _TOKEN.finditer(text) if m.group() not in "[]"]
    if len(tokens) < 4 or tokens[2][0] != "->":
        col = tokens[2][1] if len(tokens) > 2 else len(text) + 1
        raise PacketSyntaxError("expected 'PROTO SOURCE -> DESTINATION', e.g. "
                                "'tcp 203.0.113.5:40000 -> 10.0.0.1:22'", text, col)
    proto_text, proto_col = tokens[0]
    try:
        proto = protocol_number(proto_text)
    except ValueError:
        raise PacketSyntaxError(f"unknown protocol {proto_text!r}", text, proto_col) from None
    if proto is None:
        raise PacketSyntaxError("a packet has one protocol, not 'all'", text, proto_col)
    src, sport, fam_s = _parse_endpoint(*tokens[1], text)
    dst, dport, fam_d = _parse_endpoint(*tokens[3], text)
    if fam_s != fam_d:
        raise PacketSyntaxError("source and destination are of different address families",
                                text, tokens[3][1])
    if family is not None and fam_s != family:
        raise PacketSyntaxError(f"an IPv{fam_s} packet cannot be checked against an IPv{family} "
                                "ruleset", text, tokens[1][1])
    fields = dict(family=fam_s, proto=proto, src=src, dst=dst, sport=sport or 0, dport=dport or 0)
    _parse_options(tokens[4:], fields, text)
    if proto == 58 and fam_s == 4 or proto == 1 and fam_s == 6:
        raise PacketSyntaxError(f"{proto_text} is not a protocol of IPv{fam_s}", text, proto_col)
    return Packet(**fields)


def _parse_endpoint(token: str, col: int, text: str) -> tuple[int, int | None, int]:
    port = None
    addr = token
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", token)
    if m:
        addr, port = m.group(1), m.group(2)
    elif token.count(":") == 1:
        addr, port = token.split(":")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise PacketSyntaxError(f"{addr!r} is not an IP address", text, col) from None
    if port is not None:
        if not port.isdigit() or int(port) > 65535:
            raise PacketSyntaxError(f"{port!r} is not a port (0-65535)", text, col + len(token) - len(port))
        port = int(port)
    return int(ip), port, ip.version


def _parse_options(tokens, fields: dict, text: str) -> None:
    i = 0
    while i < len(tokens):
        word, col = tokens[i]
        key = word.lower()
        if key == "fragment":
            fields["frag"] = 1
            i += 1
            continue
        if key not in ("in", "out", "state", "flags", "type", "icmp-type"):
            raise PacketSyntaxError(f"unknown packet option {word!r} (expected in, out, type, "
                                    "state, flags or fragment)", text, col)
        if i + 1 >= len(tokens):
            raise PacketSyntaxError(f"'{word}' needs a value", text, col + len(word))
        value, vcol = tokens[i + 1]
        if key in ("in", "out"):
            if len(value) > 15:
                raise PacketSyntaxError("an interface name has at most 15 characters", text, vcol)
            fields["iif" if key == "in" else "oif"] = value
        elif key == "state":
            fields["state"] = _parse_state(value, vcol, text)
        elif key == "flags":
            fields["flags"] = _parse_flags(value, vcol, text)
        else:
            fields["icmp"] = _parse_icmp(value, vcol, text)
        i += 2


def _parse_state(value: str, col: int, text: str) -> int:
    names = [n.upper() for n in value.split(",") if n]
    bases = [n for n in names if n in STATE_BASE]
    status = [n for n in names if n in ("SNAT", "DNAT")]
    if len(bases) != 1 or len(bases) + len(status) != len(names):
        raise PacketSyntaxError("state is one of new, established, related, invalid, untracked "
                                "(optionally with ,dnat and/or ,snat)", text, col)
    code = state_codes(bases[0])[0][0]
    if status and bases[0] in ("INVALID", "UNTRACKED"):
        raise PacketSyntaxError("an invalid or untracked packet has no NAT status", text, col)
    return code + (2 if "DNAT" in status else 0) + (1 if "SNAT" in status else 0)


def _parse_flags(value: str, col: int, text: str) -> int:
    flags = 0
    for name in value.upper().split(","):
        if name == "NONE":
            continue
        if name not in TCP_FLAG_BITS:
            raise PacketSyntaxError(f"unknown TCP flag {name!r} (FIN, SYN, RST, PSH, ACK, URG)", text, col)
        flags |= TCP_FLAG_BITS[name]
    return flags


def _parse_icmp(value: str, col: int, text: str) -> int:
    m = re.fullmatch(r"(\d+)(?:/(\d+))?", value)
    if not m or int(m.group(1)) > 255 or int(m.group(2) or 0) > 255:
        raise PacketSyntaxError("an ICMP type is TYPE or TYPE/CODE (numbers 0-255)", text, col)
    return int(m.group(1)) * 256 + int(m.group(2) or 0)


# --------------------------------------------------------------------------- witnesses

# Source, then destination addresses a witness prefers (documentation ranges first).
_PREFERRED_ADDR = {
    family: tuple(tuple(int(ipaddress.ip_address(t)) for t in texts) for texts in pair)
    for family, pair in {4: (("203.0.113.5", "198.51.100.10"), ("10.0.0.1", "192.0.2.1")),
                         6: (("2001:db8::5", "2001:db8::10"), ("fd00::1", "2001:db8:1::1"))}.items()}
_PREFERRED_IFACES = ("eth0", "eth1", "ens3", "wlan0", "lo")
# Their codes, once (a witness is drawn for every shadowed rule).
_PREFERRED_IFACE_CODES = tuple((name, iface_code(name)) for name in _PREFERRED_IFACES)
_PREFERRED_PROTOS = (TCP, 17, ICMP4, ICMP6)


def witness(cube: Cube, family: int) -> Packet:
    """A readable packet inside ``cube`` (preferring documentation addresses, eth0, NEW)."""
    proto = _pick(cube[PROTO], _PREFERRED_PROTOS)
    src_pref, dst_pref = _PREFERRED_ADDR[family]
    return Packet(
        family=family, proto=proto,
        src=_pick_addr(cube[SRC], src_pref), dst=_pick_addr(cube[DST], dst_pref),
        sport=_pick(cube[SPORT], (40000, 50000, 1024)), dport=_pick(cube[DPORT], (80, 22, 443)),
        iif=_pick_iface(cube[IIF]), oif=_pick_iface(cube[OIF], empty_ok=True),
        state=_pick(cube[STATE], (STATE_BASE["NEW"], STATE_BASE["ESTABLISHED"])),
        icmp=_pick(cube[ICMP], (8 * 256, 0)),
        flags=_pick(cube[FLAGS], (TCP_FLAG_BITS["SYN"], TCP_FLAG_BITS["ACK"])),
        frag=_pick(cube[FRAG], (0,)),
    )


def _pick(values: iv.Intervals, preferred) -> int:
    for value in preferred:
        if iv.member(values, value):
            return value
    lo, hi = values[0]
    return lo + 1 if lo == 0 and hi > 0 else lo


def _pick_addr(values: iv.Intervals, preferred: tuple[int, ...]) -> int:
    if any(iv.member(values, v) for v in preferred):
        return _pick(values, preferred)
    lo, hi = values[0]
    return lo + 1 if hi > lo else lo  # a host, not the network address


def _pick_iface(values: iv.Intervals, empty_ok: bool = False) -> str:
    if empty_ok and iv.member(values, 0):
        return ""
    for name, code in _PREFERRED_IFACE_CODES:
        if iv.member(values, code):
            return name
    for lo, hi in values:
        code = _smallest_name_at_least(max(lo, 1))
        if code is not None and code <= hi:
            return iface_name(code)
    return ""


def _smallest_name_at_least(code: int) -> int | None:
    """The smallest valid interface code >= ``code`` (valid: no NUL inside the name)."""
    data = bytearray(code.to_bytes(16, "big"))
    if 0 in data:
        k = data.index(0)
        if any(data[k:]):
            if k >= 15:
                return None
            data[k] = 0x30  # a readable name just after the prefix
            data[k + 1:] = bytes(16 - k - 1)
    if data[15] != 0:
        return None
    return int.from_bytes(bytes(data), "big") if code <= IFACE_TOP else None
