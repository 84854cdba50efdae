"""The iptables 1.8.9 match and target extensions fwc knows: their options and checks.

Each extension is a table of options in a compact notation (one ``;``-separated entry per
option: ``names:type:flags``), mirroring iptables' own option tables (``xt_option_entry``):

* ``names``: the long option names, the first one canonical (``sport|source-port``);
* ``type``: how the value is validated (see :data:`VALUE_TYPES`), ``none`` for a flag;
* ``flags``: ``i`` may be negated with ``!``, ``m`` mandatory, ``*`` may be repeated.

Extra rules that iptables enforces after all options were seen (``cannot be used
together``, ``one of ... is required``) are in ``exclusive``, ``one_of`` and ``final``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

from . import ipt_values as V
from .ipt_values import BadValue


@dataclass(frozen=True)
class Opt:
    name: str
    type: str
    invert: bool = False
    mandatory: bool = False
    multi: bool = False
    nargs: int = 1


@dataclass
class Ext:
    name: str
    options: dict[str, Opt]            # every spelling -> option
    canonical: tuple[str, ...]         # canonical names in table order
    family: int | None = None          # 4 or 6 when the extension exists in one family only
    protos: tuple[str, ...] = ()       # the -p values the extension requires
    exclusive: tuple[tuple[str, ...], ...] = ()   # at most one of each group
    one_of: tuple[tuple[str, ...], ...] = ()      # at least one of each group
    also: dict[str, str] = field(default_factory=dict)  # option -> option it requires
    final: Callable[[dict], str | None] | None = None
    is_target: bool = False

    @property
    def mandatory(self) -> tuple[str, ...]:
        return self._mandatory

    def __post_init__(self):
        self._mandatory = tuple(n for n in self.canonical if self.options[n].mandatory)


def _parse_table(spec: str) -> tuple[dict[str, Opt], tuple[str, ...]]:
    options: dict[str, Opt] = {}
    canonical = []
    for entry in filter(None, (e.strip() for e in spec.split(";"))):
        names, type_, *rest = entry.split(":")
        flags = rest[0] if rest else ""
        name_list = names.split("|")
        nargs = 0 if type_ == "none" else (2 if type_ in ("tcpflags", "setargs", "chunktypes") else 1)
        opt = Opt(name_list[0], type_, "i" in flags, "m" in flags, "*" in flags, nargs)
        canonical.append(name_list[0])
        for n in name_list:
            options[n] = opt
    return options, tuple(canonical)


def _ext(name, spec, **kw) -> Ext:
    options, canonical = _parse_table(spec)
    return Ext(name, options, canonical, **kw)


# ----------------------------------------------------------------------- value types

_PORT_PROTOS = ("tcp", "udp", "udplite", "sctp", "dccp")


@functools.lru_cache(maxsize=65536)
def _check_nat_range(text: str, family: int) -> bool:
    """``ADDR[-ADDR][:PORT[-PORT][/BASE]]`` (IPv6 addresses in brackets when a port
    follows). Returns whether a port range was given."""
    if family == 4:
        # kube-proxy's ADDR:PORT, tens of thousands of times: no objects needed.
        addr, colon, port = text.partition(":")
        if V._ipv4_int(addr) is not None and (not colon or (port.isdigit() and 0 < int(port) <= 65535)):
            return bool(colon)
    addr_part, port_part = text, ""
    if family == 6 and text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise BadValue(f"bad address range {text!r}: missing ']'")
        addr_part, rest = text[1:close], text[close + 1:]
        if rest:
            if not rest.startswith(":"):
                raise BadValue(f"bad address range {text!r}")
            port_part = rest[1:]
    elif family == 4 and ":" in text:
        addr_part, port_part = text.split(":", 1)
    elif family == 6 and text.count(":") and not _valid_v6_range(text):
        raise BadValue(f"bad IPv6 address range {text!r}")
    if addr_part:
        first, dash, last = addr_part.partition("-")
        V.parse_plain_address(first, family)
        if dash:
            V.parse_plain_address(last, family)
    if port_part:
        _check_port_spec(port_part)
        return True
    return False


def _valid_v6_range(text: str) -> bool:
    first, _, last = text.partition("-")
    try:
        V.parse_plain_address(first, 6)
        if last:
            V.parse_plain_address(last, 6)
        return True
    except BadValue:
        return False


def _check_port_spec(text: str) -> None:
    """NAT ports: ``P``, ``P-Q`` or ``P-Q/BASE``; 0 is not a valid port here."""
    ports, slash, base = text.partition("/")
    lo_text, dash, hi_text = ports.partition("-")
    if not dash or not _is_number(lo_text):
        # A service name is a whole port (ftp-data); a range takes numbers only.
        lo_text, dash, hi_text = ports, "", ""
    for part in (lo_text, hi_text) if dash else (lo_text,):
        port = _nat_port(part)
        if port is None or port == 0:
            raise BadValue(f"port {part!r} is not valid (1-65535)")
    if slash:
        if not base or V.parse_port(base) == 0:
            raise BadValue(f"port {base!r} is not valid (1-65535)")


def _is_number(text: str) -> bool:
    return text.isdigit()


def _nat_port(text: str) -> int | None:
    try:
        return V.parse_port(text) if text else None
    except BadValue:
        return None


def _check_to_ports(text: str) -> None:
    ports = text.split("/", 1)[0]
    lo_text, dash, hi_text = ports.partition("-")
    if not dash or not _is_number(lo_text):
        lo_text, dash, hi_text = ports, "", ""
    for part in (lo_text, hi_text) if dash else (lo_text,):
        if _nat_port(part) is None or (dash and not _is_number(part)):
            raise BadValue(f"port {part!r} is not valid")
    if "/" in text:
        raise BadValue("shifted port ranges (PORT-PORT/BASE) are not supported by REDIRECT/MASQUERADE")


_LOG_LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "error": 3, "err": 3, "warning": 4, "warn": 4,
               "notice": 5, "info": 6, "debug": 7, "panic": 0}
_REJECT4 = {"icmp-net-unreachable": "icmp-net-unreachable", "net-unreach": "icmp-net-unreachable",
            "icmp-host-unreachable": "icmp-host-unreachable", "host-unreach": "icmp-host-unreachable",
            "icmp-proto-unreachable": "icmp-proto-unreachable", "proto-unreach": "icmp-proto-unreachable",
            "icmp-port-unreachable": "icmp-port-unreachable", "port-unreach": "icmp-port-unreachable",
            "icmp-net-prohibited": "icmp-net-prohibited", "net-prohib": "icmp-net-prohibited",
            "icmp-host-prohibited": "icmp-host-prohibited", "host-prohib": "icmp-host-prohibited",
            "tcp-reset": "tcp-reset", "tcp-rst": "tcp-reset",
            "icmp-admin-prohibited": "icmp-admin-prohibited", "admin-prohib": "icmp-admin-prohibited"}
_REJECT6 = {"icmp6-no-route": "icmp6-no-route", "no-route": "icmp6-no-route",
            "icmp6-adm-prohibited": "icmp6-adm-prohibited", "adm-prohibited": "icmp6-adm-prohibited",
            "icmp6-addr-unreachable": "icmp6-addr-unreachable", "addr-unreach": "icmp6-addr-unreachable",
            "icmp6-port-unreachable": "icmp6-port-unreachable", "port-unreach": "icmp6-port-unreachable",
            "tcp-reset": "tcp-reset", "icmp6-policy-fail": "icmp6-policy-fail",
            "policy-fail": "icmp6-policy-fail", "icmp6-reject-route": "icmp6-reject-route",
            "reject-route": "icmp6-reject-route"}
_ADDRTYPES = ("UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
              "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE")
_PKTTYPES = ("unicast", "broadcast", "multicast", "host", "otherhost", "outgoing", "loopback")
_DSCP_CLASSES = ("CS0", "CS1", "CS2", "CS3", "CS4", "CS5", "CS6", "CS7", "BE", "AF11", "AF12",
                 "AF13", "AF21", "AF22", "AF23", "AF31", "AF32", "AF33", "AF41", "AF42", "AF43", "EF")
_TOS_NAMES = ("minimize-delay", "maximize-throughput", "maximize-reliability", "minimize-cost",
              "normal-service")
_CT_STATUS = ("NONE", "EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED")
_TCPOPT_NAMES = {"wscale": 3, "mss": 2, "sack-permitted": 4, "sack": 5, "timestamp": 8, "md5": 19}


def _choice(text: str, choices, *, fold: bool = False) -> str:
    if (text.lower() if fold else text) in choices:
        return text
    raise BadValue(f"bad value {text!r} (use one of {', '.join(choices)})")


def _choices(text: str, choices, *, fold: bool = True) -> str:
    for item in text.split(","):
        _choice(item.upper() if fold else item, choices)
    return text


def _check_float01(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        raise BadValue(f"bad probability {text!r} (0-1)") from None
    if not 0 <= value <= 1:
        raise BadValue(f"probability {text} is out of range (0-1)")
    return text


def _check_hashlimit_rate(text: str) -> str:
    number, slash, unit = text.partition("/")
    lowered = number.lower()
    for suffix in ("kb", "mb", "b"):
        if lowered.endswith(suffix) and lowered[:-len(suffix)].isdigit():
            return text
    if not number.isdigit() or int(number) == 0:
        raise BadValue(f"bad rate {text!r} (N/second, N/minute, N/hour, N/day or N[kb|mb]/s)")
    if slash and not any(u.startswith(unit.lower()) for u in ("second", "minute", "hour", "day")):
        raise BadValue(f"bad rate unit in {text!r} (second, minute, hour or day)")
    return text


def _check_burst(text: str) -> str:
    lowered = text.lower()
    for suffix in ("kb", "mb", "b"):
        if lowered.endswith(suffix) and lowered[:-len(suffix)].isdigit():
            return text
    return V.parse_uint(text, 0, 0xFFFFFFFF) and text


def _check_tos(text: str) -> str:
    if text.lower() in _TOS_NAMES:
        return text
    value, slash, mask = text.partition("/")
    for part in (value, mask) if slash else (value,):
        if V._strtoul(part) is None or V._strtoul(part) > 255:
            raise BadValue(f"symbolic TOS name {text!r} is unknown")
    return text


def _check_uid(text: str) -> str:
    lo, dash, hi = text.partition("-")
    for part in (lo, hi) if dash else (lo,):
        if not part or (not part.isdigit() and not part.replace("_", "").replace("-", "").isalnum()):
            raise BadValue(f"bad user or group {text!r}")
    return text


def _check_strip_options(text: str) -> str:
    for item in text.split(","):
        number = _TCPOPT_NAMES.get(item)
        if number is None:
            number = V.parse_uint(item, 0, 255)
        if number in (0, 1):
            raise BadValue("TCP option 0 (end) and 1 (no-op) cannot be stripped")
    return text


def _check_zone(text: str) -> str:
    for prefix in ("orig-", "reply-"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if text == "mark":
        return text
    if V._strtoul(text) is None or V._strtoul(text) > 65535:
        raise BadValue(f"cannot parse {text!r} as a zone ID (0-65535)")
    return text


def _check_string(max_len: int):
    def check(text: str) -> str:
        if len(text) > max_len:
            raise BadValue(f"value is {len(text)} characters long; at most {max_len} allowed",
                           code="FW013")
        return text
    return check


def _u(lo, hi):
    return lambda text: V.parse_uint(text, lo, hi)


def _ur(lo, hi):
    return lambda text: V.parse_uint_range(text, lo, hi)


def _family_value(parse):
    """Marks a parser that needs the rule's address family as a second argument."""
    parse.needs_family = True
    return parse


