"""Value parsers for iptables options, validating exactly what iptables 1.8.9 validates.

Every parser takes the option's text and returns the canonical value, or raises
:class:`BadValue` with a message in words (it becomes an FW008 finding). Results are
cached per text: dumps repeat the same addresses, ports and states many times.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
import socket
from pathlib import Path


class BadValue(ValueError):
    """An option value iptables refuses; ``code`` is the FW0xx code to report and
    ``help`` an optional suggestion."""

    def __init__(self, message: str, code: str = "FW008", help: str | None = None):
        super().__init__(message)
        self.code = code
        self.help = help


def _suggest(text: str, choices) -> str | None:
    close = difflib.get_close_matches(text, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else None


# --------------------------------------------------------------------------- protocols

# iptables' own table (xtables_chain_protos) is tried before /etc/protocols.
_CHAIN_PROTOS = {"tcp": 6, "sctp": 132, "udp": 17, "udplite": 136, "icmp": 1, "icmpv6": 58,
                 "esp": 50, "ah": 51, "ipv6-mh": 135, "mh": 135, "all": 0}
# /etc/protocols of Debian's netbase, embedded so results do not depend on the host.
_PROTOCOLS = {
    "ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "st": 5, "tcp": 6,
    "egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22, "rdp": 27,
    "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38, "ipv6": 41,
    "ipv6-route": 43, "ipv6-frag": 44, "idrp": 45, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
    "skip": 57, "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81,
    "eigrp": 88, "ospf": 89, "ax.25": 93, "ipip": 94, "etherip": 97, "encap": 98, "pim": 103,
    "ipcomp": 108, "vrrp": 112, "l2tp": 115, "isis": 124, "sctp": 132, "fc": 133,
    "mobility-header": 135, "udplite": 136, "mpls-in-ip": 137, "manet": 138, "hip": 139,
    "shim6": 140, "wesp": 141, "rohc": 142, "ethernet": 143,
}
# The name iptables-save prints for a protocol number.
_PROTO_NAME: dict[int, str] = {}
for _name, _num in _PROTOCOLS.items():
    _PROTO_NAME.setdefault(_num, _name)
_PROTO_NAME.update({6: "tcp", 17: "udp", 1: "icmp", 58: "ipv6-icmp", 50: "esp", 51: "ah",
                    132: "sctp", 136: "udplite", 33: "dccp", 135: "mh"})


@functools.lru_cache(maxsize=512)
def parse_protocol(text: str) -> str:
    """``-p`` value -> canonical lower-case name, ``"all"`` for 0, digits when unnamed."""
    low = text.lower()
    if low.isdigit():
        num = int(low)
        if num > 255:
            raise BadValue(f"protocol number {text} is out of range (0-255)")
    elif low in _CHAIN_PROTOS:
        num = _CHAIN_PROTOS[low]
    elif low in _PROTOCOLS:
        num = _PROTOCOLS[low]
    else:
        raise BadValue(f"unknown protocol {text!r}", help=_suggest(low, _PROTOCOLS))
    if num == 0:
        return "all"
    return _PROTO_NAME.get(num, str(num))


def protocol_number(name: str) -> int:
    if name.isdigit():
        return int(name)
    return _CHAIN_PROTOS.get(name, _PROTOCOLS.get(name, -1))


# --------------------------------------------------------------------------- ports

_FALLBACK_SERVICES = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "tftp": 69,
    "http": 80, "www": 80, "pop3": 110, "sunrpc": 111, "ntp": 123, "netbios-ns": 137,
    "netbios-dgm": 138, "netbios-ssn": 139, "imap2": 143, "snmp": 161, "ldap": 389,
    "https": 443, "microsoft-ds": 445, "syslog": 514, "submission": 587, "imaps": 993,
    "pop3s": 995, "openvpn": 1194, "mysql": 3306, "bootps": 67, "bootpc": 68, "isakmp": 500,
    "ipsec-nat-t": 4500, "postgresql": 5432, "dhcpv6-client": 546, "dhcpv6-server": 547,
}


@functools.cache
def _services() -> dict[str, int]:
    table = dict(_FALLBACK_SERVICES)
    try:
        text = Path("/etc/services").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return table
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and "/" in fields[1]:
            port = fields[1].split("/", 1)[0]
            if port.isdigit():
                for name in (fields[0], *fields[2:]):
                    table.setdefault(name, int(port))
    return table


@functools.lru_cache(maxsize=4096)
def parse_port(text: str) -> int:
    """One port: a number 0-65535 or a service name."""
    if text.isdigit():
        value = int(text)
        if value <= 65535:
            return value
    elif text in _services():
        return _services()[text]
    raise BadValue(f"invalid port/service {text!r}")


@functools.lru_cache(maxsize=4096)
def parse_port_range(text: str) -> tuple[int, int]:
    """``P``, ``LO:HI``, ``:HI`` or ``LO:`` (tcp/udp --sport/--dport)."""
    if ":" not in text:
        port = parse_port(text)
        return port, port
    lo_text, hi_text = text.split(":", 1)
    lo = parse_port(lo_text) if lo_text else 0
    hi = parse_port(hi_text) if hi_text else 65535
    if lo > hi:
        raise BadValue(f"invalid port range {text!r}: {lo} is greater than {hi}")
    return lo, hi


@functools.lru_cache(maxsize=4096)
def parse_multiport(text: str) -> tuple[tuple[int, int], ...]:
    """multiport ``--dports 22,80,1000:2000``: at most 15 ports, a range counts 2."""
    ranges = []
    slots = 0
    for item in text.split(","):
        if ":" in item:
            lo_text, hi_text = item.split(":", 1)
            lo, hi = parse_port(lo_text), parse_port(hi_text)
            if lo > hi:
                raise BadValue(f"invalid port range {item!r}: {lo} is greater than {hi}")
            slots += 2
        else:
            lo = hi = parse_port(item)
            slots += 1
        ranges.append((lo, hi))
    if slots > 15:
        raise BadValue(f"too many ports: {slots} slots used, multiport allows 15 "
                       "(a range counts as 2)", code="FW013")
    return tuple(ranges)


# --------------------------------------------------------------------------- addresses

_V4_PART = re.compile(r"^[0-9]+$")


def _ipv4_int(text: str) -> int | None:
    """A dotted quad as an integer (the common case, kept cheap), else None."""
    try:
        # inet_pton takes only four decimal parts 0-255 without leading zeros, a subset
        # of what is taken below, with the same value (a test checks it).
        return _FROM_BYTES(_INET_PTON(_AF_INET, text), "big")
    except (OSError, ValueError):
        return _ipv4_int_by_parts(text)


def _ipv4_int_by_parts(text: str) -> int | None:
    """_ipv4_int's reference: four decimal parts 0-255 (leading zeros allowed)."""
    parts = text.split(".")
    if len(parts) != 4 or not text.isascii():
        return None
    a, b, c, d = parts
    if not (a.isdigit() and b.isdigit() and c.isdigit() and d.isdigit()):
        return None
    a, b, c, d = int(a), int(b), int(c), int(d)
    if a > 255 or b > 255 or c > 255 or d > 255:
        return None
    return (a << 24) | (b << 16) | (c << 8) | d


