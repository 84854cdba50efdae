"""fwc's chain walk against the kernel's, packet by packet.

Random filter rulesets (user chains, jumps and gotos, RETURN, negations, address and
port ranges, ``-m iprange``, multiport, interfaces with ``+``, conntrack states, ICMP
types, TCP flags, LOG and counting rules) are loaded with iptables-restore in a scratch
namespace "fw".
A second namespace "tx" is joined to it by a veth pair and sends hand-built Ethernet
frames (TCP SYN, UDP, ICMP echo request: the first packet of a flow, so conntrack says
NEW) from spoofed sources to addresses "fw" treats as local (an AnyIP route), so each
packet walks fw's INPUT chain.

Packets go in batches of ten. Packet ``j`` of a batch is ``BASE_LEN + 2**j`` bytes
long, so a rule's byte counter says exactly which packets of the batch it counted. fwc
predicts, from its own walk, each rule's and each policy's packet and byte counts; the
test reads ``iptables-save -c`` after the batch and demands the same numbers. The first
batch that differs is replayed packet by packet to name the packet, the rule and both
verdicts. A sample of packets also goes through the real ``fwc query --format json``.
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
import struct
import subprocess
import sys
import time
import uuid
from contextlib import redirect_stdout
from io import StringIO

import pytest

from conftest import need_root, need_tool
from fwc.analysis.chains import evaluate, target_kind
from fwc.analysis.compile import ICMP4, ICMP6, TCP, UDP
from fwc.analysis.packet import Packet
from fwc.backends.iptables_restore import render
from fwc.model import (Addr, Chain, Icmp, Iface, Match, Ports, Proto, Rule, Ruleset, State,
                       Table, Target, TcpFlags)

pytestmark = pytest.mark.system

RULESETS_PER_FAMILY = 55
PACKETS_PER_RULESET = 40
BATCH = 10
BASE_LEN = 100
IFACE = "vfw0"
LOCAL = {4: "10.0.0.0/8", 6: "fd00::/16"}
HOT_DST = {4: ["10.1.2.3", "10.1.2.200", "10.200.0.1", "10.1.3.4"],
           6: ["fd00::1", "fd00::1:2", "fd00:1::5", "fd00:ffff::9"]}
HOT_SRC = {4: ["192.0.2.10", "192.0.2.200", "198.51.100.7", "100.64.1.1", "203.0.113.99"],
           6: ["2001:db8::10", "2001:db8::ff", "2001:db8:1::1", "2001:db8:ab::7", "3fff::1"]}
HOT_PORTS = [22, 53, 80, 443, 1024, 8080, 65535, 0, 1]
IFACE_NAMES = ["vfw0", "vfw+", "v+", "eth0", "lo", "vfw1"]
STATES = ["NEW", "ESTABLISHED", "RELATED", "INVALID"]
FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG"]

SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    line = line.strip()
    if line:
        for frame in line.split(","):
            s.send(bytes.fromhex(frame))
    sys.stdout.write("sent\n")
    sys.stdout.flush()
"""


# --------------------------------------------------------------------------- random rules


def _net(rng: random.Random, family: int, hot: list[str]) -> ipaddress._BaseNetwork:
    bits = 32 if family == 4 else 128
    addr = ipaddress.ip_address(rng.choice(hot))
    prefix = rng.choice([8, 16, 24, 30, 32] if family == 4 else [16, 32, 48, 64, 112, 128])
    return ipaddress.ip_network(f"{addr}/{prefix}", strict=False) if prefix < bits else \
        ipaddress.ip_network(f"{addr}/{bits}")


def _range(rng: random.Random, family: int, hot: list[str]):
    a = int(ipaddress.ip_address(rng.choice(hot)))
    lo, hi = sorted((a - rng.randrange(0, 300), a + rng.randrange(0, 300)))
    cls = ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address
    return (cls(lo), cls(hi))


def _ports(rng: random.Random) -> tuple[int, int]:
    a = rng.choice(HOT_PORTS)
    if rng.random() < 0.5:
        return (a, a)
    lo, hi = sorted((a, rng.choice(HOT_PORTS)))
    return (lo, hi) if (lo, hi) != (0, 65535) else (0, 65534)


