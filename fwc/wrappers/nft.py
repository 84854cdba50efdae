"""The ``nft`` emitter: both families of a policy as one ``nft -f`` ruleset."""

from __future__ import annotations

from ..backends import nftables
from . import Build, Emitter, register_emitter


@register_emitter
class Nft(Emitter):
    name = "nft"
    help = "one nftables ruleset (table inet fwc) for both families, for nft -f"
    golden_name = "nftables.nft"

    def emit(self, build: Build) -> str:
        return nftables.render(build.rulesets, source_name=build.source_name)