VALUE_TYPES: dict[str, Callable] = {
    "any": lambda t: t,
    "u8": _u(0, 255), "u8+": _u(1, 255), "u16": _u(0, 65535), "u32": _u(0, 0xFFFFFFFF),
    "u64": _u(0, 0xFFFFFFFFFFFFFFFF), "u6": _u(0, 63), "u32+": _u(1, 0xFFFFFFFF),
    "u16r": _ur(0, 65535), "u32r": _ur(0, 0xFFFFFFFF), "u64r": _ur(0, 0xFFFFFFFFFFFFFFFF),
    "u8r": _ur(0, 255),
    "portrange": V.parse_port_range, "port": V.parse_port, "multiport": V.parse_multiport,
    "iface": V.parse_interface, "mac": V.parse_mac, "mark": V.parse_mark,
    "rate": V.parse_rate, "hrate": _check_hashlimit_rate, "hburst": _check_burst,
    "states": V.parse_states, "state": lambda t: V.parse_states(t, V.STATE_STATES),
    "tcpflag": V.parse_tcp_flags, "proto": V.parse_protocol,
    "icmp": lambda t: V.parse_icmp_type(t, 4), "icmp6": lambda t: V.parse_icmp_type(t, 6),
    "addr": _family_value(lambda t, fam: V.parse_address(t, fam)),
    "plainaddr": _family_value(lambda t, fam: V.parse_plain_address(t, fam)),
    "addrrange": _family_value(lambda t, fam: V.parse_address_range(t, fam)),
    "nat": _family_value(_check_nat_range),  # called directly: tens of thousands of DNATs
    "prefix4": _family_value(lambda t, fam: V.parse_uint(t, 0, 32 if fam == 4 else 128)),
    "toports": _check_to_ports,
    "str15": _check_string(15), "str27": _check_string(27), "str29": _check_string(29),
    "str30": _check_string(30), "str64": _check_string(64), "str128": _check_string(128),
    "str200": _check_string(200), "str255": _check_string(255), "str31": _check_string(31),
    "loglevel": lambda t: t if t.lower() in _LOG_LEVELS else _u(0, 7)(t),
    "reject4": lambda t: _REJECT4.get(t) or _choice(t, tuple(_REJECT4)),
    "reject6": lambda t: _REJECT6.get(t) or _choice(t, tuple(_REJECT6)),
    "addrtypes": lambda t: _choices(t, _ADDRTYPES),
    "pkttype": lambda t: _choice(t, _PKTTYPES, fold=True),
    "dscpclass": lambda t: _choice(t.upper(), _DSCP_CLASSES),
    "tos": _check_tos, "uid": _check_uid, "ctstatus": lambda t: _choices(t, _CT_STATUS),
    "ctdir": lambda t: _choice(t.upper(), ("ORIGINAL", "REPLY")),
    "float01": _check_float01, "stripopts": _check_strip_options, "zone": _check_zone,
    "dir": lambda t: _choice(t, ("in", "out")), "pol": lambda t: _choice(t, ("none", "ipsec")),
    "ipsecproto": lambda t: _choice(t, ("ah", "esp", "ipcomp")),
    "ipsecmode": lambda t: _choice(t, ("tunnel", "transport")),
    "statmode": lambda t: _choice(t, ("random", "nth")),
    "algo": lambda t: _choice(t, ("bm", "kmp")),
    "cbmode": lambda t: _choice(t, ("packets", "bytes", "avgpkt")),
    "cbdir": lambda t: _choice(t, ("original", "reply", "both")),
    "audit": lambda t: _choice(t, ("accept", "drop", "reject")),
    "hmode": lambda t: _choices(t, ("srcip", "srcport", "dstip", "dstport"), fold=False),
    "classid": lambda t: t if len(t.split(":")) == 2 and all(
        V._strtoul("0x" + p) is not None for p in t.split(":")) else _choice(t, ()),
}