def random_conds(rng: random.Random, family: int) -> list:
    conds = []
    if rng.random() < 0.4:
        conds.append(Addr("src", _net(rng, family, HOT_SRC[family]), negated=rng.random() < 0.15))
    if rng.random() < 0.4:
        conds.append(Addr("dst", _net(rng, family, HOT_DST[family]), negated=rng.random() < 0.15))
    if rng.random() < 0.15:  # -m iprange: arbitrary first-last ranges, not prefixes
        field = rng.choice(["src", "dst"])
        hot = HOT_SRC[family] if field == "src" else HOT_DST[family]
        conds.append(Addr(field, _range(rng, family, hot), negated=rng.random() < 0.2,
                          module="iprange"))
    if rng.random() < 0.2:
        conds.append(Iface("in", rng.choice(IFACE_NAMES), negated=rng.random() < 0.3))
    proto = rng.choice(["tcp", "udp", "icmp", None, None])
    if proto == "icmp" and family == 6:
        proto = "ipv6-icmp"
    if proto:
        conds.append(Proto(proto, negated=proto is not None and rng.random() < 0.05))
    negated_proto = bool(conds and isinstance(conds[-1], Proto) and conds[-1].negated)
    if proto in ("tcp", "udp") and not negated_proto:
        style = rng.random()
        if style < 0.35:
            field = rng.choice(["sport", "dport", "dport"])
            conds.append(Ports(field, (_ports(rng),), negated=rng.random() < 0.2, module=proto))
        elif style < 0.55:
            ranges = sorted({_ports(rng) for _ in range(rng.randint(1, 4))})
            merged = []
            for lo, hi in ranges:  # multiport wants non-overlapping items; keep it simple
                if merged and lo <= merged[-1][1]:
                    continue
                merged.append((lo, hi))
            conds.append(Ports(rng.choice(["sport", "dport", "ports"]), tuple(merged),
                               negated=rng.random() < 0.2, module="multiport"))
        if proto == "tcp" and rng.random() < 0.25:
            mask = frozenset(rng.sample(FLAGS, rng.randint(1, 4)))
            comp = frozenset(f for f in mask if rng.random() < 0.5)
            conds.append(TcpFlags(mask, comp, negated=rng.random() < 0.3, module="tcp"))
    if proto in ("icmp", "ipv6-icmp") and not negated_proto and rng.random() < 0.5:
        version = 4 if proto == "icmp" else 6
        echo = 8 if version == 4 else 128
        kind = rng.choice([echo, echo, 0 if version == 4 else 129, 3 if version == 4 else 1])
        code = rng.choice([None, None, 0, 1])
        conds.append(Icmp(version, kind, code, negated=rng.random() < 0.2,
                          module="icmp" if version == 4 else "icmp6"))
    if rng.random() < 0.25:
        states = frozenset(rng.sample(STATES, rng.randint(1, 2)))
        conds.append(State(states, negated=rng.random() < 0.25, module="conntrack"))
    return conds


def random_target(rng: random.Random, family: int, callees: list[str], builtin: bool) -> Target | None:
    roll = rng.random()
    if roll < 0.25:
        return Target("ACCEPT")
    if roll < 0.45:
        return Target("DROP")
    if roll < 0.50:
        return Target("REJECT", ("--reject-with", "icmp-port-unreachable" if family == 4
                                 else "icmp6-port-unreachable"))
    if roll < 0.60:
        return Target("RETURN")
    if roll < 0.65:
        return Target("LOG", ("--log-prefix", "fwc-diff "))
    if roll < 0.70:
        return None
    if callees:
        return Target(rng.choice(callees), goto=rng.random() < 0.25)
    return Target("ACCEPT")


def random_ruleset(rng: random.Random, family: int) -> Ruleset:
    users = [f"U{i}" for i in range(rng.randint(0, 3))]
    chains = []
    for position, name in enumerate(["INPUT"] + users):
        callees = users[position:] if name != "INPUT" else users  # no loops: only forward
        callees = [c for c in callees if c != name]
        count = rng.randint(3, 12) if name == "INPUT" else rng.randint(0, 6)
        body = tuple(Rule(name, Match(tuple(random_conds(rng, family))),
                          random_target(rng, family, callees, name == "INPUT"))
                     for _ in range(count))
        chains.append(Chain(name, rng.choice(["ACCEPT", "DROP"]) if name == "INPUT" else None, body))
    chains[1:1] = [Chain("FORWARD", "ACCEPT"), Chain("OUTPUT", "ACCEPT")]
    return Ruleset(family, (Table("filter", tuple(chains)),))


