"""The baseline checks' claims, shown with real packets.

For FW101, FW102 and FW106 the docstring's Example is loaded into a throwaway network
namespace (the *host*), joined by a veth pair to a second one (the *peer*): the traffic the
check says is dropped must really fail, and with the Use instead rules it must pass. The
lint side is asserted too (the Example fires, Use instead does not), so the check and the
kernel are compared on the same text.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from conftest import need_root, need_tool
from fwc.checks.base import load_checks
from fwc.config import Config
from fwc.lint import lint_document
from fwc.load import load_document
from fwc.ruledoc import example

pytestmark = pytest.mark.system

HOST4, PEER4 = "10.98.0.2", "10.98.0.1"
HOST6, PEER6 = "fd00:98::2", "fd00:98::1"

LISTEN = textwrap.dedent("""
    import socket, sys
    family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = s.accept(); conn.close()
""")
CONNECT = textwrap.dedent("""
    import socket, sys
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5).close()
        print("connected")
    except OSError as exc:
        print("failed", exc)
""")


def ns(name: str, *argv: str, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(["ip", "netns", "exec", name, *argv], **kw)


@pytest.fixture
def pair():
    """Two namespaces, host and peer, joined by a veth pair with IPv4 and IPv6 addresses."""
    need_root()
    need_tool("ip", "iptables-restore", "ip6tables-restore")
    tag = uuid.uuid4().hex[:6]
    host, peer = f"fwc-host-{tag}", f"fwc-peer-{tag}"
    servers: list[subprocess.Popen] = []
    for name in (host, peer):
        subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "link", "add", f"vh{tag}", "netns", host, "type", "veth",
                        "peer", "name", f"vp{tag}", "netns", peer], check=True)
        for name, dev, a4, a6 in ((host, f"vh{tag}", HOST4, HOST6), (peer, f"vp{tag}", PEER4, PEER6)):
            ns(name, "ip", "link", "set", "lo", "up", check=True)
            ns(name, "ip", "addr", "add", f"{a4}/24", "dev", dev, check=True)
            ns(name, "ip", "-6", "addr", "add", f"{a6}/64", "dev", dev, "nodad", check=True)
            ns(name, "ip", "link", "set", dev, "up", check=True)

        def listen(where: str, address: str, port: int) -> None:
            proc = subprocess.Popen(["ip", "netns", "exec", where, sys.executable, "-c", LISTEN, address,
                                     str(port)], stdout=subprocess.PIPE, text=True)
            servers.append(proc)
            assert proc.stdout.readline().strip() == "ready"

        def connect(where: str, address: str, port: int) -> bool:
            out = ns(where, sys.executable, "-c", CONNECT, address, str(port)).stdout
            return out.startswith("connected")

        def load(family: int, text: str) -> None:
            tool = "iptables-restore" if family == 4 else "ip6tables-restore"
            loaded = ns(host, tool, input=text)
            assert loaded.returncode == 0, loaded.stderr

        yield type("Pair", (), {"host": host, "peer": peer, "listen": staticmethod(listen),
                                "connect": staticmethod(connect), "load": staticmethod(load)})
    finally:
        for proc in servers:
            proc.kill()
            proc.wait()
        for name in (host, peer):
            subprocess.run(["ip", "netns", "del", name], check=False)


def codes_for(code: str, section: str, tmp_path) -> tuple[str, int, set[str]]:
    ex = example(load_checks()[code], section)
    path = tmp_path / ex.file_name
    path.write_text(ex.text, encoding="utf-8")
    found = {d.code for d in lint_document(load_document(str(path), family=ex.family), Config(select=("ALL",)))}
    return ex.text, ex.family or 4, found


@pytest.mark.parametrize("section, fires", [("Example", True), ("Use instead", False)])
def test_fw101_replies_to_the_hosts_own_connection(pair, tmp_path, section, fires):
    text, family, found = codes_for("FW101", section, tmp_path)
    assert ("FW101" in found) is fires
    pair.listen(pair.peer, PEER4, 443)
    pair.load(family, text)
    assert pair.connect(pair.host, PEER4, 443) is not fires


@pytest.mark.parametrize("section, fires", [("Example", True), ("Use instead", False)])
def test_fw102_a_local_connection_over_loopback(pair, tmp_path, section, fires):
    text, family, found = codes_for("FW102", section, tmp_path)
    assert ("FW102" in found) is fires
    pair.listen(pair.host, "127.0.0.1", 6010)
    pair.load(family, text)
    assert pair.connect(pair.host, "127.0.0.1", 6010) is not fires


@pytest.mark.parametrize("section, fires", [("Example", True), ("Use instead", False)])
def test_fw106_neighbour_discovery_decides_whether_ipv6_works(pair, tmp_path, section, fires):
    text, family, found = codes_for("FW106", section, tmp_path)
    assert family == 6 and ("FW106" in found) is fires
    pair.listen(pair.host, HOST6, 22)
    pair.load(family, text)
    time.sleep(0.2)
    assert pair.connect(pair.peer, HOST6, 22) is not fires


CONTAINER4, BRIDGE4 = "10.97.0.2", "10.97.0.1"
DNAT_RULES = """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.97.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
-A INPUT -p tcp -m tcp --dport 8080 -j DROP
-A FORWARD -j DOCKER-USER
{docker_user}COMMIT
"""


@pytest.fixture
def container(pair):
    """A third namespace behind the host, reached through it like a Docker container."""
    tag = uuid.uuid4().hex[:6]
    name = f"fwc-ctr-{tag}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "link", "add", f"vb{tag}", "netns", pair.host, "type", "veth",
                        "peer", "name", f"vc{tag}", "netns", name], check=True)
        ns(pair.host, "ip", "addr", "add", f"{BRIDGE4}/24", "dev", f"vb{tag}", check=True)
        ns(pair.host, "ip", "link", "set", f"vb{tag}", "up", check=True)
        ns(pair.host, "sysctl", "-qw", "net.ipv4.ip_forward=1", check=True)
        ns(name, "ip", "link", "set", "lo", "up", check=True)
        ns(name, "ip", "addr", "add", f"{CONTAINER4}/24", "dev", f"vc{tag}", check=True)
        ns(name, "ip", "link", "set", f"vc{tag}", "up", check=True)
        ns(name, "ip", "route", "add", "default", "via", BRIDGE4, check=True)
        ns(pair.peer, "ip", "route", "add", "10.97.0.0/24", "via", HOST4, check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.mark.parametrize("docker_user, findings, reachable", [
    # FW601: the INPUT drop (line 13) does nothing; the published port stays open.
    ("", [("FW601", 13)], True),
    # FW602: DOCKER-USER sees port 80 after DNAT, so --dport 8080 never matches.
    ("-A DOCKER-USER -p tcp -m tcp --dport 8080 -j DROP\n", [("FW601", 13), ("FW602", 15)], True),
    # The original destination port from conntrack is what blocks it.
    ("-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j DROP\n", [("FW601", 13)], False),
])
def test_fw601_fw602_published_ports_are_filtered_after_dnat(pair, container, tmp_path, docker_user,
                                                            findings, reachable):
    text = DNAT_RULES.format(docker_user=docker_user)
    path = tmp_path / "rules.v4"
    path.write_text(text, encoding="utf-8")
    found = [(d.code, d.span.line) for d in lint_document(load_document(str(path)), Config(select=("FW601", "FW602")))]
    assert found == findings
    pair.listen(container, CONTAINER4, 80)
    pair.load(4, text)
    assert pair.connect(pair.peer, HOST4, 8080) is reachable