def validate_value(opt: Opt, text: str, family: int):
    parse = VALUE_TYPES[opt.type]
    if getattr(parse, "needs_family", False):
        return parse(text, family)
    return parse(text)


# ----------------------------------------------------------------------- final checks

def _statistic_final(seen: dict) -> str | None:
    mode = seen.get("mode")
    if mode == "random" and "probability" not in seen:
        return "--probability must be specified when using random mode"
    if mode == "nth":
        if "every" not in seen:
            return "--every must be specified when using nth mode"
        every = V.parse_uint(seen["every"], 1, 0xFFFFFFFF)
        packet = int(V.parse_uint(seen.get("packet", "0"), 0, 0xFFFFFFFF))
        if packet > every - 1:
            return "the --packet p must be 0 <= p <= n-1 (n is --every)"
    return None


def _owner_final(seen: dict) -> str | None:
    order = list(seen)
    if "suppl-groups" in seen and ("gid-owner" not in seen
                                   or order.index("gid-owner") > order.index("suppl-groups")):
        return "--suppl-groups needs --gid-owner before it"
    return None


def _policy_final(seen: dict) -> str | None:
    element = {"reqid", "spi", "tunnel-src", "tunnel-dst", "proto", "mode"}
    if "strict" in seen and not element & set(seen):
        return ("--strict needs at least one of --reqid, --spi, --tunnel-src, --tunnel-dst, "
                "--proto or --mode")
    if ("tunnel-src" in seen or "tunnel-dst" in seen) and seen.get("mode") != "tunnel":
        return "--tunnel-src/--tunnel-dst are only valid with --mode tunnel"
    return None


