"""The nftables output against the iptables output of the same policy, packet by packet.

For each policy, two fresh namespace pairs are built the same way: "fw" (interfaces
eth0 and eth1, addresses it treats as local through an AnyIP route) and "tx" joined to
it by veth pairs. One "fw" loads the iptables-restore and ip6tables-restore texts, the
other the nft text. "tx" sends the same hand-built frames to both: TCP SYNs, UDP
datagrams and ICMP/ICMPv6 messages from several sources, on both interfaces, each with
its own source port (or ICMP id), so each is a new flow and can be told apart.

An observer table, loaded in "fw" beside the rules under test, records each packet's
fate by that id: one that gets through the filter's input hook is caught at a later
priority (accepted), a TCP reset or ICMP unreachable leaving "fw" names the packet it
answers (rejected, and with which reply: reset, port-unreachable, admin-prohibited or
another unreachable code); the rest were dropped. "fw" also sends packets of its own
through raw sockets, which walk its OUTPUT chain; the observer's output hook, at a later
priority, sees the ones the filter let out. The observer drops what it caught, so the
host's own stack never answers and muddles the picture. Both runs must give every packet
the same fate, in IPv4 and IPv6.
"""

from __future__ import annotations

import ipaddress
import json
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import need_root, need_tool
from fwc.parse.policy import load_policy
from fwc.wrappers import Build

pytestmark = pytest.mark.system

HERE = Path(__file__).resolve().parent
COMPILE = HERE.parent / "compile"
POLICIES = [HERE / "data" / "nft-differential.fw",
            COMPILE / "targets-mixed" / "policy.fw",
            COMPILE / "seed-coreos" / "policy.fw",
            COMPILE / "etcd-cluster" / "policy.fw"]
IFACES = ("eth0", "eth1")
LOCAL = {4: ("100.64.0.0/16", "100.64.0.1"), 6: ("fd99::/64", "fd99::1")}
SOURCES = {4: ["198.51.100.7", "10.1.2.3", "192.168.4.5", "203.0.113.9", "192.0.2.44",
               "172.17.8.101"],
           6: ["2001:db8::5", "2001:db8:1::9", "fd00::7", "fd00:1::1", "2001:db8:ffff::1"]}
PORTS = [22, 23, 25, 53, 69, 70, 71, 80, 443, 1500, 2222, 2379, 2380, 3005, 4000, 4001,
         5353, 8080, 9999, 60500]
OUTGOING_EXTRA = {4: ["198.51.100.25"], 6: ["2001:db8:1::25"]}  # targets-mixed's mail relay
ICMP_TYPES = {4: [0, 3, 8, 11, 12, 13, 5], 6: [1, 2, 3, 4, 128, 129, 133, 135, 136, 143, 137]}
TCP, UDP, ICMP = 6, 17, {4: 1, 6: 58}
FIRST_ID = 30000  # packet ids (source ports, ICMP ids) stay clear of the probed ports

# Sends IP packets from "fw" itself, through its OUTPUT chain.
LOCAL_SENDER = r"""
import socket, sys
socks = {4: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW),
         6: socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)}
for line in sys.stdin:
    family, dst, packet = line.split()
    try:
        socks[int(family)].sendto(bytes.fromhex(packet), (dst, 0))
    except PermissionError:  # what a local sender sees when OUTPUT drops its packet
        pass
"""

SENDER = r"""
import socket, sys
socks = {}
for line in sys.stdin:
    iface, frame = line.split()
    if iface not in socks:
        socks[iface] = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        socks[iface].bind((iface, 0))
    socks[iface].send(bytes.fromhex(frame))
"""

FATES = ("accept", "reset", "port-unreachable", "admin-prohibited", "other-unreachable",
         "sent")


def set_name(fate: str) -> str:
    return "seen_" + fate.replace("-", "_")  # nft keywords (accept, reset) are no set names