def interesting_packets(rng: random.Random, family: int, count: int, first_port: int) -> list[Packet]:
    out = []
    for k in range(count):
        proto = rng.choice([TCP, TCP, UDP, ICMP4 if family == 4 else ICMP6])
        src = int(ipaddress.ip_address(rng.choice(HOT_SRC[family]))) + rng.choice([0, 0, 1, -1, 5])
        dst = int(ipaddress.ip_address(rng.choice(HOT_DST[family]))) + rng.choice([0, 0, 1, 2])
        dport = rng.choice(HOT_PORTS[:7] + [rng.randrange(1, 65536)])
        # A fresh source port (or ICMP id) per packet: every packet starts a new flow.
        sport = first_port + k
        icmp = (8 if family == 4 else 128) * 256
        out.append(Packet(family=family, proto=proto, src=src, dst=dst, sport=sport, dport=dport,
                          iif=IFACE, state=2, icmp=icmp, flags=2))
    return out


# --------------------------------------------------------------------------- frames


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def l4_bytes(p: Packet, length: int, pseudo: bytes) -> bytes:
    if p.proto == TCP:
        header = struct.pack("!HHIIBBHHH", p.sport, p.dport, 1, 0, 5 << 4, p.flags, 64240, 0, 0)
        payload = b"\0" * (length - len(header))
        seg = header + payload
        csum = _checksum(pseudo + seg)
        return seg[:16] + struct.pack("!H", csum) + seg[18:]
    if p.proto == UDP:
        size = length
        seg = struct.pack("!HHHH", p.sport, p.dport, size, 0) + b"\0" * (size - 8)
        csum = _checksum(pseudo + seg) or 0xFFFF
        return seg[:6] + struct.pack("!H", csum) + seg[8:]
    kind, code = p.icmp >> 8, p.icmp & 255
    seg = struct.pack("!BBHHH", kind, code, 0, p.sport & 0xFFFF, 1) + b"\0" * (length - 8)
    csum = _checksum((pseudo if p.family == 6 else b"") + seg)
    return seg[:2] + struct.pack("!H", csum) + seg[4:]


def frame(p: Packet, total: int, dst_mac: bytes, src_mac: bytes) -> bytes:
    if p.family == 4:
        l4_len = total - 20
        src, dst = p.src.to_bytes(4, "big"), p.dst.to_bytes(4, "big")
        pseudo = src + dst + struct.pack("!BBH", 0, p.proto, l4_len)
        body = l4_bytes(p, l4_len, pseudo)
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, p.proto, 0, src, dst)
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return dst_mac + src_mac + b"\x08\x00" + header + body
    l4_len = total - 40
    src, dst = p.src.to_bytes(16, "big"), p.dst.to_bytes(16, "big")
    pseudo = src + dst + struct.pack("!I3xB", l4_len, p.proto)
    body = l4_bytes(p, l4_len, pseudo)
    header = struct.pack("!IHBB16s16s", 6 << 28, l4_len, p.proto, 64, src, dst)
    return dst_mac + src_mac + b"\x86\xdd" + header + body


# --------------------------------------------------------------------------- the lab