_INET_PTON, _AF_INET, _FROM_BYTES = socket.inet_pton, socket.AF_INET, int.from_bytes


def _ipv4_numeric(text: str) -> ipaddress.IPv4Address | None:
    """iptables' own dotted parser: 1 to 4 decimal parts, missing ones are zero."""
    value = _ipv4_int(text)
    if value is not None:
        return ipaddress.IPv4Address(value)
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_V4_PART.match(p) for p in parts):
        return None
    values = [int(p) for p in parts]
    if any(v > 255 for v in values):
        return None
    values += [0] * (4 - len(values))
    return ipaddress.IPv4Address(".".join(map(str, values)))


def _looks_like_hostname(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?", text)) \
        and not text.replace(".", "").isdigit()


class Unmodelled(str):
    """An address iptables accepts but the model cannot hold (kept verbatim)."""


class Hostname(Unmodelled):
    """An address given as a DNS name: iptables resolves it once, at load time."""


@functools.lru_cache(maxsize=65536)
def parse_address(text: str, family: int) -> tuple[object, str | None]:
    """``ADDR[/MASK]`` -> (network or Hostname, warning about host bits or None).

    Raises BadValue for malformed values and for the other family's address (FW011).
    """
    addr_text, slash, mask_text = text.partition("/")
    if family == 4 and (not slash or mask_text == "32"):
        value = _ipv4_int(addr_text)
        if value is not None:  # the common case: one host
            return ipaddress.IPv4Network((value, 32)), None
    if family == 4:
        addr = _ipv4_numeric(addr_text)
        if addr is None:
            if _is_v6(addr_text):
                raise BadValue(f"{addr_text} is an IPv6 address in an IPv4 ruleset", code="FW011")
            if _looks_like_hostname(addr_text) and not slash:
                return Hostname(addr_text), None
            raise BadValue(f"host/network {addr_text!r} is not a valid IPv4 address")
        bits = 32
    else:
        try:
            addr = ipaddress.IPv6Address(addr_text)
        except ValueError:
            if _ipv4_numeric(addr_text) is not None and "." in addr_text:
                raise BadValue(f"{addr_text} is an IPv4 address in an IPv6 ruleset", code="FW011") from None
            if _looks_like_hostname(addr_text) and not slash:
                return Hostname(addr_text), None
            raise BadValue(f"host/network {addr_text!r} is not a valid IPv6 address") from None
        bits = 128
    prefix = bits if not slash else _parse_mask(mask_text, family, bits)
    if prefix < 0:
        return Unmodelled(text), None
    host_mask = (1 << (bits - prefix)) - 1
    network_int = int(addr) & ~host_mask & ((1 << bits) - 1)
    net_class = ipaddress.IPv4Network if family == 4 else ipaddress.IPv6Network
    net = net_class((network_int, prefix))
    warning = None
    if int(net.network_address) != int(addr):
        warning = f"{text} has host bits set; iptables silently uses {net}"
    return net, warning


def _is_v6(text: str) -> bool:
    if ":" not in text:
        return False
    try:
        ipaddress.IPv6Address(text)
        return True
    except ValueError:
        return False


def _parse_mask(text: str, family: int, bits: int) -> int:
    if text.isdigit():
        prefix = int(text)
        if prefix > bits:
            raise BadValue(f"invalid mask /{text}: at most /{bits} in IPv{family}")
        return prefix
    try:
        mask = (ipaddress.IPv4Address(text) if family == 4 else ipaddress.IPv6Address(text))
    except ValueError:
        raise BadValue(f"invalid mask {text!r}") from None
    value = int(mask)
    prefix = bin(value).count("1")
    if value != ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1):
        return -1  # a non-contiguous mask: valid for iptables, not a network
    return prefix