def observer(ifaces=IFACES) -> str:
    """The observer table: a set of packet ids per fate."""
    sets = "".join(f"\tset {set_name(name)} {{ type inet_service; flags dynamic; "
                   "size 65535; }\n" for name in FATES)
    # An ICMP error quotes the packet it answers: its source port (or ICMP id) sits after
    # the 8-byte ICMP header and the quoted IP header (20 bytes, 40 for IPv6).
    quoted = {"icmp": "@th,224,16 } add @SET { @th,256,16",
              "icmpv6": "@th,384,16 } add @SET { @th,416,16"}
    unreachable = ""
    for proto, codes in (("icmp", ("port-unreachable", "admin-prohibited")),
                         ("icmpv6", ("port-unreachable", "admin-prohibited"))):
        for code in codes:
            name = set_name(code)
            unreachable += (f"\t\t{proto} type destination-unreachable {proto} code {code} "
                            f"add @{name} {{ {quoted[proto].replace('SET', name)} }} drop\n")
        unreachable += (f"\t\t{proto} type destination-unreachable add @seen_other_unreachable "
                        f"{{ {quoted[proto].replace('SET', set_name('other-unreachable'))} }} drop\n")
    names = ", ".join(f'"{name}"' for name in ifaces)
    return f"""table inet observe {{
{sets}\tchain arrive {{
\t\ttype filter hook prerouting priority -400; policy accept;
\t\tiifname {{ {names} }} counter
\t}}
\tchain caught {{
\t\ttype filter hook input priority 100; policy accept;
\t\tiifname "lo" accept
\t\tmeta l4proto {{ tcp, udp }} add @seen_accept {{ th sport }} drop
\t\tmeta l4proto {{ icmp, ipv6-icmp }} add @seen_accept {{ @th,32,16 }} drop
\t\tdrop
\t}}
\tchain answered {{
\t\ttype filter hook output priority 100; policy accept;
\t\toifname != {{ {names} }} accept
\t\ttcp flags & rst == rst add @seen_reset {{ th dport }} drop
{unreachable}\t\tmeta l4proto {{ tcp, udp }} add @seen_sent {{ th sport }} drop
\t\tmeta l4proto {{ icmp, ipv6-icmp }} add @seen_sent {{ @th,32,16 }} drop
\t\tdrop
\t}}
}}
"""


# --------------------------------------------------------------------------- packets


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def l4_segment(family: int, proto: int, ident: int, port: int, icmp_type: int,
               pseudo: bytes) -> bytes:
    if proto == TCP:
        seg = struct.pack("!HHIIBBHHH", ident, port, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
        return seg[:16] + struct.pack("!H", checksum(pseudo + seg)) + seg[18:]
    if proto == UDP:
        seg = struct.pack("!HHHH", ident, port, 8 + 32, 0) + b"\0" * 32
        return seg[:6] + struct.pack("!H", checksum(pseudo + seg) or 0xFFFF) + seg[8:]
    seg = struct.pack("!BBHHH", icmp_type, 0, 0, ident, 1) + b"\0" * 32
    return seg[:2] + struct.pack("!H", checksum((pseudo if family == 6 else b"") + seg)) + seg[4:]


def frame(family: int, proto: int, src: str, dst: str, ident: int, port: int, icmp_type: int,
          dst_mac: bytes, src_mac: bytes) -> bytes:
    s = ipaddress.ip_address(src).packed
    d = ipaddress.ip_address(dst).packed
    if family == 4:
        body_len = {TCP: 20, UDP: 40}.get(proto, 40)
        pseudo = s + d + struct.pack("!BBH", 0, proto, body_len)
        body = l4_segment(4, proto, ident, port, icmp_type, pseudo)
        head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, 0, 64, proto, 0, s, d)
        head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
        return dst_mac + src_mac + b"\x08\x00" + head + body
    body_len = {TCP: 20, UDP: 40}.get(proto, 40)
    pseudo = s + d + struct.pack("!I3xB", body_len, proto)
    body = l4_segment(6, proto, ident, port, icmp_type, pseudo)
    head = struct.pack("!IHBB16s16s", 6 << 28, len(body), proto, 64, s, d)
    return dst_mac + src_mac + b"\x86\xdd" + head + body


def probes(family: int) -> list[dict]:
    """Every packet sent: its id, what it is, and the interface it arrives on."""
    found = []
    for iface in IFACES:
        for src in SOURCES[family]:
            for proto in (TCP, UDP):
                for port in PORTS:
                    found.append({"family": family, "iface": iface, "src": src,
                                  "dst": LOCAL[family][1], "proto": proto, "port": port,
                                  "icmp": 0})
            for icmp_type in ICMP_TYPES[family]:
                found.append({"family": family, "iface": iface, "src": src,
                              "dst": LOCAL[family][1], "proto": ICMP[family], "port": 0,
                              "icmp": icmp_type})
    return numbered(found)


def outgoing_probes(family: int, first: int) -> list[dict]:
    """Packets "fw" sends itself (its OUTPUT chain): to each remote address and port,
    through eth0 or, for the routes set up to 198.51.100.0/24 and 2001:db8:1::/48, eth1."""
    found = []
    for dst in SOURCES[family] + OUTGOING_EXTRA[family]:
        for proto in (TCP, UDP):
            for port in PORTS:
                found.append({"family": family, "src": LOCAL[family][1], "dst": dst,
                              "proto": proto, "port": port, "icmp": 0})
        found.append({"family": family, "src": LOCAL[family][1], "dst": dst,
                      "proto": ICMP[family], "port": 0, "icmp": 8 if family == 4 else 128})
    for i, packet in enumerate(found):
        packet["id"] = first + i
    return found


