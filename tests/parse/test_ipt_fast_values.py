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


def test_host_addresses_parse_to_the_constructors_network():
    for text in ("10.1.2.3", "10.1.2.3/32", "010.1.2.3/32", "0.0.0.0", "255.255.255.255/32"):
        # Uncached: a cached network may have gained cached properties (broadcast_address).
        net, warning = V.parse_address.__wrapped__(text, 4)
        address = V._ipv4_int_by_parts(text.split("/")[0])
        made = ipaddress.IPv4Network((address, 32))
        assert warning is None and type(net) is type(made) and net == made and str(net) == str(made), text