@functools.lru_cache(maxsize=65536)
def parse_plain_address(text: str, family: int):
    """One address, no mask (iprange bounds, NAT addresses)."""
    if family == 4:
        addr = _ipv4_numeric(text)
        if addr is None or text.count(".") != 3:
            if _is_v6(text):
                raise BadValue(f"{text} is an IPv6 address in an IPv4 ruleset", code="FW011")
            raise BadValue(f"{text!r} is not a valid IPv4 address")
        return addr
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        if _ipv4_numeric(text) is not None and text.count(".") == 3:
            raise BadValue(f"{text} is an IPv4 address in an IPv6 ruleset", code="FW011") from None
        raise BadValue(f"{text!r} is not a valid IPv6 address") from None


def parse_address_range(text: str, family: int):
    """iprange ``FIRST-LAST`` (or a single address)."""
    first_text, dash, last_text = text.partition("-")
    first = parse_plain_address(first_text, family)
    last = parse_plain_address(last_text, family) if dash else first
    return first, last


# --------------------------------------------------------------------------- interfaces, MAC

IFNAMSIZ = 16


def parse_interface(text: str) -> str:
    if len(text) >= IFNAMSIZ:
        raise BadValue(f"interface name {text!r} is {len(text)} characters long; the kernel "
                       f"allows at most {IFNAMSIZ - 1}")
    return text


_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


def parse_mac(text: str) -> str:
    if not _MAC.match(text):
        raise BadValue(f"invalid MAC address {text!r} (six hex octets separated by ':')")
    return text


# --------------------------------------------------------------------------- ICMP

