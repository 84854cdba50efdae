"""FW301 sensitive-port-open: a NEW connection from any address reaches a sensitive port."""

from __future__ import annotations

from typing import Iterator

from ..analysis import facts
from ..analysis import intervals as iv
from ..analysis import space as sp
from ..analysis.chains import ACCEPT
from ..diagnostics import Diagnostic, Severity
from .base import Check, Context


def open_ports(ctx: Context, ports: dict[int, str]) -> Iterator[tuple]:
    """(walk, record, [(port, service)], cube) for every rule that certainly accepts NEW
    connections to some of ``ports`` and does not restrict the source address."""
    for walk in facts.exposure_walks(ctx):
        for record in walk.walk.decided(ACCEPT, definite_only=True):
            rule = record.rule
            if rule is None:
                continue  # an ACCEPT policy: FW103's concern
            if not facts.opens_ports_to_all(rule, walk.ruleset.family, iv.from_values(ports)):
                continue  # a source restriction, or every port (FW302 / FW103 territory)
            reached = sp.project(record.space, sp.DPORT)
            hits = [(p, name) for p, name in sorted(ports.items()) if iv.member(reached, p)]
            if not hits:
                continue
            port = hits[0][0]
            cube = next(c for c in sp.intersect(record.space, [sp.universe(walk.ruleset.family)
                                                               .cube(dport=((port, port),))]))
            yield walk, record, hits, cube


class SensitivePortOpen(Check):
    """A NEW connection from any address reaches a sensitive service.

    What it does
        Pushes NEW TCP and UDP connections to the sensitive ports (telnet 23,
        rpcbind 111, SMB 139/445, MySQL 3306, PostgreSQL 5432, Redis 6379,
        memcached 11211, MongoDB 27017, Elasticsearch 9200, Docker API 2375/2376,
        etcd 2379/2380, kubelet 10250, Kubernetes API 6443, or the configured
        `sensitive-ports`) from remote sources through the filter table's INPUT
        chain, and reports each rule that certainly accepts some of them while not
        restricting the source address.

    Why is this bad?
        These services are scanned for all day and most of them trust whoever can
        connect: an exposed Redis, Docker API or etcd is a compromised host.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m multiport --dports 443,6379 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
        -A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 6379 -j ACCEPT
        COMMIT

    Exceptions
        Rules that accept every port (`-i eth1 -j ACCEPT`) and ACCEPT policies are
        left to FW302 and FW103. A rule behind a match fwc does not model, or with a
        rate limit, is not reported, since fwc cannot prove it accepts.
    """

    code = "FW301"
    name = "sensitive-port-open"
    severity = Severity.ERROR

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for walk, record, hits, cube in open_ports(ctx, facts.sensitive_ports(ctx)):
            ref = facts.find_ref(walk.table, record.chain, record.index, record.rule)
            services = ", ".join(f"{name} {port}" for port, name in hits)
            yield self.diag(
                facts.rule_span(ref, walk.ruleset, ctx),
                f"IPv{walk.ruleset.family}: this rule accepts NEW connections from any address "
                f"to {services}",
                help="restrict the source (-s) to the networks that need the service",
                witness=facts.witness_text(cube, walk.ruleset, "INPUT"),
            )