class Lab:
    """Two namespaces and a veth pair; "tx" sends frames, "fw" filters them."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.fw, self.tx = f"fwc-fw-{tag}", f"fwc-tx-{tag}"
        for ns in (self.fw, self.tx):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        self.sh(self.fw, f"""
            ip link set lo up
            ip link add {IFACE} type veth peer name tx0 netns {self.tx}
            sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
            sysctl -qw net.ipv4.conf.{IFACE}.rp_filter=0
            sysctl -qw net.ipv6.conf.{IFACE}.accept_dad=0 net.ipv6.conf.{IFACE}.accept_ra=0
            ip link set {IFACE} up
            ip route add local {LOCAL[4]} dev lo
            ip -6 route add local {LOCAL[6]} dev lo
        """)
        self.sh(self.tx, """
            sysctl -qw net.ipv6.conf.all.disable_ipv6=1
            ip link set tx0 up
        """)
        self.fw_mac = bytes.fromhex(self._mac(self.fw, IFACE))
        self.tx_mac = bytes.fromhex(self._mac(self.tx, "tx0"))
        self.sender = subprocess.Popen(["ip", "netns", "exec", self.tx, sys.executable, "-c", SENDER, "tx0"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)  # let link-up chatter (IPv6 autoconf) pass before counting

    def sh(self, ns: str, script: str) -> None:
        for line in filter(None, (l.strip() for l in script.splitlines())):
            subprocess.run(["ip", "netns", "exec", ns, *line.split()], check=True)

    def _mac(self, ns: str, dev: str) -> str:
        out = subprocess.run(["ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/address"],
                             check=True, capture_output=True, text=True).stdout
        return out.strip().replace(":", "")

    def close(self) -> None:
        self.sender.stdin.close()
        self.sender.wait(timeout=5)
        for ns in (self.fw, self.tx):
            subprocess.run(["ip", "netns", "del", ns], check=False)

    def load(self, ruleset: Ruleset) -> None:
        tool = "iptables-restore" if ruleset.family == 4 else "ip6tables-restore"
        text = render(ruleset, source_name="differential")
        done = subprocess.run(["ip", "netns", "exec", self.fw, tool], input=text, text=True,
                              capture_output=True)
        assert done.returncode == 0, f"{tool} refused:\n{text}\n{done.stderr}"

    def counters(self, family: int) -> dict[tuple[str, int], tuple[int, int]]:
        """(chain, 1-based rule index or 0 for the policy) -> (packets, bytes)."""
        tool = "iptables-save" if family == 4 else "ip6tables-save"
        out = subprocess.run(["ip", "netns", "exec", self.fw, tool, "-c", "-t", "filter"],
                             check=True, capture_output=True, text=True).stdout
        found: dict = {}
        index: dict[str, int] = {}
        for line in out.splitlines():
            m = re.match(r"^:(\S+) (\S+) \[(\d+):(\d+)\]", line)
            if m and m.group(2) != "-":
                found[(m.group(1), 0)] = (int(m.group(3)), int(m.group(4)))
            m = re.match(r"^\[(\d+):(\d+)\] -A (\S+)", line)
            if m:
                chain = m.group(3)
                index[chain] = index.get(chain, 0) + 1
                found[(chain, index[chain])] = (int(m.group(1)), int(m.group(2)))
        return found

    def send(self, frames: list[bytes]) -> None:
        self.sender.stdin.write(",".join(f.hex() for f in frames) + "\n")
        self.sender.stdin.flush()
        assert self.sender.stdout.readline().strip() == "sent"


def expected_hits(ruleset: Ruleset, packet: Packet) -> tuple[str, list[tuple[str, int]]]:
    """fwc's verdict and every counter the packet moves (rules on its path, the policy)."""
    table = ruleset.tables[0]
    outcome = evaluate(packet, table, "INPUT", ruleset.family)
    hits = [(s.chain, s.index) for s in outcome.steps if s.action != "return"]
    return outcome.verdict, hits


def _diff(before: dict, after: dict) -> dict:
    return {k: (after[k][0] - before.get(k, (0, 0))[0], after[k][1] - before.get(k, (0, 0))[1])
            for k in after if after[k] != before.get(k, (0, 0))}


def _wait_for(lab: Lab, family: int, before: dict, decided: int) -> dict:
    """Counters once every packet of the batch has been decided (rule or policy)."""
    deadline = time.monotonic() + 2.0
    while True:
        after = lab.counters(family)
        delta = _diff(before, after)
        if sum(p for (chain, i), (p, _) in delta.items() if chain == "INPUT" and i == 0) + \
                _terminal_count(lab.current, delta) >= decided or time.monotonic() > deadline:
            return delta
        time.sleep(0.005)