ICMP_TYPES: dict[str, tuple[int, int | None]] = {
    "any": (-1, None), "echo-reply": (0, None), "pong": (0, None),
    "destination-unreachable": (3, None), "network-unreachable": (3, 0),
    "host-unreachable": (3, 1), "protocol-unreachable": (3, 2), "port-unreachable": (3, 3),
    "fragmentation-needed": (3, 4), "source-route-failed": (3, 5), "network-unknown": (3, 6),
    "host-unknown": (3, 7), "network-prohibited": (3, 9), "host-prohibited": (3, 10),
    "TOS-network-unreachable": (3, 11), "TOS-host-unreachable": (3, 12),
    "communication-prohibited": (3, 13), "host-precedence-violation": (3, 14),
    "precedence-cutoff": (3, 15), "source-quench": (4, None), "redirect": (5, None),
    "network-redirect": (5, 0), "host-redirect": (5, 1), "TOS-network-redirect": (5, 2),
    "TOS-host-redirect": (5, 3), "echo-request": (8, None), "ping": (8, None),
    "router-advertisement": (9, None), "router-solicitation": (10, None),
    "time-exceeded": (11, None), "ttl-exceeded": (11, None), "ttl-zero-during-transit": (11, 0),
    "ttl-zero-during-reassembly": (11, 1), "parameter-problem": (12, None),
    "ip-header-bad": (12, 0), "required-option-missing": (12, 1),
    "timestamp-request": (13, None), "timestamp-reply": (14, None),
    "address-mask-request": (17, None), "address-mask-reply": (18, None),
}
ICMP6_TYPES: dict[str, tuple[int, int | None]] = {
    "destination-unreachable": (1, None), "no-route": (1, 0), "communication-prohibited": (1, 1),
    "beyond-scope": (1, 2), "address-unreachable": (1, 3), "port-unreachable": (1, 4),
    "failed-policy": (1, 5), "reject-route": (1, 6), "packet-too-big": (2, None),
    "time-exceeded": (3, None), "ttl-exceeded": (3, None), "ttl-zero-during-transit": (3, 0),
    "ttl-zero-during-reassembly": (3, 1), "parameter-problem": (4, None), "bad-header": (4, 0),
    "unknown-header-type": (4, 1), "unknown-option": (4, 2), "echo-request": (128, None),
    "ping": (128, None), "echo-reply": (129, None), "pong": (129, None),
    "router-solicitation": (133, None), "router-advertisement": (134, None),
    "neighbour-solicitation": (135, None), "neighbor-solicitation": (135, None),
    "neighbour-advertisement": (136, None), "neighbor-advertisement": (136, None),
    "redirect": (137, None),
}


@functools.lru_cache(maxsize=1024)
def parse_icmp_type(text: str, version: int) -> tuple[int | None, int | None]:
    """``NAME`` or ``TYPE[/CODE]`` -> (type or None for any, code or None)."""
    table = ICMP_TYPES if version == 4 else ICMP6_TYPES
    what = "ICMP" if version == 4 else "ICMPv6"
    if text in table:
        type_, code = table[text]
        return (None if type_ < 0 else type_), code
    lowered = {k.lower(): v for k, v in table.items()}
    if text.lower() in lowered and version == 4:
        type_, code = lowered[text.lower()]
        return (None if type_ < 0 else type_), code
    type_text, slash, code_text = text.partition("/")
    if not type_text.isdigit() or (slash and not code_text.isdigit()):
        raise BadValue(f"unknown {what} type {text!r} (a name or TYPE[/CODE])",
                       help=_suggest(text, table))
    type_ = int(type_text)
    code = int(code_text) if slash else None
    if type_ > 255 or (code is not None and code > 255):
        raise BadValue(f"{what} type {text!r} is out of range (type and code are 0-255)")
    if version == 4 and type_ == 255 and code in (None, 255):
        return None, None
    return type_, code


# --------------------------------------------------------------------------- states, flags

CT_STATES = frozenset({"INVALID", "ESTABLISHED", "NEW", "RELATED", "UNTRACKED", "SNAT", "DNAT"})
STATE_STATES = frozenset({"INVALID", "ESTABLISHED", "NEW", "RELATED", "UNTRACKED"})


