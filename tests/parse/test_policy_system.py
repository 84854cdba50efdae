"""Compiled policies against the real tools, in a throwaway network namespace: every
example policy and a policy using every feature load with iptables-restore and
ip6tables-restore, and iptables-save prints them back exactly as fwc rendered them (so
the lowering's spelling choices are the kernel's canonical ones)."""

from __future__ import annotations

import pytest

from conftest import ROOT, need_tool
from fwc.backends.iptables_restore import render
from fwc.parse.policy import load_policy

pytestmark = pytest.mark.system

TOOLS = {4: "iptables", 6: "ip6tables"}

EVERYTHING = r"""
define admins = 203.0.113.0/24, 2001:db8:10::/48
define web = 80, 443
define lan = eth1, eth2
service etcd = tcp 2379, tcp 2380
policy input drop
allow loopback
allow established
drop invalid
allow in on $lan
allow tcp $web
allow ssh from $admins limit 6/minute burst 10 per source
allow etcd from 10.0.0.0/24
allow dns
reject tcp 25 log "smtp: " level info
reject udp 9 from 10.0.0.1-10.0.0.9 comment "it's \"quoted\""
allow icmp essential
allow icmp 3/4
allow icmpv6 echo-request, 1/3 limit 5/second
allow forward in on eth0 out on wg+ tcp 80 to 10.1.0.0/16 state new,untracked
allow out udp to any port 53
deny from not {10.0.0.0/8, 192.168.0.0/16}
allow tcp 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18-20
drop from not 2001:db8::/32
reject with admin-prohibited
reject udp 7 with host-unreachable
allow 47
allow sctp 9
allow udplite 10, 11
allow tcp from 10.0.0.1 port 1024-65535 to 10.0.0.2 port 80, 443
allow udp from any port 53, 54 to any port 1, 2
allow tcp 22 log
allow out icmp 8 log "ping out" level debug
"""


def load_and_dump(netns, family: int, text: str) -> str:
    tool = TOOLS[family]
    need_tool(f"{tool}-restore", f"{tool}-save")
    loaded = netns([f"{tool}-restore"], input=text)
    assert loaded.returncode == 0, f"{tool}-restore refused:\n{loaded.stderr}\n{text}"
    saved = netns([f"{tool}-save", "-t", "filter"])
    assert saved.returncode == 0, saved.stderr
    return "".join(line + "\n" for line in saved.stdout.splitlines() if not line.startswith("#"))


def compiled(path, text=None) -> dict[int, str]:
    result = load_policy(path, text=text)
    assert result.diagnostics == []
    return {f: render(rs, source_name="policy.fw").split("\n", 1)[1] for f, rs in result.rulesets.items()}


@pytest.mark.parametrize("family", [4, 6])
def test_every_feature_comes_back_unchanged_from_the_kernel(netns, family):
    text = compiled("policy.fw", EVERYTHING)[family]
    assert load_and_dump(netns, family, text) == text


@pytest.mark.parametrize("path", sorted((ROOT / "rulesets").glob("*.fw")), ids=lambda p: p.name)
def test_example_policies_load_in_the_kernel_unchanged(netns, path):
    for family, text in compiled(path).items():
        assert load_and_dump(netns, family, text) == text


def test_icmpv6_names_match_what_ip6tables_save_prints(netns):
    need_tool("ip6tables", "ip6tables-save")
    added = netns(["ip6tables", "-A", "INPUT", "-p", "icmpv6", "--icmpv6-type", "neighbor-solicitation", "-j", "ACCEPT"])
    assert added.returncode == 0, added.stderr
    saved = netns(["ip6tables-save", "-t", "filter"]).stdout
    ours = compiled("policy.fw", "policy input accept\nallow icmpv6 neighbor-solicitation\n")[6]
    rule = [line for line in ours.splitlines() if line.startswith("-A")]
    assert rule == ["-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT"]
    assert rule[0] in saved.splitlines()
