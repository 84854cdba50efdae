"""The value parsers' fast paths give what their references give."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings, strategies as st

from fwc.parse import ipt_values as V

_DOTTED = st.lists(st.text("0123456789", min_size=0, max_size=4), min_size=1, max_size=5).map(".".join)
_ANY = st.one_of(_DOTTED, st.text(" .0123456789x+-:/\x00١", max_size=16), st.text(max_size=8))


@settings(max_examples=2000, deadline=None)
@given(_ANY)
def test_dotted_quads_are_read_as_by_their_four_parts(text):
    assert V._ipv4_int(text) == V._ipv4_int_by_parts(text)


def test_dotted_quad_fast_path_edges():
    for text in ("0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3.04", "00.0.0.0", "256.1.1.1",
                 "1.2.3", "1.2.3.4.5", "1.2.3.4 ", "+1.2.3.4", "1.2.3.4\x00", "\u0661.2.3.4", ""):
        assert V._ipv4_int(text) == V._ipv4_int_by_parts(text), text
    assert V._ipv4_int("01.2.3.4") == 0x01020304


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 0xFFFFFFFF))
def test_host_networks_built_directly_are_the_constructors(value):
    built = V._built_host_network(value)
    made = ipaddress.IPv4Network((value, 32))
    assert V._same_network(built, made)
    assert V._host_network is V._built_host_network  # the import check accepted it here
    assert built.hosts() == [ipaddress.IPv4Address(value)] and built.num_addresses == 1
    assert built.supernet(8) == made.supernet(8) and built.overlaps(made)
    assert str(built.network_address) == str(made.network_address)


def test_host_addresses_parse_to_the_constructors_network():
    for text in ("10.1.2.3", "10.1.2.3/32", "010.1.2.3/32", "0.0.0.0", "255.255.255.255/32"):
        # Uncached: a cached network may have gained cached properties (broadcast_address).
        net, warning = V.parse_address.__wrapped__(text, 4)
        address = V._ipv4_int_by_parts(text.split("/")[0])
        assert warning is None and V._same_network(net, ipaddress.IPv4Network((address, 32))), text
