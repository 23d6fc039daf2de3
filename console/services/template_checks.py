"""What the Create Template wizard asks before Finish: is this VM a usable source, which providers can be
distribution targets, and does one target meet the prerequisites (not tasks: quick reads)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from console.adapters.base import NullReporter
from console.domain.errors import (
    AuthenticationError,
    CapacityError,
    ConsoleError,
    NotFoundError,
    UnreachableError,
)
from console.domain.inventory import VM, PowerState, Provider, ProviderKind, Snapshot
from console.domain.prerequisites import (
    CheckStatus,
    PrerequisiteResult,
    SourceRequirements,
    evaluate_target,
    required_free_bytes,
    unreachable_result,
)

from .template_support import TemplateSupport

#: how long the source's requirements (Get-TemplateRequirements) are reused while targets are checked
REQUIREMENTS_TTL = 60.0

#: integration services the console needs in a Hyper-V template's guest, and why
NEEDED_SERVICES = {
    "Heartbeat": "the console cannot tell when the guest has started.",
    "Shutdown": "the console cannot shut the guest down.",
    "Key-Value Pair Exchange": "the console cannot hand the clone its computer name and domain.",
}
NUTANIX_GUEST_TOOLS = "Nutanix Guest Tools"


@dataclass
class SourceCheck:
    """What the Source page shows about the chosen VM."""

    vm: VM
    running: bool                          # not off: must be shut down (with consent) first
    missing_services: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)          # sentences for the administrator
    distribution_possible: bool = False
    why_not_distribution: str = ""
    snapshots: list[Snapshot] = field(default_factory=list)
    #: False when the guest could not be asked (the VM is not running): only the enabled switches
    #: of its integration services are known then
    services_checked: bool = True


def running_sentence(vm: VM) -> str:
    return (f"VM '{vm.name}' is {vm.state.value.lower()}. Allow the console to shut it down, or shut it "
            "down yourself.")


class TemplateChecks(TemplateSupport):
    _requirements_cache: dict

    def _init_checks(self) -> None:
        self._requirements_cache = {}

    # -- the source ------------------------------------------------------------------------------
    def why_no_distribution(self, provider: Provider) -> str:
        """"" when templates of this provider can be distributed, else why not."""
        if self._is_standalone_hyperv(provider):
            return ""
        return (f"Template distribution is only for standalone Hyper-V hosts; {provider.name} is "
                f"{provider.kind.label}.")

    async def source_check(self, provider_id: int, vm_id: str) -> SourceCheck:
        provider = self._provider(provider_id)
        adapter = await self._adapter(provider)
        if self._is_standalone_hyperv(provider):
            source = await adapter.template_source(vm_id, NullReporter())
            vm, snapshots = source.vm, list(source.checkpoints)
            self._remember_vm(provider, vm)          # create() validates against this, not an old refresh
            missing = [name for name in NEEDED_SERVICES if not source.integration_services.get(name, False)]
            problems = [f"The {name} integration service is disabled: {NEEDED_SERVICES[name]}"
                        for name in missing]
            checked = vm.state is PowerState.RUNNING
            if checked:     # enabled is the host's switch; whether the guest answers is the status
                status = source.integration_status
                silent = [n for n in NEEDED_SERVICES if n not in missing and status.get(n, "") not in ("", "OK")]
                missing += silent
                problems += [f"The {n} integration service is not answering in VM '{vm.name}' ({status[n]}): "
                             f"{NEEDED_SERVICES[n]} Install or update the integration services in the guest."
                             for n in silent]
        else:
            vm = self._vm(provider, vm_id)
            checked = True
            snapshots = list(await adapter.snapshots(vm_id, NullReporter()))
            missing = [] if vm.guest_agent else [NUTANIX_GUEST_TOOLS]
            problems = [] if vm.guest_agent else [
                (f"{NUTANIX_GUEST_TOOLS} are not answering in VM '{vm.name}': the console cannot prepare "
                 "its clones. Install them from Prism (VM → Manage Guest Tools).")]
        running = vm.state is not PowerState.OFF
        if running:
            problems.insert(0, running_sentence(vm))
        why = self.why_no_distribution(provider)
        return SourceCheck(vm=vm, running=running, missing_services=missing, problems=problems,
                           distribution_possible=not why, why_not_distribution=why, snapshots=snapshots,
                           services_checked=checked)

    async def _live_vm(self, provider: Provider, adapter, vm_id: str) -> VM:
        """The source VM as the host has it now (Hyper-V: Get-TemplateSource; Nutanix: the inventory,
        which the console's power operations keep current)."""
        if not self._is_standalone_hyperv(provider):
            return self._vm(provider, vm_id)
        vm = (await adapter.template_source(vm_id, NullReporter())).vm
        self._remember_vm(provider, vm)
        return vm

    async def _measured_bytes(self, provider: Provider, vm_id: str) -> int:
        """A version's size, measured now: Hyper-V the disk chain Get-TemplateRequirements sums (read
        fresh: a new version's disks have grown since the last one); else the inventory's disks."""
        if self._is_standalone_hyperv(provider):
            try:
                requirements, _ = await self.source_requirements(provider, vm_id, fresh=True)
                return requirements.disk_bytes
            except ConsoleError:
                pass                      # the size is information only: the inventory's will do
        try:
            vm = self._vm(provider, vm_id)
        except NotFoundError:
            return 0
        return sum(d.file_bytes or d.size_bytes for d in vm.disks)

    # -- targets ---------------------------------------------------------------------------------
    def available_targets(self, source_provider_id: int) -> list[tuple[Provider, str]]:
        """Every provider, with "" when it can be a distribution target of a template of this source,
        else why not. The source provider itself may be a target."""
        source = self._provider(source_provider_id)
        source_why = self.why_no_distribution(source)
        out = []
        for provider in self._providers.list():
            if source_why:
                out.append((provider, source_why))
            elif provider.kind is not ProviderKind.HYPERV:
                out.append((provider, f"Not a standalone Hyper-V host ({provider.kind.label})."))
            else:
                out.append((provider, ""))
        return out

    def target_refusal(self, source: Provider, target: Provider) -> str:
        return next((why for p, why in self.available_targets(source.id) if p.id == target.id),
                    f"Provider {target.id} is not in the farm.")

    async def source_requirements(self, provider: Provider, vm_id: str,
                                  fresh: bool = False) -> tuple[SourceRequirements, list[str] | None]:
        """Get-TemplateRequirements on the source and the source host's constrained delegation,
        reused for REQUIREMENTS_TTL seconds per (provider, VM)."""
        key = (provider.id, vm_id)
        cached = self._requirements_cache.get(key)
        if cached is not None and not fresh and time.monotonic() - cached[0] < REQUIREMENTS_TTL:
            return cached[1], cached[2]
        adapter = await self._adapter(provider)
        requirements, facts = await asyncio.gather(adapter.source_requirements(vm_id, NullReporter()),
                                                   adapter.facts(NullReporter()))
        delegation = facts[0].live_migration.constrained_delegation if facts else None
        self._requirements_cache[key] = (time.monotonic(), requirements, delegation)
        return requirements, delegation

    async def check_target(self, source_provider_id: int, vm_id: str,
                           target_provider_id: int) -> list[PrerequisiteResult]:
        """The prerequisite rows of one target for a template of this source VM. An unreachable host
        or a refused password gives a failed "reachable" row; it never raises for that."""
        source = self._provider(source_provider_id)
        target = self._provider(target_provider_id)
        why = self.target_refusal(source, target)
        if why:
            return [PrerequisiteResult("provider-type", "Same provider type and subtype",
                                       ProviderKind.HYPERV.label, target.kind.label, CheckStatus.FAILED,
                                       f"Choose a standalone Hyper-V host instead of {target.name}. {why}")]
        try:
            requirements, delegation = await self.source_requirements(source, vm_id)
        except (UnreachableError, AuthenticationError) as exc:
            return unreachable_result(source.name, str(exc))
        try:
            report = await (await self._adapter(target)).test_target(requirements, NullReporter())
        except (UnreachableError, AuthenticationError) as exc:
            return unreachable_result(target.name, str(exc))
        except CapacityError as exc:      # a full disk can stop the check itself from running
            return [PrerequisiteResult(
                "free-space", "Free space for the template",
                f"at least {required_free_bytes(requirements.disk_bytes) / 1e9:.1f} GB",
                "The disk is full", CheckStatus.FAILED,
                f"Free space on {target.name}'s disk, then check again. ({exc.message})")]
        except ConsoleError as exc:       # any other answer: a failed row with the sentence, not a raise
            return [PrerequisiteResult("check", "Pre-flight check ran", "The check completes",
                                       exc.message, CheckStatus.FAILED,
                                       exc.hint or f"Look at {target.name}, then check again.")]
        return evaluate_target(requirements, report, delegation)
