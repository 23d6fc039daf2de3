"""WizardState: the Create Template wizard's rules without a window."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from console.domain.errors import ValidationError
from console.domain.inventory import VM, PowerState, ProviderKind
from console.domain.prerequisites import CheckStatus, PrerequisiteResult
from console.domain.templates import ImagePreparation
from console.ui.template_wizard.state import WizardState


@dataclass
class Check:                     # the shape of services' SourceCheck
    vm: VM
    running: bool = False
    missing_services: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    distribution_possible: bool = True
    why_not_distribution: str = ""


def chosen(running=False, possible=True) -> WizardState:
    s = WizardState()
    s.select_source(1, "HV01", ProviderKind.HYPERV, "vm-1", "Win11-Gold")
    state = PowerState.RUNNING if running else PowerState.OFF
    why = "" if possible else "Template distribution is only for standalone Hyper-V hosts."
    s.source_checked(1, "vm-1", check=Check(VM("vm-1", "Win11-Gold", "HV01", state=state), running=running,
                                            distribution_possible=possible, why_not_distribution=why))
    s.name = "Win11 Office"
    return s


def row(status, title="Same folder path exists", found="missing"):
    return PrerequisiteResult("folder", title, "D:\\Hyper-V", found, status, "Create the folder.")


def test_source_needs_a_vm_a_finished_check_and_consent_when_running():
    s = WizardState()
    assert "provider" in s.source_problem()
    s.select_source(1, "HV01", ProviderKind.HYPERV, "", "")
    assert "Choose the VM" in s.source_problem()
    s.select_source(1, "HV01", ProviderKind.HYPERV, "vm-1", "Win11-Gold")
    assert s.checking_source and "Checking" in s.source_problem()
    # an answer about another VM (chosen before) is dropped
    assert not s.source_checked(1, "vm-0", check=Check(VM("vm-0", "Old", "HV01")))
    assert s.checking_source
    running = chosen(running=True)
    assert "is running" in running.source_problem()
    running.shutdown_consent = True
    assert running.source_problem() == ""
    assert running.plan().shutdown_consent is True
    failed = WizardState()
    failed.select_source(1, "HV01", ProviderKind.HYPERV, "vm-1", "Win11-Gold")
    failed.source_checked(1, "vm-1", error="HV01 cannot be reached.")
    assert failed.source_problem() == "HV01 cannot be reached."


def test_choosing_another_source_forgets_consent_and_targets():
    s = chosen(running=True)
    s.shutdown_consent = True
    s.distribution_enabled = True
    s.add_target(2, "HV02")
    assert s.select_source(1, "HV01", ProviderKind.HYPERV, "vm-2", "Win10-Office")
    assert (s.shutdown_consent, s.targets, s.distribution_enabled, s.check) == (False, [], False, None)
    assert not s.select_source(1, "HV01", ProviderKind.HYPERV, "vm-2", "Win10-Office")


def test_name_problem_is_the_validators_sentence():
    s = chosen()

    def validate(name):
        if name.strip().lower() == "win11 office":
            raise ValidationError("A template named 'Win11 Office' already exists.", "Choose another name.",
                                  field="name")
        return name.strip()
    assert s.name_problem(validate) == "A template named 'Win11 Office' already exists. Choose another name."
    s.name = "Other"
    assert s.name_problem(validate) == ""


@pytest.mark.parametrize("changes, field, words", [
    ({"method": ImagePreparation.RENAME_AND_JOIN}, "domain", "domain"),
    ({"domain": "corp example"}, "domain", "spaces"),
    ({"domain": "corp.example.com", "organizational_unit": "OU=VDI"}, "organizational_unit", ""),
    ({"domain": "corp.example.com", "organizational_unit": "OU=VDI,DC=other,DC=com"}, "organizational_unit",
     "other.com"),
    ({"organizational_unit": "OU=VDI,DC=corp,DC=example,DC=com"}, "organizational_unit", "needs a domain"),
    ({"domain": "corp.example.com"}, "join_account", "account"),
    ({"domain": "corp.example.com", "join_account": "CORP\\svc-join"}, "join_password", "password"),
    ({"local_administrator": ""}, "local_administrator", "administrator"),
    ({"local_administrator": "Admin*1"}, "local_administrator", "20 characters"),
    ({"owner": "x" * 65}, "owner", "64"),
])
def test_preparation_problems(changes, field, words):
    s = chosen()
    for key, value in changes.items():
        setattr(s, key, value)
    problems = s.preparation_problems()
    assert field in problems, problems
    assert words.lower() in problems[field].lower()


def test_a_complete_domain_join_has_no_problem_and_the_plan_carries_it():
    s = chosen()
    s.method = ImagePreparation.RENAME_AND_JOIN
    s.domain, s.organizational_unit = "corp.example.com", "OU=VDI\\, Berlin,DC=corp,DC=example,DC=com"
    s.join_account, s.join_password = "CORP\\svc-join", "s3cret"
    s.owner, s.organization = "IT", "Example Corp"
    assert s.preparation_problems() == {}
    plan = s.plan()
    assert plan.preparation.method is ImagePreparation.RENAME_AND_JOIN
    assert plan.preparation.join_account == "CORP\\svc-join" and plan.join_password == "s3cret"
    assert plan.name == "Win11 Office" and plan.provider_id == 1 and plan.vm_id == "vm-1"
    assert "s3cret" not in repr(s.summary())


def test_targets_block_while_checking_or_failing_and_late_answers_are_dropped():
    s = chosen()
    s.distribution_enabled = True
    for pid, name in ((2, "HV02"), (4, "HV04")):
        s.add_target(pid, name)
    g2, g4 = s.start_check(2), s.start_check(4)
    assert "Checking HV02, HV04" in s.target_problem()
    assert s.target_checked(2, g2, [row(CheckStatus.PASSED)])
    assert s.target_checked(4, g4, [row(CheckStatus.FAILED, "Joined to the same domain", "WORKGROUP")])
    problem = s.target_problem()
    assert "HV04" in problem and "Joined to the same domain" in problem and "WORKGROUP" in problem
    new = s.start_check(4)                         # Re-check: the old answer no longer counts
    assert not s.target_checked(4, g4, [row(CheckStatus.PASSED)])
    assert s.target(4).checking
    s.remove_target(4)
    assert not s.target_checked(4, new, [row(CheckStatus.PASSED)])
    assert s.target_problem() == ""
    assert s.plan().target_provider_ids == [2] and s.plan().distribution_enabled


def test_warnings_do_not_block_and_distribution_off_sends_no_targets():
    s = chosen()
    s.distribution_enabled = True
    s.add_target(2, "HV02")
    s.target_checked(2, s.start_check(2), [row(CheckStatus.WARNING)])
    assert s.target_problem() == ""
    s.distribution_enabled = False
    plan = s.plan()
    assert plan.target_provider_ids == [] and not plan.distribution_enabled


def test_nutanix_source_cannot_distribute_and_the_summary_says_why():
    s = chosen(possible=False)
    s.distribution_enabled = True        # even if something set it, the plan does not distribute
    s.add_target(2, "HV02")
    assert not s.distributing and s.target_problem() == ""
    assert s.plan().distribution_enabled is False
    summary = dict(s.summary())
    assert "only for standalone Hyper-V" in summary["Distribution"]


def test_steps_name_shutdown_checkpoint_export_copies_and_imports():
    s = chosen(running=True)
    s.shutdown_consent = True
    s.distribution_enabled = True
    s.concurrency = 2
    for pid, name in ((2, "HV02"), (3, "HV03"), (5, "HV05")):
        s.add_target(pid, name)
    steps = s.steps()
    assert steps[0].startswith("Shut down VM 'Win11-Gold'")
    assert "checkpoint 'VDI template Win11 Office v1'" in steps[1]
    assert "Mark 'Win11 Office' as a template" in steps[2]
    assert steps[3] == "Export version 1 once on HV01."
    assert "3 targets (HV02, HV03, HV05), 2 at a time" in steps[4]
    assert "'Win11 Office (v1)'" in steps[5]
    s.shutdown_consent = False
    s.distribution_enabled = False
    assert len(s.steps()) == 2 and "Shut down" not in s.steps()[0]
