"""The pool editor's state object without a window: each tab's rules (console/domain/pool_rules.py and
the wizard's preparation rules) speak on the right tab and field, and pool() is the Pool to save."""
from __future__ import annotations

import pytest

from console.domain.pool_rules import Estimate
from console.domain.templates import (
    DistributionTarget,
    ImagePreparation,
    Pool,
    Preparation,
    ProvisioningMethod,
    TargetState,
    Template,
    TemplateState,
    TemplateVersion,
)
from console.ui.pool_editor.naming_tab import preview_text
from console.ui.pool_editor.provisioning_tab import duration, estimate_text, size
from console.ui.pool_editor.state import PoolEditorState, TargetChoice

JOIN = Preparation(method=ImagePreparation.RENAME_AND_JOIN, domain="corp.example.com",
                   organizational_unit="OU=VDI,DC=corp,DC=example,DC=com", join_account="CORP\\svc-join")


def template(state=TemplateState.READY, tags=("", "production")) -> Template:
    versions = [TemplateVersion(7, n + 1, f"2025-01-0{n + 1}", tag=t, size_bytes=20 * 10 ** 9)
                for n, t in enumerate(tags)]
    return Template(7, "Win11 Office", 1, "vm-1", state=state, distribution_enabled=True, versions=versions,
                    targets=[DistributionTarget(7, 2, TargetState.READY, version=2),
                             DistributionTarget(7, 3, TargetState.READY, version=2)],
                    preparation=JOIN)


def ready_state(**kw) -> PoolEditorState:
    state = PoolEditorState()
    state.set_template(template())
    state.set_targets([TargetChoice(2, "HV02"), TargetChoice(3, "HV03")])
    state.name = "Sales"
    for key, value in kw.items():
        setattr(state, key, value)
    return state


def flat(problems: dict) -> dict:
    return {f"{tab}.{field}": text for tab, fields in problems.items() for field, text in fields.items()}


def test_a_complete_new_pool_has_no_problem_and_becomes_the_pool_to_save():
    state = ready_state(naming_pattern="SAL-%ID:3%", initial_count=2, keep_available=1, maximum=20)
    assert flat(state.problems()) == {}
    assert state.first_problem(state.problems()) == ""
    pool = state.pool()
    assert pool.id is None and pool.name == "Sales" and pool.template_id == 7 and pool.version == 2
    assert pool.method is ProvisioningMethod.LINKED and pool.naming_pattern == "SAL-%ID:3%"
    assert (pool.initial_count, pool.keep_available, pool.maximum) == (2, 1, 20)
    assert pool.target_provider_ids == [2, 3] and pool.preparation_override is None
    # the template's preparation is inherited (and the legacy columns say what it is)
    assert pool.domain == "corp.example.com" and pool.preparation is ImagePreparation.RENAME_AND_JOIN


def test_choosing_a_template_takes_its_latest_version_and_preparation():
    state = PoolEditorState()
    assert flat(state.problems()) == {"general.name": "Enter a name for the pool.",
                                      "provisioning.template": "Choose the template the pool's clones are made from."}
    assert state.first_problem(state.problems()) == "General: Enter a name for the pool."
    assert state.set_template(template())
    assert state.version == 2 and state.domain == "corp.example.com" and not state.override_preparation
    assert not state.set_template(template())            # the same template again: nothing forgotten


def test_a_naming_pattern_too_short_for_the_maximum_is_refused_with_the_sentence():
    state = ready_state(naming_pattern="VDI-%ID:2%", maximum=500)
    problems = flat(state.problems())
    assert list(problems) == ["naming.naming_pattern"]
    assert problems["naming.naming_pattern"].startswith(
        "%ID:2% gives at most 99 names (VDI-01 … VDI-99), fewer than the maximum of 500. Use %ID:3%")
    assert state.first_problem(state.problems()).startswith("Naming: %ID:2% gives at most 99 names")


@pytest.mark.parametrize("pattern, words", [
    ("VDI_%ID:3%", "characters a computer name cannot have"),
    ("VDI;%ID:3%", "characters a computer name cannot have"),
    ("VDI'%ID:3%", "characters a computer name cannot have"),
    ("1VDI-%ID:3%", "must start with a letter"),
    ("SALES-DESKTOP-%ID:3%", "longer than 15 characters"),
    ("VDI-", "exactly one %ID% token"),
    ("ВДИ-%ID:3%", "characters a computer name cannot have"),
])
def test_wrong_naming_patterns_are_refused(pattern, words):
    problems = flat(ready_state(naming_pattern=pattern).problems())
    assert words in problems["naming.naming_pattern"], problems