def _tcpmss_final(seen: dict) -> str | None:
    lo, hi = V.parse_uint_range(seen["mss"], 0, 65535)
    return "invalid --mss range: the first value is greater than the second" if lo > hi else None


def _recent_final(seen: dict) -> str | None:
    if not {"set", "rcheck", "update", "remove"} & set(seen):
        return "one of --set, --rcheck, --update or --remove is required"
    return None


# ----------------------------------------------------------------------- matches

_M = [
    _ext("tcp", "sport|source-port:portrange:i; dport|destination-port:portrange:i; syn:none:i;"
         "tcp-flags:tcpflags:i; tcp-option:u8+:i", protos=("tcp",)),
    _ext("udp", "sport|source-port:portrange:i; dport|destination-port:portrange:i", protos=("udp",)),
    _ext("udplite", "sport|source-port:portrange:i; dport|destination-port:portrange:i",
         protos=("udplite",)),
    _ext("sctp", "sport|source-port:portrange:i; dport|destination-port:portrange:i;"
         "chunk-types:chunktypes:i", protos=("sctp",)),
    _ext("dccp", "sport|source-port:portrange:i; dport|destination-port:portrange:i;"
         "dccp-types:any:i; dccp-option:u8+:i", protos=("dccp",)),
    _ext("icmp", "icmp-type:icmp:im", family=4, protos=("icmp",)),
    _ext("icmp6", "icmpv6-type:icmp6:im", family=6, protos=("ipv6-icmp",)),
    _ext("multiport", "source-ports|sports:multiport:i; destination-ports|dports:multiport:i;"
         "ports:multiport:i", protos=_PORT_PROTOS,
         exclusive=(("source-ports", "destination-ports", "ports"),),
         one_of=(("source-ports", "destination-ports", "ports"),)),
    _ext("conntrack", "ctstate:states:i; ctproto:proto:i; ctorigsrc:addr:i; ctorigdst:addr:i;"
         "ctreplsrc:addr:i; ctrepldst:addr:i; ctorigsrcport:portrange:i; ctorigdstport:portrange:i;"
         "ctreplsrcport:portrange:i; ctrepldstport:portrange:i; ctstatus:ctstatus:i;"
         "ctexpire:u32r:i; ctdir:ctdir",
         one_of=(("ctstate", "ctproto", "ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst",
                  "ctorigsrcport", "ctorigdstport", "ctreplsrcport", "ctrepldstport", "ctstatus",
                  "ctexpire", "ctdir"),)),
    _ext("state", "state:state:im"),
    _ext("comment", "comment:str255:m"),
    _ext("limit", "limit:rate; limit-burst:u32"),
    _ext("hashlimit", "hashlimit-upto|hashlimit:hrate:; hashlimit-above:hrate; hashlimit-burst:hburst;"
         "hashlimit-mode:hmode; hashlimit-srcmask:prefix4; hashlimit-dstmask:prefix4;"
         "hashlimit-name:str255:m; hashlimit-htable-size:u32; hashlimit-htable-max:u32;"
         "hashlimit-htable-gcinterval:u32; hashlimit-htable-expire:u32;"
         "hashlimit-rate-match:none; hashlimit-rate-interval:u32+",
         exclusive=(("hashlimit-upto", "hashlimit-above"),),
         one_of=(("hashlimit-upto", "hashlimit-above"),)),
    _ext("recent", "set:none:i; rcheck:none:i; update:none:i; remove:none:i; seconds:u32+;"
         "reap:none; hitcount:u32; rttl:none; name:str200; mask:plainaddr; rsource:none;"
         "rdest:none", exclusive=(("set", "rcheck", "update", "remove"), ("set", "rttl"),
                                  ("set", "remove"), ("rsource", "rdest")),
         also={"reap": "seconds"}, final=_recent_final),
    _ext("set", "match-set|set:setargs:i; return-nomatch:none; update-counters:none:i;"
         "update-subcounters:none:i; packets-eq:u64:i; packets-lt:u64; packets-gt:u64;"
         "bytes-eq:u64:i; bytes-lt:u64; bytes-gt:u64", one_of=(("match-set",),)),
    _ext("mark", "mark:mark:im"),
    _ext("connmark", "mark:mark:im"),
    _ext("mac", "mac-source:mac:im"),
    _ext("iprange", "src-range:addrrange:i; dst-range:addrrange:i",
         one_of=(("src-range", "dst-range"),)),
    _ext("addrtype", "src-type:addrtypes:i; dst-type:addrtypes:i; limit-iface-in:none;"
         "limit-iface-out:none", exclusive=(("limit-iface-in", "limit-iface-out"),),
         one_of=(("src-type", "dst-type"),)),
    _ext("owner", "uid-owner:uid:i; gid-owner:uid:i; socket-exists:none:i; suppl-groups:none",
         one_of=(("uid-owner", "gid-owner", "socket-exists"),), final=_owner_final),
    _ext("physdev", "physdev-in:iface:i; physdev-out:iface:i; physdev-is-in:none:i;"
         "physdev-is-out:none:i; physdev-is-bridged:none:i",
         one_of=(("physdev-in", "physdev-out", "physdev-is-in", "physdev-is-out",
                  "physdev-is-bridged"),)),
    _ext("policy", "dir:dir:m; pol:pol; strict:none; reqid:u32:i*; spi:u32:i*; proto:ipsecproto:i*;"
         "mode:ipsecmode:i*; tunnel-src:addr:i*; tunnel-dst:addr:i*; next:none:*",
         final=_policy_final),
    _ext("statistic", "mode:statmode:m; probability:float01:i; every:u32+:i; packet:u32",
         also={"packet": "every", "every": "packet"}, final=_statistic_final),
    _ext("length", "length:u16r:im"),
    _ext("ttl", "ttl-eq:u8:i; ttl-lt:u8; ttl-gt:u8", family=4,
         exclusive=(("ttl-eq", "ttl-lt", "ttl-gt"),), one_of=(("ttl-eq", "ttl-lt", "ttl-gt"),)),
    _ext("hl", "hl-eq:u8:i; hl-lt:u8; hl-gt:u8", family=6,
         exclusive=(("hl-eq", "hl-lt", "hl-gt"),), one_of=(("hl-eq", "hl-lt", "hl-gt"),)),
    _ext("pkttype", "pkt-type:pkttype:im"),
    _ext("tcpmss", "mss:u16r:im", final=_tcpmss_final),
    _ext("string", "algo:algo:m; from:u16; to:u16; string:str128:i; hex-string:any:i; icase:none",
         one_of=(("string", "hex-string"),)),
    _ext("helper", "helper:str30:im"),
    _ext("connlimit", "connlimit-upto:u32; connlimit-above:u32; connlimit-mask:prefix4;"
         "connlimit-saddr:none; connlimit-daddr:none",
         exclusive=(("connlimit-upto", "connlimit-above"), ("connlimit-saddr", "connlimit-daddr")),
         one_of=(("connlimit-upto", "connlimit-above"),)),
    _ext("connbytes", "connbytes:u64r:im; connbytes-dir:cbdir:m; connbytes-mode:cbmode:m"),
    _ext("dscp", "dscp:u6:i; dscp-class:dscpclass:i", exclusive=(("dscp", "dscp-class"),),
         one_of=(("dscp", "dscp-class"),)),
    _ext("tos", "tos:tos:im"),
    _ext("quota", "quota:u64:im"),
    _ext("cpu", "cpu:u32:im"),
    _ext("ah", "ahspi:u32r:i; ahlen:u32:i; ahres:none"),
    _ext("esp", "espspi:u32r:i"),
    _ext("realm", "realm:any:im", family=4),
    _ext("frag", "fragid:u32r:i; fraglen:u32:i; fragres:none; fragfirst:none; fragmore:none;"
         "fraglast:none", family=6, exclusive=(("fragmore", "fraglast"),)),
    _ext("cluster", "cluster-total-nodes:u32:m; cluster-local-node:u32; cluster-local-nodemask:u32;"
         "cluster-hash-seed:u32:m", one_of=(("cluster-local-node", "cluster-local-nodemask"),)),
    _ext("devgroup", "src-group:mark:i; dst-group:mark:i", one_of=(("src-group", "dst-group"),)),
    _ext("rpfilter", "loose:none; validmark:none; accept-local:none; invert:none"),
    _ext("socket", "transparent:none; nowildcard:none; restore-skmark:none"),
    _ext("nfacct", "nfacct-name:str31:m"),
]
MATCHES: dict[str, Ext] = {e.name: e for e in _M}
MATCHES["icmpv6"] = MATCHES["icmp6"]

