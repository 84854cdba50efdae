"""ICMP and ICMPv6 type names (as ``iptables -p icmp -h`` and ``ip6tables -p icmpv6 -h``
list them), the ``essential`` sets and the REJECT ``with`` types of each family."""

from __future__ import annotations

# name -> (type, code or None)
ICMP4_TYPES: dict[str, tuple[int, int | None]] = {
    "echo-reply": (0, None), "pong": (0, None),
    "destination-unreachable": (3, None),
    "network-unreachable": (3, 0), "host-unreachable": (3, 1),
    "protocol-unreachable": (3, 2), "port-unreachable": (3, 3),
    "fragmentation-needed": (3, 4), "source-route-failed": (3, 5),
    "network-unknown": (3, 6), "host-unknown": (3, 7),
    "network-prohibited": (3, 9), "host-prohibited": (3, 10),
    "tos-network-unreachable": (3, 11), "tos-host-unreachable": (3, 12),
    "communication-prohibited": (3, 13), "host-precedence-violation": (3, 14),
    "precedence-cutoff": (3, 15),
    "source-quench": (4, None),
    "redirect": (5, None), "network-redirect": (5, 0), "host-redirect": (5, 1),
    "tos-network-redirect": (5, 2), "tos-host-redirect": (5, 3),
    "echo-request": (8, None), "ping": (8, None),
    "router-advertisement": (9, None), "router-solicitation": (10, None),
    "time-exceeded": (11, None), "ttl-exceeded": (11, None),
    "ttl-zero-during-transit": (11, 0), "ttl-zero-during-reassembly": (11, 1),
    "parameter-problem": (12, None), "ip-header-bad": (12, 0),
    "required-option-missing": (12, 1),
    "timestamp-request": (13, None), "timestamp-reply": (14, None),
    "address-mask-request": (17, None), "address-mask-reply": (18, None),
}

ICMP6_TYPES: dict[str, tuple[int, int | None]] = {
    "destination-unreachable": (1, None),
    "no-route": (1, 0), "communication-prohibited": (1, 1), "beyond-scope": (1, 2),
    "address-unreachable": (1, 3), "port-unreachable": (1, 4), "failed-policy": (1, 5),
    "reject-route": (1, 6),
    "packet-too-big": (2, None),
    "time-exceeded": (3, None), "ttl-exceeded": (3, None),
    "ttl-zero-during-transit": (3, 0), "ttl-zero-during-reassembly": (3, 1),
    "parameter-problem": (4, None), "bad-header": (4, 0), "unknown-header-type": (4, 1),
    "unknown-option": (4, 2),
    "echo-request": (128, None), "ping": (128, None),
    "echo-reply": (129, None), "pong": (129, None),
    "router-solicitation": (133, None), "router-advertisement": (134, None),
    "neighbour-solicitation": (135, None), "neighbor-solicitation": (135, None),
    "neighbour-advertisement": (136, None), "neighbor-advertisement": (136, None),
    "redirect": (137, None),
}

TYPES = {4: ICMP4_TYPES, 6: ICMP6_TYPES}

# `icmp essential`: what a host must not drop.
ESSENTIAL = {
    # echo-reply, destination-unreachable, time-exceeded, parameter-problem
    4: ((0, None), (3, None), (11, None), (12, None)),
    # RFC 4890 section 4.4.1 (traffic to the host that must not be dropped): error
    # messages, neighbour and router discovery, multicast listener discovery.
    6: ((1, None), (2, None), (3, None), (4, None), (133, None), (134, None), (135, None),
        (136, None), (130, None), (131, None), (132, None), (143, None)),
}

# `reject ... with TYPE`: per family, the canonical --reject-with value iptables-save
# prints. Family-neutral names map to the closest message of each family.
REJECT_WITH: dict[str, dict[int, str]] = {
    "tcp-reset": {4: "tcp-reset", 6: "tcp-reset"},
    "port-unreachable": {4: "icmp-port-unreachable", 6: "icmp6-port-unreachable"},
    "host-unreachable": {4: "icmp-host-unreachable", 6: "icmp6-addr-unreachable"},
    "net-unreachable": {4: "icmp-net-unreachable", 6: "icmp6-no-route"},
    "admin-prohibited": {4: "icmp-admin-prohibited", 6: "icmp6-adm-prohibited"},
    "host-prohibited": {4: "icmp-host-prohibited", 6: "icmp6-adm-prohibited"},
    "net-prohibited": {4: "icmp-net-prohibited", 6: "icmp6-adm-prohibited"},
    "proto-unreachable": {4: "icmp-proto-unreachable"},
    "icmp-port-unreachable": {4: "icmp-port-unreachable"},
    "icmp-host-unreachable": {4: "icmp-host-unreachable"},
    "icmp-net-unreachable": {4: "icmp-net-unreachable"},
    "icmp-proto-unreachable": {4: "icmp-proto-unreachable"},
    "icmp-net-prohibited": {4: "icmp-net-prohibited"},
    "icmp-host-prohibited": {4: "icmp-host-prohibited"},
    "icmp-admin-prohibited": {4: "icmp-admin-prohibited"},
    "icmp6-port-unreachable": {6: "icmp6-port-unreachable"},
    "icmp6-addr-unreachable": {6: "icmp6-addr-unreachable"},
    "icmp6-no-route": {6: "icmp6-no-route"},
    "icmp6-adm-prohibited": {6: "icmp6-adm-prohibited"},
    "icmp6-policy-fail": {6: "icmp6-policy-fail"},
    "icmp6-reject-route": {6: "icmp6-reject-route"},
}

DEFAULT_REJECT = {4: "icmp-port-unreachable", 6: "icmp6-port-unreachable"}