def _terminal_count(ruleset: Ruleset, delta: dict) -> int:
    table = ruleset.tables[0]
    total = 0
    for (chain, i), (packets, _) in delta.items():
        if i == 0:
            continue
        rule = table.chain(chain).rules[i - 1]
        if target_kind(rule, table) in ("ACCEPT", "DROP", "REJECT"):
            total += packets
    return total


def _describe(ruleset: Ruleset, packet: Packet, kernel: dict, predicted: dict) -> str:
    text = render(ruleset, source_name="differential")
    verdict, hits = expected_hits(ruleset, packet)
    return (f"packet {packet}\nfwc: {verdict} via {hits}\nkernel counters moved: "
            f"{sorted(kernel)}\nfwc predicted: {sorted(predicted)}\nruleset:\n{text}")


@pytest.fixture(scope="module")
def lab():
    need_root()
    need_tool("ip", "sysctl", "iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save")
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()


def _fwc_query(path: str, packet: Packet) -> dict:
    from fwc.cli import main

    buf = StringIO()
    with redirect_stdout(buf):
        code = main(["query", path, "--packet", str(packet), "--format", "json"])
    assert code == 0
    return json.loads(buf.getvalue())


@pytest.mark.parametrize("family", [4, 6])
def test_fwc_walks_packets_like_the_kernel(lab, family, tmp_path):
    rng = random.Random(20251125 + family)
    checked = 0
    for n in range(RULESETS_PER_FAMILY):
        ruleset = random_ruleset(rng, family)
        lab.load(ruleset)
        lab.current = ruleset
        packets = interesting_packets(rng, family, PACKETS_PER_RULESET, 1000 + n * 100)
        for start in range(0, len(packets), BATCH):
            batch = packets[start:start + BATCH]
            predicted: dict = {}
            for j, packet in enumerate(batch):
                for key in expected_hits(ruleset, packet)[1]:
                    p, b = predicted.get(key, (0, 0))
                    predicted[key] = (p + 1, b + BASE_LEN + 2 ** j)
            before = lab.counters(family)
            lab.send([frame(p, BASE_LEN + 2 ** j, lab.fw_mac, lab.tx_mac) for j, p in enumerate(batch)])
            kernel = _wait_for(lab, family, before, len(batch))
            if kernel != predicted:
                for packet in batch:  # replay one by one to name the packet that differs
                    before = lab.counters(family)
                    lab.send([frame(packet, BASE_LEN + 1, lab.fw_mac, lab.tx_mac)])
                    alone = {k: v[0] for k, v in _wait_for(lab, family, before, 1).items()}
                    want = {k: 1 for k in expected_hits(ruleset, packet)[1]}
                    assert alone == want, _describe(ruleset, packet, alone, want)
                pytest.fail(f"batch differs but no single packet does:\n{kernel}\n{predicted}")
            checked += len(batch)
        if n % 10 == 0:  # the real command, on the rules text, for a few packets
            path = tmp_path / f"rules.v{family}"
            path.write_text(render(ruleset, source_name="differential"))
            for packet in packets[:3]:
                report = _fwc_query(str(path), packet)
                verdict, hits = expected_hits(ruleset, packet)
                assert report["verdict"] == verdict
                decided = report["decided_by"]
                assert (decided["chain"], decided["index"]) == hits[-1]
    assert checked >= 2000


@pytest.mark.parametrize("family", [4, 6])
def test_set_walk_agrees_with_the_packet_walk(family):
    """The set walk behind FW104/FW301 (no kernel needed): a one-packet set ends in exactly
    one decision, the packet walk's verdict, in both modes (no rule here is opaque)."""
    from fwc.analysis import space as sp
    from fwc.analysis.chains import traverse

    rng = random.Random(7 + family)
    for n in range(30):
        ruleset = random_ruleset(rng, family)
        table = ruleset.tables[0]
        for packet in interesting_packets(rng, family, 20, 1000):
            point = tuple(((v, v),) for v in packet.values())
            verdict, hits = expected_hits(ruleset, packet)
            for mode in ("may", "must"):
                records = [r for r in traverse(table, "INPUT", [point], family, mode).records
                           if sp.overlaps(r.space, [point])]
                assert [(r.chain, r.index, r.verdict) for r in records] == \
                    [(*hits[-1], verdict)], (mode, str(packet))
