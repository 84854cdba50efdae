"""Built-in services and IP protocol numbers for the policy language.

A service name in a rule (``allow ssh``) supplies the protocol and the destination
ports. The table follows the names ufw users know (``/etc/services`` and ufw's
application profiles); ``dns`` means both udp and tcp 53.
"""

from __future__ import annotations

# name -> ((protocol, ((first, last), ...)), ...): protocols in the order rules come out.
Service = tuple[tuple[str, tuple[tuple[int, int], ...]], ...]


def _svc(*items: str) -> Service:
    """Build a service from items like ``"tcp 22"`` or ``"udp 60000-61000"``."""
    merged: dict[str, list[tuple[int, int]]] = {}
    for item in items:
        proto, ports = item.split()
        first, _, last = ports.partition("-")
        merged.setdefault(proto, []).append((int(first), int(last or first)))
    return tuple((proto, tuple(ranges)) for proto, ranges in merged.items())


BUILTIN_SERVICES: dict[str, Service] = {
    "ssh": _svc("tcp 22"),
    "ftp": _svc("tcp 21"),
    "telnet": _svc("tcp 23"),
    "smtp": _svc("tcp 25"),
    "dns": _svc("udp 53", "tcp 53"),
    "domain": _svc("udp 53", "tcp 53"),
    "dhcp": _svc("udp 67"),
    "dhcp-client": _svc("udp 68"),
    "dhcpv6-client": _svc("udp 546"),
    "tftp": _svc("udp 69"),
    "http": _svc("tcp 80"),
    "kerberos": _svc("udp 88", "tcp 88"),
    "pop3": _svc("tcp 110"),
    "ntp": _svc("udp 123"),
    "imap": _svc("tcp 143"),
    "snmp": _svc("udp 161"),
    "snmp-trap": _svc("udp 162"),
    "bgp": _svc("tcp 179"),
    "ldap": _svc("tcp 389"),
    "https": _svc("tcp 443"),
    "http3": _svc("udp 443"),
    "smb": _svc("tcp 445"),
    "smtps": _svc("tcp 465"),
    "isakmp": _svc("udp 500"),
    "ipsec-nat-t": _svc("udp 4500"),
    "syslog": _svc("udp 514"),
    "submission": _svc("tcp 587"),
    "ipp": _svc("tcp 631"),
    "ldaps": _svc("tcp 636"),
    "rsync": _svc("tcp 873"),
    "imaps": _svc("tcp 993"),
    "pop3s": _svc("tcp 995"),
    "openvpn": _svc("udp 1194"),
    "mssql": _svc("tcp 1433"),
    "radius": _svc("udp 1812"),
    "radius-accounting": _svc("udp 1813"),
    "nfs": _svc("tcp 2049", "udp 2049"),
    "etcd-client": _svc("tcp 2379"),
    "etcd-peer": _svc("tcp 2380"),
    "mysql": _svc("tcp 3306"),
    "rdp": _svc("tcp 3389"),
    "sieve": _svc("tcp 4190"),
    "postgres": _svc("tcp 5432"),
    "postgresql": _svc("tcp 5432"),
    "amqp": _svc("tcp 5672"),
    "vnc": _svc("tcp 5900"),
    "redis": _svc("tcp 6379"),
    "kubernetes-api": _svc("tcp 6443"),
    "kubelet": _svc("tcp 10250"),
    "http-alt": _svc("tcp 8080"),
    "https-alt": _svc("tcp 8443"),
    "prometheus": _svc("tcp 9090"),
    "node-exporter": _svc("tcp 9100"),
    "elasticsearch": _svc("tcp 9200"),
    "memcached": _svc("tcp 11211"),
    "mongodb": _svc("tcp 27017"),
    "wireguard": _svc("udp 51820"),
    "mosh": _svc("udp 60000-61000"),
}

# IP protocol numbers -> the name iptables-save prints (Debian's /etc/protocols, which
# iptables consults). Numbers not listed print as numbers.
PROTOCOL_NAMES: dict[int, str] = {
    1: "icmp", 2: "igmp", 3: "ggp", 4: "ipencap", 5: "st", 6: "tcp", 8: "egp", 9: "igp",
    12: "pup", 17: "udp", 20: "hmp", 22: "xns-idp", 27: "rdp", 29: "iso-tp4", 33: "dccp",
    36: "xtp", 37: "ddp", 38: "idpr-cmtp", 41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag",
    45: "idrp", 46: "rsvp", 47: "gre", 50: "esp", 51: "ah", 57: "skip", 58: "ipv6-icmp",
    59: "ipv6-nonxt", 60: "ipv6-opts", 73: "rspf", 81: "vmtp", 88: "eigrp", 89: "ospf",
    93: "ax.25", 94: "ipip", 97: "etherip", 98: "encap", 103: "pim", 108: "ipcomp",
    112: "vrrp", 115: "l2tp", 124: "isis", 132: "sctp", 133: "fc", 135: "mobility-header",
    136: "udplite", 137: "mpls-in-ip", 138: "manet", 139: "hip", 140: "shim6", 141: "wesp",
    142: "rohc", 143: "ethernet",
}

# Protocols whose ports the policy language can match (tcp/udp/sctp/udplite modules).
PORT_PROTOCOLS = ("tcp", "udp", "sctp", "udplite")