@functools.lru_cache(maxsize=256)
def parse_states(text: str, allowed: frozenset[str] = CT_STATES) -> frozenset[str]:
    states = set()
    for item in text.split(","):
        upper = item.upper()
        if upper not in allowed:
            raise BadValue(f"unknown connection state {item!r} (use {', '.join(sorted(allowed))})",
                           help=_suggest(upper, allowed))
        states.add(upper)
    return frozenset(states)


TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG")


@functools.lru_cache(maxsize=256)
def parse_tcp_flags(text: str) -> frozenset[str]:
    flags = set()
    for item in text.split(","):
        upper = item.upper()
        if upper == "ALL":
            flags.update(TCP_FLAGS)
        elif upper == "NONE":
            continue
        elif upper in TCP_FLAGS:
            flags.add(upper)
        else:
            raise BadValue(f"unknown TCP flag {item!r} (use FIN, SYN, RST, PSH, ACK, URG, ALL or NONE)",
                           help=_suggest(upper, TCP_FLAGS + ("ALL", "NONE")))
    return frozenset(flags)


# --------------------------------------------------------------------------- numbers

@functools.lru_cache(maxsize=4096)
def parse_uint(text: str, lo: int, hi: int, *, base0: bool = True) -> int:
    """strtoul-style: decimal, 0x hex or 0 octal (base 0), within [lo, hi]."""
    value = _strtoul(text) if base0 else (int(text) if text.isdigit() else None)
    if value is None or not lo <= value <= hi:
        raise BadValue(f"bad value {text!r}, or out of range ({lo}-{hi})")
    return value


def _strtoul(text: str) -> int | None:
    try:
        if text.lower().startswith("0x") and len(text) > 2:
            return int(text[2:], 16)
        if text.startswith("0") and len(text) > 1:
            return int(text[1:], 8)
        return int(text) if text.isdigit() else None
    except ValueError:
        return None


def parse_uint_range(text: str, lo: int, hi: int) -> tuple[int, int]:
    """``N`` or ``A:B`` (xtables' *RC types; open ends allowed)."""
    if ":" not in text:
        value = parse_uint(text, lo, hi)
        return value, value
    a, b = text.split(":", 1)
    first = parse_uint(a, lo, hi) if a else lo
    last = parse_uint(b, lo, hi) if b else hi
    return first, last


def parse_mark(text: str) -> str:
    """``VALUE[/MASK]``, both 32-bit."""
    value, slash, mask = text.partition("/")
    for part in (value, mask) if slash else (value,):
        if _strtoul(part) is None or _strtoul(part) > 0xFFFFFFFF:
            raise BadValue(f"bad mark {text!r}: VALUE[/MASK] with 32-bit numbers")
    return text


# --------------------------------------------------------------------------- rates

_RATE_UNITS = (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400))
LIMIT_SCALE = 10000


@functools.lru_cache(maxsize=512)
def parse_rate(text: str) -> str:
    """``N[/second|minute|hour|day]`` (any prefix of the unit) -> iptables-save's form."""
    number, slash, unit = text.partition("/")
    mult = 1
    if slash:
        for name, seconds in _RATE_UNITS:
            if unit and name.startswith(unit.lower()):
                mult = seconds
                break
        else:
            raise BadValue(f"bad rate {text!r} (use N/second, N/minute, N/hour or N/day)")
    if not number.isdigit() or int(number) == 0:
        raise BadValue(f"bad rate {text!r}: the rate must be a positive number")
    period = LIMIT_SCALE * mult // int(number)
    if period == 0:
        raise BadValue(f"rate {text!r} is too fast")
    return format_rate(period)


def format_rate(period: int) -> str:
    rates = (("day", LIMIT_SCALE * 86400), ("hour", LIMIT_SCALE * 3600),
             ("min", LIMIT_SCALE * 60), ("sec", LIMIT_SCALE))
    i = 1
    while i < len(rates):
        mult = rates[i][1]
        if period > mult or mult // period < mult % period:
            break
        i += 1
    name, mult = rates[i - 1]
    return f"{mult // period}/{name}"


# --------------------------------------------------------------------------- names

CHAIN_NAME_MAX = 28  # XT_EXTENSION_MAXNAMELEN - 1 in 1.8.9 (must be under 29)
