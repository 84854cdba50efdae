"""A compiled policy does what it says, shown with real packets.

Two throwaway network namespaces joined by a veth pair: the *server* loads the compiled
rules with iptables-restore / ip6tables-restore and listens on TCP ports (one dual-stack
socket per port); the *client* connects to each port over IPv4 and IPv6. Ports the policy
allows must connect; every other port must time out (the INPUT policy drops), and a rule
restricted to one family's addresses must open the port in that family only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from conftest import need_root, need_tool
from fwc.cli import main

pytestmark = pytest.mark.system

SERVER4, CLIENT4 = "10.99.0.2", "10.99.0.1"
SERVER6, CLIENT6 = "fd00:99::2", "fd00:99::1"

POLICY = """\
# The host under test: SSH and a web port for everyone, one port per family.
policy input drop
policy forward drop
policy output accept
allow loopback
allow established
drop invalid
allow icmp essential
allow tcp 22, 8080
allow tcp 7000 from 10.99.0.0/24
allow tcp 7001 from fd00:99::/64
"""
PORTS = (22, 8080, 7000, 7001, 9090)
EXPECTED = {
    (4, 22): True, (6, 22): True,
    (4, 8080): True, (6, 8080): True,
    (4, 7000): True, (6, 7000): False,
    (4, 7001): False, (6, 7001): True,
    (4, 9090): False, (6, 9090): False,
}

SERVER = textwrap.dedent("""
    import socket, sys, threading
    def serve(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port)); s.listen(16)
        while True:
            conn, _ = s.accept(); conn.close()
    for port in map(int, sys.argv[1:]):
        threading.Thread(target=serve, args=(port,), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
""")

CLIENT = textwrap.dedent("""
    import json, socket, sys
    results = {}
    for target in sys.argv[1:]:
        host, port = target.rsplit(",", 1)
        try:
            socket.create_connection((host, int(port)), timeout=0.6).close()
            results[target] = True
        except OSError:
            results[target] = False
    print(json.dumps(results))
""")


def ns(name: str, *argv: str, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(["ip", "netns", "exec", name, *argv], **kw)


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture
def client_ns(netns):
    """A second namespace joined to ``netns`` (the server) by a veth pair, addressed for
    IPv4 and IPv6 (no duplicate address detection, so IPv6 is usable at once)."""
    need_root()
    name = f"fwc-client-{uuid.uuid4().hex[:8]}"
    sh("ip", "netns", "add", name)
    try:
        veth = f"fwc{uuid.uuid4().hex[:8]}"
        sh("ip", "link", "add", veth, "netns", name, "type", "veth", "peer", "name", "eth0",
           "netns", netns.name)
        for space, dev, v4, v6 in ((name, veth, CLIENT4, CLIENT6),
                                   (netns.name, "eth0", SERVER4, SERVER6)):
            sh("ip", "netns", "exec", space, "ip", "link", "set", dev, "up")
            sh("ip", "netns", "exec", space, "ip", "link", "set", "lo", "up")
            sh("ip", "netns", "exec", space, "ip", "addr", "add", f"{v4}/24", "dev", dev)
            sh("ip", "netns", "exec", space, "ip", "-6", "addr", "add", f"{v6}/64", "dev", dev,
               "nodad")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def compile_rules(tmp_path, monkeypatch, emit: str) -> str:
    policy = tmp_path / "host.fw"
    policy.write_text(POLICY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / f"{emit}.rules"
    assert main(["compile", str(policy), "--emit", emit, "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def probe(client: str, targets: list[tuple[int, int]]) -> dict[tuple[int, int], bool]:
    hosts = {4: SERVER4, 6: SERVER6}
    argv = [f"{hosts[family]},{port}" for family, port in targets]
    done = ns(client, sys.executable, "-c", CLIENT, *argv)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    return {target: answers[arg] for target, arg in zip(targets, argv)}


def test_allowed_ports_connect_and_others_do_not_ipv4_and_ipv6(netns, client_ns, tmp_path,
                                                              monkeypatch):
    need_tool("iptables-restore", "ip6tables-restore")
    server = subprocess.Popen(["ip", "netns", "exec", netns.name, sys.executable, "-c", SERVER,
                               *map(str, PORTS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        targets = sorted(EXPECTED)
        # Without a firewall every port answers: the closed ones below are the policy's doing.
        assert probe(client_ns, targets) == {t: True for t in targets}
        for family, tool in ((4, "iptables-restore"), (6, "ip6tables-restore")):
            text = compile_rules(tmp_path, monkeypatch, "iptables" if family == 4 else "ip6tables")
            loaded = netns([tool], input=text)
            assert loaded.returncode == 0, loaded.stderr
        time.sleep(0.1)
        assert probe(client_ns, targets) == EXPECTED
    finally:
        server.stdin.close()
        server.terminate()
        server.wait(timeout=5)
