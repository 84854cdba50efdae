"""FW303 wide-source."""

from __future__ import annotations

import ipaddress
from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from ..model import Addr
from . import _walk as w
from .base import Check, Context


# Wide by definition and never a typo: link-local, unique-local and multicast ranges.
SPECIAL_RANGES = tuple(ipaddress.ip_network(n) for n in ("fe80::/10", "fc00::/7", "ff00::/8", "224.0.0.0/4"))


def is_special(cond: Addr) -> bool:
    value = cond.value
    return not isinstance(value, tuple) and any(
        value.version == net.version and value.subnet_of(net) for net in SPECIAL_RANGES)


def address_count(cond: Addr) -> int:
    lo, hi = cond.bounds()
    return hi - lo + 1


class WideSource(Check):
    """An allow rule's source is wider than /8 (IPv4) or /16 (IPv6) but not `any`.

    What it does
        Reports ACCEPT rules whose source address (`-s`, or an `iprange` source range)
        covers more addresses than a /8 in IPv4 or a /16 in IPv6, without being the whole
        address space.

    Why is this bad?
        A source that wide is almost never meant: it is usually a typo in the prefix
        length (`10.0.0.0/4` for `/24`) or a range whose bounds were swapped, and it
        opens the service to a large part of the Internet while looking restricted.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -s 192.0.0.0/2 -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        The private ranges (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`) are not wider
        than /8 and are not reported; neither are the ranges that are wide by definition:
        IPv6 link-local `fe80::/10`, unique-local `fc00::/7`, multicast `ff00::/8` and
        IPv4 multicast `224.0.0.0/4`. A deliberately wide source (a whole region's
        allocations) can be allowed by lowering the options `v4-max-prefix` /
        `v6-max-prefix`, or by suppressing the finding with the reason.

    Options
        v4-max-prefix (default 8): IPv4 sources with a shorter prefix are reported.
        v6-max-prefix (default 16): the same for IPv6.
    """

    code = "FW303"
    name = "wide-source"
    severity = Severity.INFO
    options = {"v4-max-prefix": 8, "v6-max-prefix": 16}

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        prefixes = {4: int(w.option(ctx, self, "v4-max-prefix")), 6: int(w.option(ctx, self, "v6-max-prefix"))}
        limits = {4: 1 << (32 - prefixes[4]), 6: 1 << (128 - prefixes[6])}
        for ruleset in ctx.rulesets:
            for chain, rule, cond in w.rule_facts(ctx, ruleset).accepted_sources:
                if (cond.negated or isinstance(cond.value, str) or cond.is_any or is_special(cond)
                        or address_count(cond) <= limits.get(cond.version, 1 << 128)):
                    continue
                yield self.diag(rule.span or w.chain_span(ctx, chain),
                                f"the accepted source {_format(cond)} is wider than a "
                                f"/{prefixes[cond.version]}: is the prefix length a typo?",
                                help="narrow the source to the networks that need access")


def _format(cond: Addr) -> str:
    value = cond.value
    if isinstance(value, tuple):
        return f"{value[0]}-{value[1]}"
    return str(value)
