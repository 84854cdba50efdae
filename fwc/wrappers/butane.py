"""The Butane targets: ``flatcar`` (iptables-restore) and ``fcos`` (nftables).

Butane is the YAML that the ``butane`` tool turns into an Ignition config for first
boot. Both targets write their rules with ``storage.files`` (``mode: 0644``, an integer
in Butane, so unquoted; the text in ``contents.inline``) and enable the unit that loads
them with ``systemd.units``. ``overwrite: true`` because Ignition refuses to replace a
file the image already ships (Fedora's ``/etc/sysconfig/nftables.conf``) otherwise.

- ``flatcar`` (spec ``variant: flatcar``, ``version: 1.0.0``): ``/var/lib/iptables/rules-save``
  and ``/var/lib/ip6tables/rules-save``, loaded by Flatcar's ``iptables-restore.service``
  and ``ip6tables-restore.service``.
- ``fcos`` (``variant: fcos``, ``version: 1.6.0``, the newest stable Fedora CoreOS spec):
  the nftables ruleset in ``/etc/sysconfig/nftables.conf``, the file Fedora's
  ``nftables.service`` loads with ``nft -f``.
"""

from __future__ import annotations

from . import GENERATED_MARKER, Build, Target, register_target
from .cloud_config import literal_block

FLATCAR_VERSION = "1.0.0"
FCOS_VERSION = "1.6.0"
CONTENT_INDENT = " " * 10


class _Butane(Target):
    format = "butane"
    variant: str
    version: str

    def files(self, build: Build) -> list[tuple[str, str]]:
        """(emitter, path) of every file this target writes."""
        raise TypeError(f"{type(self).__name__} writes no files")

    units: tuple[str, ...] = ()

    def emit(self, build: Build) -> str:
        lines = [f"{GENERATED_MARKER} from {build.source_name}; edit the policy, not this file.",
                 f"variant: {self.variant}",
                 f"version: {self.version}",
                 "storage:",
                 "  files:"]
        for emitter, path in self.files(build):
            lines += [f"    - path: {path}",
                      "      overwrite: true",
                      "      mode: 0644",
                      "      contents:",
                      "        inline: |"]
            lines += literal_block(build.output(emitter), CONTENT_INDENT)
        lines += ["systemd:", "  units:"]
        for unit in self.units:
            lines += [f"    - name: {unit}", "      enabled: true"]
        lines.append("")
        return "\n".join(lines)


@register_target
class Flatcar(_Butane):
    name = "flatcar"
    variant = "flatcar"
    version = FLATCAR_VERSION
    help = "Butane for Flatcar (iptables-restore.service, ip6tables-restore.service)"
    units = ("iptables-restore.service", "ip6tables-restore.service")

    def files(self, build: Build) -> list[tuple[str, str]]:
        return [("iptables", "/var/lib/iptables/rules-save"),
                ("ip6tables", "/var/lib/ip6tables/rules-save")]


@register_target
class Fcos(_Butane):
    name = "fcos"
    variant = "fcos"
    version = FCOS_VERSION
    help = "Butane for Fedora CoreOS (nftables.service, /etc/sysconfig/nftables.conf)"
    units = ("nftables.service",)

    def files(self, build: Build) -> list[tuple[str, str]]:
        return [("nft", "/etc/sysconfig/nftables.conf")]