# Match extensions iptables 1.8.9 ships but fwc does not validate: kept verbatim.
OTHER_MATCHES = frozenset({
    "bpf", "cgroup", "connlabel", "ecn", "ipcomp", "ipvs", "osf", "time", "u32", "rateest",
    "dst", "hbh", "ipv6header", "mh", "rt", "srh", "eui64", "l2tp", "unclean", "standard",
    # xtables-addons
    "geoip", "ipp2p", "psd", "account", "condition", "dhcpmac", "fuzzy", "iface",
    "ipv4options", "length2", "lscan", "pknock", "quota2",
})

# ----------------------------------------------------------------------- targets

_T = [
    _ext("REJECT", "reject-with:reject4", family=4),
    _ext("LOG", "log-level:loglevel; log-prefix:str29; log-tcp-sequence:none; log-tcp-options:none;"
         "log-ip-options:none; log-uid:none; log-macdecode:none"),
    _ext("NFLOG", "nflog-group:u16; nflog-prefix:any; nflog-range:u32; nflog-size:u32;"
         "nflog-threshold:u16", exclusive=(("nflog-range", "nflog-size"),)),
    _ext("NFQUEUE", "queue-num:u16; queue-balance:u16r; queue-bypass:none; fail-open:none;"
         "queue-cpu-fanout:none", exclusive=(("queue-num", "queue-balance"),)),
    _ext("MARK", "set-xmark:mark; set-mark:mark; and-mark:mark; or-mark:mark; xor-mark:mark",
         exclusive=(("set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark"),),
         one_of=(("set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark"),)),
    _ext("CONNMARK", "set-xmark:mark; set-mark:mark; save-mark:none; restore-mark:none;"
         "and-mark:mark; or-mark:mark; xor-mark:mark; mask:mark; nfmask:mark; ctmask:mark",
         exclusive=(("set-xmark", "set-mark", "save-mark", "restore-mark", "and-mark", "or-mark",
                     "xor-mark"),),
         one_of=(("set-xmark", "set-mark", "save-mark", "restore-mark", "and-mark", "or-mark",
                  "xor-mark"),)),
    _ext("DNAT", "to-destination:nat:m; random:none; persistent:none"),
    _ext("SNAT", "to-source:nat:m; random:none; random-fully:none; persistent:none"),
    _ext("MASQUERADE", "to-ports:toports; random:none; random-fully:none"),
    _ext("REDIRECT", "to-ports:toports; random:none"),
    _ext("NETMAP", "to:addr:m"),
    _ext("CT", "notrack:none; helper:str15; ctevents:any; expevents:any; zone:zone;"
         "zone-orig:zone; zone-reply:zone; timeout:str31"),
    _ext("TCPMSS", "set-mss:u16; clamp-mss-to-pmtu:none",
         exclusive=(("set-mss", "clamp-mss-to-pmtu"),), one_of=(("set-mss", "clamp-mss-to-pmtu"),)),
    _ext("TTL", "ttl-set:u8; ttl-dec:u8+; ttl-inc:u8+", family=4,
         exclusive=(("ttl-set", "ttl-dec", "ttl-inc"),), one_of=(("ttl-set", "ttl-dec", "ttl-inc"),)),
    _ext("HL", "hl-set:u8; hl-dec:u8+; hl-inc:u8+", family=6,
         exclusive=(("hl-set", "hl-dec", "hl-inc"),), one_of=(("hl-set", "hl-dec", "hl-inc"),)),
    _ext("DSCP", "set-dscp:u6; set-dscp-class:dscpclass",
         exclusive=(("set-dscp", "set-dscp-class"),), one_of=(("set-dscp", "set-dscp-class"),)),
    _ext("TOS", "set-tos:tos; and-tos:u8; or-tos:u8; xor-tos:u8",
         exclusive=(("set-tos", "and-tos", "or-tos", "xor-tos"),),
         one_of=(("set-tos", "and-tos", "or-tos", "xor-tos"),)),
    _ext("CLASSIFY", "set-class:classid:m"),
    _ext("SET", "add-set:setargs; del-set:setargs; map-set:setargs; timeout:u32; exist:none;"
         "map-mark:none; map-prio:none; map-queue:none", one_of=(("add-set", "del-set", "map-set"),)),
    _ext("TEE", "gateway:plainaddr:m; oif:iface"),
    _ext("AUDIT", "type:audit:m"),
    _ext("CHECKSUM", "checksum-fill:none:m"),
    _ext("CONNSECMARK", "save:none; restore:none", exclusive=(("save", "restore"),),
         one_of=(("save", "restore"),)),
    _ext("SECMARK", "selctx:str255:m"),
    _ext("IDLETIMER", "timeout:u32:m; label:str27:m; alarm:none"),
    _ext("LED", "led-trigger-id:str27:m; led-delay:any; led-always-blink:none"),
    _ext("SYNPROXY", "sack-perm:none; timestamp:none; wscale:u8; mss:u16; ecn:none"),
    _ext("TPROXY", "on-port:port:m; on-ip:plainaddr; tproxy-mark:mark"),
    _ext("TCPOPTSTRIP", "strip-options:stripopts"),
    _ext("ECN", "ecn-tcp-remove:none; ecn-tcp-cwr:u8; ecn-tcp-ece:u8; ecn-ip-ect:u8", family=4,
         one_of=(("ecn-tcp-remove", "ecn-tcp-cwr", "ecn-tcp-ece", "ecn-ip-ect"),)),
    _ext("DNPT", "src-pfx:addr:m; dst-pfx:addr:m", family=6),
    _ext("SNPT", "src-pfx:addr:m; dst-pfx:addr:m", family=6),
    _ext("RATEEST", "rateest-name:str15:m; rateest-interval:any:m; rateest-ewmalog:any:m"),
    _ext("HMARK", "hmark-tuple:any; hmark-mod:u32+:m; hmark-offset:u32; hmark-src-prefix:prefix4;"
         "hmark-dst-prefix:prefix4; hmark-sport-mask:u16; hmark-dport-mask:u16;"
         "hmark-spi-mask:u32; hmark-proto-mask:u16; hmark-rnd:u32; hmark-sport:u16;"
         "hmark-dport:u16; hmark-spi:u32; hmark-proto:u16",
         exclusive=(("hmark-spi-mask", "hmark-sport-mask"), ("hmark-spi-mask", "hmark-dport-mask"))),
    _ext("ACCEPT", ""), _ext("DROP", ""), _ext("RETURN", ""), _ext("QUEUE", ""),
    _ext("NOTRACK", ""), _ext("TRACE", ""),
]
_REJECT6_EXT = _ext("REJECT", "reject-with:reject6", family=6)
TARGETS: dict[str, Ext] = {e.name: e for e in _T}
for _t in TARGETS.values():
    _t.is_target = True