def test_names_that_exist_on_the_targets_collide():
    state = ready_state(naming_pattern="VDI-%ID:3%", existing_names={"vdi-002", "Other"})
    assert "VDI-002 already exists" in flat(state.problems())["naming.naming_pattern"]


def test_a_buffer_above_the_maximum_is_said_on_the_scale_tab():
    problems = flat(ready_state(keep_available=11, maximum=10).problems())
    assert problems == {"scale.keep_available": "A buffer of 11 available clones is more than the maximum of 10. "
                                                "Lower the buffer, or raise the maximum."}
    assert "more than the maximum" in flat(ready_state(initial_count=12, maximum=10).problems())["scale.initial_count"]
    assert "between 1 and 5000" in flat(ready_state(maximum=6000, naming_pattern="V-%ID:4%").problems())["scale.maximum"]


def test_a_per_host_cap_too_small_for_the_maximum_is_said_on_the_targets_tab():
    problems = flat(ready_state(per_host_cap=4, maximum=10).problems())
    assert list(problems) == ["targets.per_host_cap"] and "hold 8, fewer than the maximum of 10" in \
        problems["targets.per_host_cap"]
    assert flat(ready_state(per_host_cap=5, maximum=10).problems()) == {}


def test_a_template_in_maintenance_cannot_give_clones():
    state = ready_state()
    state.template = template(TemplateState.MAINTENANCE)
    assert flat(state.problems())["provisioning.template"] == (
        "Template 'Win11 Office' is in maintenance: it cannot give new clones until maintenance ends.")


def test_following_a_tag_resolves_its_version_and_an_untagged_one_is_refused():
    state = ready_state(follow_tag="production")
    assert state.resolved_version == 2 and state.pool().version == 2 and state.pool().follow_tag == "production"
    state.follow_tag = "pre-production"
    assert state.resolved_version is None
    assert "No version of template 'Win11 Office' is tagged 'pre-production'" in \
        flat(state.problems())["provisioning.follow_tag"]


def test_a_version_deleted_under_the_pool_is_refused():
    state = ready_state(version=9)
    assert flat(state.problems())["provisioning.version"] == "Template 'Win11 Office' has no version 9: choose another."


def test_a_method_the_provider_cannot_do_is_refused_with_its_reason():
    state = ready_state(method=ProvisioningMethod.QUICK)
    state.method_reasons = {ProvisioningMethod.QUICK: "Quick clones need Hyper-V differencing disks."}
    assert flat(state.problems()) == {"provisioning.method": "Quick clones need Hyper-V differencing disks."}


def test_targets_must_be_chosen_and_able_to_take_clones():
    state = ready_state()
    for choice in state.targets:
        choice.checked = False
    assert flat(state.problems()) == {"targets.targets": "Choose at least one target that takes clones."}
    state.set_targets([TargetChoice(2, "HV02", "it holds v1 of the template, not v2."), TargetChoice(3, "HV03")])
    assert [t.checked for t in state.targets] == [False, False]          # the old marks are kept
    state.targets[0].checked = True
    assert "HV02 cannot take clones: it holds v1" in flat(state.problems())["targets.targets"]
    fresh = PoolEditorState()
    fresh.set_template(template())
    fresh.set_targets([TargetChoice(2, "HV02", "not ready."), TargetChoice(3, "HV03")])
    assert [t.checked for t in fresh.targets] == [False, True]          # a new pool: the possible ones


def test_an_override_is_checked_like_the_wizard_and_turning_it_off_restores_the_template():
    state = ready_state()
    state.set_override(True)
    assert state.domain == "corp.example.com"
    assert list(flat(state.problems())) == ["preparation.join_password"]      # a join needs its password
    state.join_password = "S3cret!"
    state.organizational_unit = "OU=VDI;DC=corp"
    assert list(flat(state.problems())) == ["preparation.organizational_unit"]
    state.organizational_unit = "OU=Sales,DC=corp,DC=example,DC=com"
    assert flat(state.problems()) == {}
    pool = state.pool()
    assert pool.preparation_override.organizational_unit == "OU=Sales,DC=corp,DC=example,DC=com"
    assert "S3cret!" not in repr(state) and "S3cret!" not in repr(pool)
    state.set_override(False)
    assert state.organizational_unit == JOIN.organizational_unit and state.join_password == ""
    assert state.pool().preparation_override is None


