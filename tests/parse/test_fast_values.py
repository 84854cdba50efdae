"""The reader's fast constructions give exactly what the slow ones give."""

from __future__ import annotations

import ipaddress
import pickle

from hypothesis import given, strategies as st

from fwc.parse import ipt_values as V


def test_host_networks_are_built_directly_on_this_python():
    assert V._host_network is V._built_host_network


@given(st.integers(0, 2 ** 32 - 1))
def test_a_directly_built_host_network_is_the_constructors(value):
    fast, slow = V._built_host_network(value), ipaddress.IPv4Network((value, 32))
    assert list(vars(fast)) == list(vars(slow))
    assert V._same_network(fast, slow)
    assert repr(fast) == repr(slow) and fast.hostmask == slow.hostmask
    assert list(fast) == list(slow) and fast.supernet() == slow.supernet()
    assert fast.subnet_of(slow) and slow.subnet_of(fast)
    assert pickle.loads(pickle.dumps(fast)) == slow


def test_parse_address_gives_a_host_network():
    net, warning = V.parse_address.__wrapped__("10.1.2.3", 4)
    assert warning is None and net == ipaddress.IPv4Network("10.1.2.3/32")
    assert V.parse_address.__wrapped__("10.1.2.3/32", 4)[0] == net