def numbered(packets: list[dict]) -> list[dict]:
    for i, packet in enumerate(packets):
        packet["id"] = FIRST_ID + i
    return packets


# --------------------------------------------------------------------------- the lab


class Lab:
    """A "fw" namespace with two interfaces, a "tx" namespace sending frames into them."""

    def __init__(self, ifaces=IFACES, local=LOCAL):
        tag = uuid.uuid4().hex[:6]
        self.fw, self.tx = f"fwc-nfw-{tag}", f"fwc-ntx-{tag}"
        for ns in (self.fw, self.tx):
            run(["ip", "netns", "add", ns])
        self.sh(self.fw, "ip link set lo up",
                "sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0",
                "sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0",
                "sysctl -qw net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000",
                "sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.accept_ra=0")
        self.macs = {}
        for i, iface in enumerate(ifaces):
            peer = f"t{i}"
            self.sh(self.fw, f"ip link add {iface} type veth peer name {peer} netns {self.tx}",
                    f"sysctl -qw net.ipv4.conf.{iface}.rp_filter=0",
                    f"ip link set {iface} up")
            self.sh(self.tx, f"ip link set {peer} up")
            self.macs[iface] = (self.mac(self.fw, iface), self.mac(self.tx, peer), peer)
        self.sh(self.fw, f"ip route add local {local[4][0]} dev lo",
                f"ip -6 route add local {local[6][0]} dev lo",
                f"ip route add default dev {ifaces[0]}", f"ip -6 route add default dev {ifaces[0]}",
                f"ip route add 198.51.100.0/24 dev {ifaces[1]}",
                f"ip -6 route add 2001:db8:1::/48 dev {ifaces[1]}")
        self.ifaces = ifaces
        self.sh(self.tx, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1")

    def sh(self, ns: str, *commands: str) -> None:
        for command in commands:
            run(["ip", "netns", "exec", ns, *command.split()])

    def mac(self, ns: str, dev: str) -> bytes:
        text = run(["ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/address"])
        return bytes.fromhex(text.strip().replace(":", ""))

    def load(self, tool: list[str], text: str) -> None:
        done = subprocess.run(["ip", "netns", "exec", self.fw, *tool], input=text, text=True,
                              capture_output=True)
        assert done.returncode == 0, f"{' '.join(tool)} refused:\n{text}\n{done.stderr}"

    def fates(self, packets: list[dict], outgoing: list[dict] = ()) -> dict[int, str]:
        """Each packet's fate: ``packets`` arrive from "tx", ``outgoing`` leave "fw"."""
        lines = []
        for p in packets:
            fw_mac, tx_mac, peer = self.macs[p["iface"]]
            data = frame(p["family"], p["proto"], p["src"], p["dst"], p["id"], p["port"],
                         p["icmp"], fw_mac, tx_mac)
            lines.append(f"{peer} {data.hex()}\n")
        subprocess.run(["ip", "netns", "exec", self.tx, sys.executable, "-c", SENDER],
                       input="".join(lines), text=True, check=True)
        self.send_from_fw(outgoing)
        self.wait_for_arrival(len(packets))
        time.sleep(0.2)  # resets and unreachables leave in the same softirq; be generous
        seen = {name: self.members(set_name(name)) for name in FATES}
        fates = {}
        for p in packets:
            names = [name for name in FATES if p["id"] in seen[name]]
            fates[p["id"]] = "/".join(names) or "drop"
        for p in outgoing:
            fates[p["id"]] = "sent" if p["id"] in seen["sent"] else "stopped"
        return fates

    def send_from_fw(self, packets: list[dict]) -> None:
        lines = []
        for p in packets:
            data = frame(p["family"], p["proto"], p["src"], p["dst"], p["id"], p["port"],
                         p["icmp"], b"\0" * 6, b"\0" * 6)[14:]  # no Ethernet header
            lines.append(f"{p['family']} {p['dst']} {data.hex()}\n")
        if lines:
            subprocess.run(["ip", "netns", "exec", self.fw, sys.executable, "-c", LOCAL_SENDER],
                           input="".join(lines), text=True, check=True)

    def wait_for_arrival(self, count: int) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            listing = json.loads(run(["ip", "netns", "exec", self.fw, "nft", "-j", "list",
                                      "chain", "inet", "observe", "arrive"]))
            packets = [e["rule"]["expr"][-1]["counter"]["packets"]
                       for e in listing["nftables"] if "rule" in e]
            if packets and packets[0] >= count:
                return
            time.sleep(0.02)
        pytest.fail(f"only {packets} of {count} frames arrived")

    def members(self, name: str) -> set[int]:
        listing = json.loads(run(["ip", "netns", "exec", self.fw, "nft", "-j", "list", "set",
                                  "inet", "observe", name]))
        for entry in listing["nftables"]:
            if "set" in entry:
                return {e for e in entry["set"].get("elem", []) if isinstance(e, int)}
        return set()

    def close(self) -> None:
        for ns in (self.fw, self.tx):
            subprocess.run(["ip", "netns", "del", ns], check=False)


def run(argv: list[str]) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def fates_under(backend: str, texts: dict[str, str], packets, outgoing=(), **lab_options
                ) -> dict[int, str]:
    lab = Lab(**lab_options)
    try:
        if backend == "iptables":
            lab.load(["iptables-restore"], texts["iptables"])
            lab.load(["ip6tables-restore"], texts["ip6tables"])
        else:
            lab.load(["nft", "-f", "-"], texts["nft"])
        lab.load(["nft", "-f", "-"], observer(lab.ifaces))
        return lab.fates(packets, outgoing)
    finally:
        lab.close()


def compiled(policy: Path) -> dict[str, str]:
    result = load_policy(str(policy))
    assert not result.diagnostics or all(d.severity < d.severity.ERROR for d in result.diagnostics)
    build = Build(policy.name, result.rulesets)
    return {name: build.output(name) for name in ("iptables", "ip6tables", "nft")}


def describe(packets, a: dict, b: dict) -> str:
    rows = [f"{p.get('iface', 'out')} {p['src']} > {p['dst']} proto {p['proto']} port {p['port']} icmp {p['icmp']}: "
            f"iptables {a[p['id']]}, nft {b[p['id']]}" for p in packets if a[p['id']] != b[p['id']]]
    return f"{len(rows)} packets differ:\n" + "\n".join(rows[:40])


@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.parent.name if p.name == "policy.fw"
                         else p.stem)
