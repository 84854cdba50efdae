"""The ``iptables`` and ``ip6tables`` emitters: iptables-restore text per family."""

from __future__ import annotations

from ..backends import iptables_restore
from . import Build, Emitter, register_emitter


class _RestoreEmitter(Emitter):
    family: int

    def families(self, build: Build) -> tuple[int, ...]:
        return (self.family,)

    def emit(self, build: Build) -> str:
        return iptables_restore.render(build.ruleset(self.family), source_name=build.source_name)


@register_emitter
class Iptables(_RestoreEmitter):
    name = "iptables"
    help = "the IPv4 rules for iptables-restore"
    golden_name = "iptables.rules"
    family = 4


@register_emitter
class Ip6tables(_RestoreEmitter):
    name = "ip6tables"
    help = "the IPv6 rules for ip6tables-restore"
    golden_name = "ip6tables.rules"
    family = 6
