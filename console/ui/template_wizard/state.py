"""What the Create Template wizard has collected so far: one plain object, no Qt.

The pages write into it and read their verdicts from it (what is wrong, in a sentence); at Finish it
becomes the TemplatePlan the services are called with once. Keeping the rules here (not in widgets)
lets them be tested without a window and keeps every page's Next button honest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from console.domain.errors import ConsoleError, ValidationError
from console.domain.inventory import PowerState, ProviderKind
from console.domain.prerequisites import CheckStatus, PrerequisiteResult
from console.domain.templates import (
    MAX_CONCURRENT_DISTRIBUTION,
    ImagePreparation,
    Preparation,
    TemplatePlan,
)

#: the shutdown the task does for a consented running source (the services' graceful timeout)
SHUTDOWN_MINUTES = 5
CONCURRENCY_RANGE = (1, MAX_CONCURRENT_DISTRIBUTION)

#: characters Windows refuses in a local user name
_BAD_USER_CHARS = set('\\/[]:;|=,+*?<>"@')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def sentence(exc: ConsoleError) -> str:
    return f"{exc.message} {exc.hint}".strip()


def typed_preparation(method: ImagePreparation, typed: Any) -> Preparation:
    """The Preparation the fields hold as typed (the wizard's state, the pool editor's), trimmed."""
    return Preparation(method=method, domain=typed.domain.strip(),
                       organizational_unit=typed.organizational_unit.strip(),
                       join_account=typed.join_account.strip(),
                       local_administrator=typed.local_administrator.strip(),
                       owner=typed.owner.strip(), organization=typed.organization.strip())


@dataclass
class TargetEntry:
    """One distribution target chosen on the Distribution page and its pre-flight check."""

    provider_id: int
    name: str
    checking: bool = False
    results: list[PrerequisiteResult] | None = None
    #: counts the checks started for this entry, so a late answer to an older check is dropped
    generation: int = 0

    @property
    def failed_rows(self) -> list[PrerequisiteResult]:
        return [r for r in self.results or [] if r.status is CheckStatus.FAILED]

    @property
    def passed(self) -> bool:
        return not self.checking and self.results is not None and not self.failed_rows


@dataclass
class WizardState:
    # ----- Source
    provider_id: int | None = None
    provider_name: str = ""
    provider_kind: ProviderKind | None = None
    vm_id: str = ""
    vm_name: str = ""
    checking_source: bool = False
    check: Any = None                  # services' SourceCheck for (provider_id, vm_id)
    check_error: str = ""              # why the source check could not run
    shutdown_consent: bool = False
    # ----- General
    name: str = ""
    description: str = ""
    # ----- Preparation
    method: ImagePreparation = ImagePreparation.SYSPREP
    domain: str = ""
    organizational_unit: str = ""
    join_account: str = ""
    join_password: str = field(default="", repr=False)   # never in a repr (logs, tracebacks)
    local_administrator: str = "Administrator"
    owner: str = ""
    organization: str = ""
    # ----- Distribution
    distribution_enabled: bool = False
    targets: list[TargetEntry] = field(default_factory=list)
    concurrency: int = 2

    # ----- Source -------------------------------------------------------------------------------
    def select_source(self, provider_id: int | None, provider_name: str, kind: ProviderKind | None,
                      vm_id: str, vm_name: str) -> bool:
        """Choose the source VM; a different one forgets its check, consent and targets. True when it
        changed."""
        if (provider_id, vm_id) == (self.provider_id, self.vm_id):
            return False
        self.provider_id, self.provider_name, self.provider_kind = provider_id, provider_name, kind
        self.vm_id, self.vm_name = vm_id, vm_name
        self.check, self.check_error, self.checking_source = None, "", bool(vm_id)
        self.shutdown_consent = False
        # targets were checked against the old source's folder, switch and disks
        self.targets.clear()
        self.distribution_enabled = False
        return True

    def source_checked(self, provider_id: int, vm_id: str, check: Any = None, error: str = "") -> bool:
        """Record a source check's answer; False (ignored) when it is for a source no longer chosen."""
        if (provider_id, vm_id) != (self.provider_id, self.vm_id):
            return False
        self.checking_source = False
        self.check, self.check_error = check, error
        if check is not None and getattr(check, "vm", None) is not None:
            self.vm_name = check.vm.name
        return True

    @property
    def source_running(self) -> bool:
        return bool(self.check is not None and self.check.running)

    @property
    def distribution_possible(self) -> bool:
        return bool(self.check is not None and self.check.distribution_possible)

    @property
    def why_not_distribution(self) -> str:
        if self.check is None:
            return "The source has not been checked yet."
        return self.check.why_not_distribution or ""

    @property
    def is_hyperv(self) -> bool:
        return self.provider_kind in (ProviderKind.HYPERV, ProviderKind.HYPERV_CLUSTER)

    def source_problem(self) -> str:
        """Why Next is disabled on the Source page ("" when it may go on)."""
        if self.provider_id is None:
            return "Choose the provider that holds the source VM."
        if not self.vm_id:
            return "Choose the VM the template is made from."
        if self.checking_source:
            return f"Checking VM '{self.vm_name}'..."
        if self.check_error:
            return self.check_error
        if self.check is None:
            return f"VM '{self.vm_name}' has not been checked."
        if self.check.running and not self.shutdown_consent:
            return (f"VM '{self.vm_name}' is running. Allow the console to shut it down, or shut it "
                    "down yourself and choose it again.")
        return ""

    # ----- General ------------------------------------------------------------------------------
    def name_problem(self, validate_name: Callable[[str], str]) -> str:
        """The services' verdict on the name (domain rules and unique in the farm), as a sentence."""
        try:
            validate_name(self.name)
        except ValidationError as exc:
            return sentence(exc)
        except ConsoleError as exc:
            return sentence(exc)
        return ""

    # ----- Preparation --------------------------------------------------------------------------
    def preparation_problems(self) -> dict[str, str]:
        """field -> sentence for every preparation field that is wrong (fields as the widgets name
        them: domain, organizational_unit, join_account, join_password, local_administrator, owner,
        organization)."""
        from console.domain import template_rules as rules
        problems: dict[str, str] = {}
        joins = self.method is ImagePreparation.RENAME_AND_JOIN
        domain = self.domain.strip()
        if domain:
            try:
                domain = rules.check_domain_name(domain) or domain
            except ValidationError as exc:
                problems["domain"] = sentence(exc)
        elif joins:
            problems["domain"] = ("Enter the domain the clones join, e.g. corp.example.com: rename and "
                                  "join needs one.")
        try:
            dn = rules.check_distinguished_name(self.organizational_unit)
            if dn and "domain" not in problems:
                problems.update(self._ou_against_domain(dn, domain))
        except ValidationError as exc:
            problems["organizational_unit"] = sentence(exc)
        if domain:
            if not self.join_account.strip():
                problems["join_account"] = ("Enter the account that joins the clones to the domain, "
                                            "e.g. CORP\\svc-join.")
            else:
                try:
                    rules.check_account(self.join_account)
                except ValidationError as exc:
                    problems["join_account"] = sentence(exc)
            if not self.join_password:
                problems["join_password"] = "Enter the join account's password (it goes to the keyring)."
        admin = self.local_administrator.strip()
        if not admin:
            problems["local_administrator"] = "Enter the local administrator's user name."
        elif len(admin) > 20 or _CONTROL.search(admin) or set(admin) & _BAD_USER_CHARS:
            problems["local_administrator"] = ("A local user name has at most 20 characters and none of "
                                               '\\ / [ ] : ; | = , + * ? < > " @.')
        for key, label in (("owner", "The owner"), ("organization", "The organization")):
            value = getattr(self, key)
            if len(value) > 64 or _CONTROL.search(value):
                problems[key] = f"{label} has at most 64 characters and no control characters."
        return problems

    @staticmethod
    def _ou_against_domain(dn: str, domain: str) -> dict[str, str]:
        """An OU must lie in the domain the clones join (its DC= parts spell the domain)."""
        dcs = [part.split("=", 1)[1].strip() for part in _UNESCAPED_COMMA.split(dn)
               if part.strip().upper().startswith("DC=")]
        if not domain:
            return {"organizational_unit": "An organizational unit needs a domain: enter the domain too, "
                                           "or leave the organizational unit empty."}
        if dcs and ".".join(dcs).lower() != domain.lower():
            return {"organizational_unit": f"The organizational unit is in the domain {'.'.join(dcs)}, "
                                           f"not in {domain}."}
        return {}

    def preparation(self) -> Preparation:
        return typed_preparation(self.method, self)

    # ----- Distribution -------------------------------------------------------------------------
    def target(self, provider_id: int) -> TargetEntry | None:
        return next((t for t in self.targets if t.provider_id == provider_id), None)

    def add_target(self, provider_id: int, name: str) -> TargetEntry:
        entry = self.target(provider_id)
        if entry is None:
            entry = TargetEntry(provider_id, name)
            self.targets.append(entry)
        return entry

    def remove_target(self, provider_id: int) -> None:
        self.targets = [t for t in self.targets if t.provider_id != provider_id]

    def start_check(self, provider_id: int) -> int:
        """Mark a target as being checked; returns the generation its answer must carry."""
        entry = self.target(provider_id)
        if entry is None:
            return -1
        entry.generation += 1
        entry.checking, entry.results = True, None
        return entry.generation

    def target_checked(self, provider_id: int, generation: int, results: list[PrerequisiteResult]) -> bool:
        entry = self.target(provider_id)
        if entry is None or entry.generation != generation:
            return False          # removed meanwhile, or a newer check runs
        entry.checking, entry.results = False, list(results)
        return True

    @property
    def distributing(self) -> bool:
        return self.distribution_possible and self.distribution_enabled

    def checks_running(self) -> list[TargetEntry]:
        return [t for t in self.targets if t.checking]

    def target_problem(self) -> str:
        """Why Next is disabled on the Distribution page ("" when it may go on)."""
        if not self.distributing:
            return ""
        running = self.checks_running()
        if running:
            names = ", ".join(t.name for t in running)
            return f"Checking {names}... Next is available when the checks have finished."
        for entry in self.targets:
            failed = entry.failed_rows
            if failed:
                first = failed[0]
                more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
                return (f"{entry.name} fails the check '{first.title}'{more}: {first.found or 'failed'}. "
                        f"Remove {entry.name}, or fix the host and re-check.")
        return ""

    # ----- Finish -------------------------------------------------------------------------------
    def plan(self) -> TemplatePlan:
        targets = [t.provider_id for t in self.targets] if self.distributing else []
        return TemplatePlan(provider_id=self.provider_id if self.provider_id is not None else -1,
                            vm_id=self.vm_id, name=self.name.strip(), description=self.description.strip(),
                            shutdown_consent=self.source_running and self.shutdown_consent,
                            preparation=self.preparation(), join_password=self.join_password,
                            distribution_enabled=self.distributing, target_provider_ids=targets,
                            concurrent_distribution=self.concurrency)

    def steps(self) -> list[str]:
        """The numbered steps the creation task will run, in the administrator's words."""
        name = self.name.strip()
        point = "checkpoint" if self.is_hyperv else "snapshot"
        steps = []
        if self.source_running and self.shutdown_consent:
            steps.append(f"Shut down VM '{self.vm_name}' through its guest (waiting up to "
                         f"{SHUTDOWN_MINUTES} minutes).")
        steps.append(f"Take the {point} 'VDI template {name} v1' of VM '{self.vm_name}': version 1.")
        steps.append(f"Mark '{name}' as a template, ready for pools at version 1.")
        targets = [t.name for t in self.targets] if self.distributing else []
        if targets:
            steps.append(f"Export version 1 once on {self.provider_name}.")
            n, c = len(targets), min(self.concurrency, len(targets))
            what = "target" if n == 1 else "targets"
            steps.append(f"Copy the export to {n} {what} ({', '.join(targets)}), {c} at a time.")
            steps.append(f"Import and register it on each target as VM '{name} (v1)'.")
        return steps

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) rows of everything chosen; the join password is never shown."""
        p = self.preparation()
        method = ("Sysprep (generalize)" if p.method is ImagePreparation.SYSPREP
                  else "Rename and join the domain")
        state = ""
        if self.check is not None:
            vm = self.check.vm
            state = getattr(getattr(vm, "state", None), "value", "") if vm is not None else ""
            if self.check.running and self.shutdown_consent:
                state += " (the console shuts it down)"
        rows = [("Source", f"{self.vm_name} on {self.provider_name}"),
                ("Source state", state or PowerState.UNKNOWN.value),
                ("Template name", self.name.strip()),
                ("Description", self.description.strip() or "(none)"),
                ("Preparation", method),
                ("Domain", p.domain or "(none: the clones stay in a workgroup)")]
        if p.domain:
            rows += [("Organizational unit", p.organizational_unit or "(the default Computers container)"),
                     ("Join account", p.join_account or "(none)"),
                     ("Join password", "(kept in the keyring)" if self.join_password else "(none)")]
        rows += [("Local administrator", p.local_administrator), ("Owner", p.owner or "(none)"),
                 ("Organization", p.organization or "(none)")]
        if not self.distribution_possible:
            rows.append(("Distribution", f"Not available. {self.why_not_distribution}".strip()))
        elif not self.distribution_enabled:
            rows.append(("Distribution", "Not enabled (it cannot be enabled after creation)."))
        else:
            names = ", ".join(t.name for t in self.targets) or "(none yet; targets can be added later)"
            rows.append(("Distribution", "Enabled"))
            rows.append(("Targets", names))
            rows.append(("Concurrent distribution", str(self.concurrency)))
        return rows