def test_nft_output_gives_every_packet_the_iptables_verdict(policy, family):
    need_root()
    need_tool("ip", "nft", "iptables-restore", "ip6tables-restore")
    texts = compiled(policy)
    packets = probes(family)
    outgoing = outgoing_probes(family, FIRST_ID + len(packets))
    under_iptables = fates_under("iptables", texts, packets, outgoing)
    under_nft = fates_under("nft", texts, packets, outgoing)
    assert under_nft == under_iptables, describe(packets + outgoing, under_iptables, under_nft)
    kinds = set(under_iptables.values())
    assert {"accept", "drop"} <= kinds, kinds  # the probes tell verdicts apart


# --------------------------------------------------------------------------- random rulesets

RANDOM_PAIRS = 8
RANDOM_IFACES = ("vfw0", "eth0")  # names the random rulesets use (with vfw+, v+, lo...)
RANDOM_LOCAL = {4: ("10.0.0.0/8", None), 6: ("fd00::/16", None)}


def random_probes(rng, kernel) -> list[dict]:
    """The random generator's interesting packets of both families, on both interfaces."""
    found = []
    for family in (4, 6):
        for packet in kernel.interesting_packets(rng, family, 40, 1000):
            for iface in RANDOM_IFACES:
                found.append({"family": family, "iface": iface,
                              "src": str(ipaddress.ip_address(packet.src)),
                              "dst": str(ipaddress.ip_address(packet.dst)),
                              "proto": packet.proto, "port": packet.dport,
                              "icmp": packet.icmp >> 8})
    return numbered(found)


def test_random_two_family_rulesets_merge_into_one_inet_table_exactly():
    """Random IPv4 and IPv6 rulesets (user chains, jumps, gotos, RETURN, negations, ranges,
    multiport, wildcard interfaces, states, ICMP, TCP flags, LOG) from the kernel
    differential test's generator, merged by the nft backend into one table."""
    need_root()
    need_tool("ip", "nft", "iptables-restore", "ip6tables-restore")
    import random

    import test_kernel_differential as kernel  # the shared random ruleset generator
    from fwc.backends import iptables_restore, nftables

    rng = random.Random(20251125)
    for n in range(RANDOM_PAIRS):
        rulesets = {family: kernel.random_ruleset(rng, family) for family in (4, 6)}
        texts = {"iptables": iptables_restore.render(rulesets[4], source_name="random"),
                 "ip6tables": iptables_restore.render(rulesets[6], source_name="random"),
                 "nft": nftables.render(rulesets, source_name="random")}
        packets = random_probes(rng, kernel)
        options = {"ifaces": RANDOM_IFACES, "local": RANDOM_LOCAL}
        under_iptables = fates_under("iptables", texts, packets, **options)
        under_nft = fates_under("nft", texts, packets, **options)
        assert under_nft == under_iptables, (
            f"pair {n}: " + describe(packets, under_iptables, under_nft) + "\n" + texts["nft"])