_REJECT6_EXT.is_target = True

# Targets iptables 1.8.9 ships but fwc does not validate.
OTHER_TARGETS = frozenset({"CLUSTERIP", "MIRROR", "ULOG", "SAME",
                           # xtables-addons
                           "TARPIT", "DELUDE", "CHAOS", "ECHO", "IPMARK", "LOGMARK", "SYSRQ",
                           "DHCPMAC", "STEAL", "DNETMAP", "ACCOUNT", "PROTO"})

# Where targets may be used: table -> allowed built-in chains (None: every chain).
TARGET_PLACES: dict[str, dict[str, frozenset[str] | None]] = {
    "MASQUERADE": {"nat": frozenset({"POSTROUTING"})},
    "SNAT": {"nat": frozenset({"POSTROUTING", "INPUT"})},
    "DNAT": {"nat": frozenset({"PREROUTING", "OUTPUT"})},
    "REDIRECT": {"nat": frozenset({"PREROUTING", "OUTPUT"})},
    "NETMAP": {"nat": None},
    "REJECT": {"filter": frozenset({"INPUT", "FORWARD", "OUTPUT"}),
               "mangle": frozenset({"INPUT", "FORWARD", "OUTPUT"}),
               "raw": frozenset({"OUTPUT"}),
               "security": frozenset({"INPUT", "FORWARD", "OUTPUT"})},
    "CT": {"raw": None}, "NOTRACK": {"raw": None},
    "TTL": {"mangle": None}, "HL": {"mangle": None}, "DSCP": {"mangle": None},
    "TOS": {"mangle": None}, "ECN": {"mangle": None}, "TCPOPTSTRIP": {"mangle": None},
    "CHECKSUM": {"mangle": None},
    "CLASSIFY": {"mangle": frozenset({"FORWARD", "OUTPUT", "POSTROUTING"})},
    "TPROXY": {"mangle": frozenset({"PREROUTING"})},
    "SECMARK": {"mangle": None, "security": None},
    "CONNSECMARK": {"mangle": None, "security": None},
    "DNPT": {"mangle": frozenset({"PREROUTING"})},
    "SNPT": {"mangle": frozenset({"INPUT", "POSTROUTING"})},
}


def target_ext(name: str, family: int) -> Ext | None:
    if name == "REJECT" and family == 6:
        return _REJECT6_EXT
    return TARGETS.get(name)


def match_ext(name: str, family: int) -> Ext | None:
    return MATCHES.get(name)

