"""FW503: a rules file is written but nothing loads it at boot, or the reverse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from ..diagnostics import Diagnostic, Related, Severity
from .base import Check, Context

if TYPE_CHECKING:
    from ..wrappers.provisioning import ProvisioningView, WrittenFile


class RestoreUnitNotEnabled(Check):
    """A rules file is written but no enabled unit loads it, or the reverse.

    What it does
        Pairs every iptables rules file a provisioning file writes with what loads it
        at boot: an enabled unit (``iptables-restore.service`` and
        ``ip6tables-restore.service`` on CoreOS and Flatcar, ``netfilter-persistent``
        on Debian and Ubuntu, ``iptables.service`` on RHEL, or a unit of your own whose
        ``ExecStart`` runs ``iptables-restore``), a package that enables one
        (``iptables-persistent``), or a ``bootcmd`` line. It reports a rules file that
        nothing loads, and an enabled restore unit whose file nothing writes.

    Why is this bad?
        Writing the rules is half the job. CoreOS ships ``iptables-restore.service``
        disabled: without ``enable: true`` the file sits on disk and the machine runs
        with no firewall. A ``runcmd`` that runs ``iptables-restore`` loads the rules
        once, on the first boot only; after a reboot they are gone. The reverse, an
        enabled unit with no file, fails on every boot.

    Example
        # kind: cloud-config
        #cloud-config
        write_files:
          - path: /var/lib/iptables/rules-save
            permissions: '0644'
            content: |
              *filter
              :INPUT ACCEPT [0:0]
              :FORWARD ACCEPT [0:0]
              :OUTPUT ACCEPT [0:0]
              -A INPUT -i lo -j ACCEPT
              COMMIT

    Use instead
        # kind: cloud-config
        #cloud-config
        coreos:
          units:
            - name: iptables-restore.service
              enable: true
        write_files:
          - path: /var/lib/iptables/rules-save
            permissions: '0644'
            content: |
              *filter
              :INPUT ACCEPT [0:0]
              :FORWARD ACCEPT [0:0]
              :OUTPUT ACCEPT [0:0]
              -A INPUT -i lo -j ACCEPT
              COMMIT

    Exceptions
        Rules loaded by something fwc cannot see (a unit baked into the image, a
        configuration management run after boot): suppress the finding with a reason.
        A rules file written to a path other than the one an enabled unit reads is
        FW504, not this check.
    """

    code = "FW503"
    name = "restore-unit-not-enabled"
    severity = Severity.ERROR
    applies_to = frozenset({"cloud-config", "butane"})

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        # Imported here: rules files never need yaml.
        from ..wrappers.provisioning import view_of

        view = view_of(ctx.document)
        if view is None:
            return
        match = view.match_loaders()
        for written in match.unloaded:
            yield self._unloaded(view, written)
        for loader in match.idle:
            paths = ", ".join(path for _, path in loader.reads)
            yield self.diag(loader.span, f"{loader.name} is {loader.how}, but nothing writes {paths}: "
                                         "it loads no rules and fails at boot",
                            help=f"write the rules to {paths}, or do not enable {loader.name}")


    def _unloaded(self, view: ProvisioningView, written: WrittenFile) -> Diagnostic:
        target = written.target or "the rules file"
        span = written.path.span if written.path else written.span
        related = []
        disabled = [lo for lo in view.loaders if not lo.enabled and any(p == target for _, p in lo.reads)]
        for lo in disabled:
            related.append(Related(lo.span, f"{lo.name} is {lo.how}"))
        if target in view.run_once:
            related.append(Related(view.run_once[target], "runcmd loads it on the first boot only"))
        return self.diag(span, f"{target} is written but nothing loads it at boot: the machine "
                               "runs without these rules", related=tuple(related), help=_advice(view, target))


def _advice(view: ProvisioningView, target: str) -> str:
    from ..wrappers.provisioning import loaders_for_path

    units = loaders_for_path(target)
    if not units:
        return "add a unit whose ExecStart runs iptables-restore on this file, and enable it"
    if units == ["netfilter-persistent.service"] and view.kind == "cloud-config" and view.variant == "cloud-init":
        return "install iptables-persistent (packages: [iptables-persistent]), which loads it at boot"
    if view.kind == "butane":
        return f"enable {units[0]} under systemd.units (enabled: true)"
    if view.variant == "coreos":
        return f"enable {units[0]} under coreos.units (enable: true)"
    return f"enable {units[0]} (for example runcmd: systemctl enable {units[0]})"