def test_a_stored_pool_password_needs_no_typing():
    state = ready_state(pool_id=4, stored_password=True)
    state.set_override(True)
    assert flat(state.problems()) == {}


def test_editing_keeps_the_template_and_notices_a_version_change():
    original = Pool(4, "Sales", 7, 1, ProvisioningMethod.QUICK, "SAL-%ID:3%", initial_count=0, keep_available=2,
                    maximum=30, target_provider_ids=[3], description="d", per_host_cap=40,
                    preparation_override=Preparation(method=ImagePreparation.SYSPREP), created="2025-02-01")
    state = PoolEditorState()
    state.load_pool(original, template())
    assert state.editing and state.version == 1 and state.override_preparation
    assert state.prep_method is ImagePreparation.SYSPREP and state.domain == ""
    assert not state.set_template(template(tags=("x",)))                 # the template cannot change
    state.set_targets([TargetChoice(2, "HV02"), TargetChoice(3, "HV03")])
    assert [t.checked for t in state.targets] == [False, True]          # the pool's own targets
    assert not state.version_changed and flat(state.problems()) == {}
    state.version = 2                                   # that is a rolling update, not an edit
    assert state.version_changed
    assert "Use Update… to move the clones" in flat(state.problems())["provisioning.version"]
    state.version = 1
    state.follow_tag = "production"                     # at v2: the pool stays at v1 until an update
    assert not state.version_changed and flat(state.problems()) == {}
    state.clone_count, state.method = 3, ProvisioningMethod.LINKED
    assert "cannot change (3 quick clone(s))" in flat(state.problems())["provisioning.method"]
    state.method = ProvisioningMethod.QUICK
    pool = state.pool()
    assert (pool.id, pool.created, pool.version, pool.maximum, pool.follow_tag) == (4, "2025-02-01", 1, 30, "production")


def test_the_name_is_checked_by_the_rules_and_against_the_farm():
    state = ready_state(name="Sales/Desk")
    assert "cannot contain /" in flat(state.problems())["general.name"]
    state.name = "sales"
    taken = flat(state.problems(lambda n: f"A pool named '{n}' already exists." if n == "sales" else ""))
    assert taken == {"general.name": "A pool named 'sales' already exists."}
    state.description = "x" * 1001
    assert "at most 1000" in flat(state.problems())["general.description"]


def test_estimates_and_previews_read_as_sentences():
    full = estimate_text(ProvisioningMethod.FULL, Estimate(0.26, 0.26, 26_400_000_000), 1)
    assert duration(0.23) == "~0.2 s" and duration(0.01) == "~0.1 s" and duration(4.0) == "~4 s"
    assert full == "Usable in ~0.3 s · independent at once · disk per clone ~26.4 GB"
    assert duration(38) == "~38 s" and duration(600) == "~10 min" and duration(3 * 3600) == "~3.0 h"
    assert size(24.6e9) == "~24.6 GB" and size(5e6) == "~5 MB"
    linked = estimate_text(ProvisioningMethod.LINKED, Estimate(38.0, None, 2 * 1024 ** 3), 2)
    assert linked == "Usable in ~38 s · never independent (depends on v2) · disk per clone ~2.1 GB (growth with use)"
    quick = estimate_text(ProvisioningMethod.QUICK, Estimate(40.0, 100.0, 20 * 10 ** 9), 2)
    assert quick == "Usable in ~40 s · independent in ~2 min · disk per clone ~20.0 GB"
    assert preview_text("VDI-%ID:3%", 500) == "VDI-001, VDI-002, VDI-003, VDI-004, VDI-005 … up to VDI-500 (the maximum of 500)"
    assert preview_text("VDI-%ID:2%", 500).endswith("(no room for the maximum of 500)")
    assert preview_text("VDI-%ID:3%", 3) == "VDI-001, VDI-002, VDI-003"
    assert preview_text("1-%ID%", 3) == ""
