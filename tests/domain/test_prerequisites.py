"""The rows of a distribution target's pre-flight check, from the facts of the source and target."""
import dataclasses

import pytest

from console.domain.prerequisites import (TARGET_CHECKS, CheckStatus, Incompatibility,
                                          PrerequisiteResult, SourceRequirements, TargetReport,
                                          blocking, evaluate_target, required_free_bytes,
                                          unreachable_result)

GB = 1000 ** 3
DOMAIN = "corp.example.com"
MVSMS = "Microsoft Virtual System Migration Service"


def _delegation(*others: str) -> list[str]:
    return [f"{svc}/{o}.{DOMAIN}" for o in others for svc in ("cifs", MVSMS)]


SOURCE = SourceRequirements(computer_name="HV01", fqdn=f"HV01.{DOMAIN}", domain=DOMAIN,
                            folder_path="D:\\Hyper-V", switch_name="vSwitch-LAN",
                            disk_bytes=int(24.6 * GB),
                            config_unc=f"\\\\HV01.{DOMAIN}\\D$\\Hyper-V\\Win11-Gold\\Virtual Machines\\x.vmcx",
                            vm_id="x")
SOURCE_DELEGATION = _delegation("HV02", "HV03")


def _domain_target(name="HV02", **changes) -> TargetReport:
    report = TargetReport(computer_name=name, fqdn=f"{name}.{DOMAIN}", domain=DOMAIN,
                          part_of_domain=True, folder_exists=True, switches=["vSwitch-LAN"],
                          live_migration_enabled=True, live_migration_authentication="Kerberos",
                          constrained_delegation=_delegation("HV01", "HV03"),
                          free_bytes=410 * GB, compare_ran=True)
    return dataclasses.replace(report, **changes)


HV04 = TargetReport(computer_name="HV04", fqdn="HV04", domain="WORKGROUP", part_of_domain=False,
                    folder_exists=False, switches=["External Switch"], live_migration_enabled=False,
                    live_migration_authentication="CredSSP", constrained_delegation=None,
                    free_bytes=148 * GB, compare_ran=False,
                    compare_error=f"Access is denied. (\\\\HV01.{DOMAIN}\\D$\\Hyper-V)")


def _by_key(rows: list[PrerequisiteResult]) -> dict[str, PrerequisiteResult]:
    return {r.key: r for r in rows}


def test_a_good_domain_target_passes_every_row_in_order():
    rows = evaluate_target(SOURCE, _domain_target(), SOURCE_DELEGATION)
    assert [(r.key, r.title) for r in rows] == list(TARGET_CHECKS)
    assert all(r.status is CheckStatus.PASSED for r in rows), rows
    assert all(r.fix == "" for r in rows)
    assert not blocking(rows)


def test_the_non_domain_host_hv04_fails_with_fixes():
    rows = _by_key(evaluate_target(SOURCE, HV04, SOURCE_DELEGATION))
    for key in ("folder", "switch", "domain", "live-migration", "compare-vm"):
        assert rows[key].status is CheckStatus.FAILED, key
        assert rows[key].fix, key
    assert rows["switch"].fix == ("Create the virtual switch 'vSwitch-LAN' on HV04 (Hyper-V Manager → "
                                  "Virtual Switch Manager), or rename its switch.")
    assert rows["switch"].found == "External Switch"
    assert "Workgroup" in rows["domain"].found and "Join HV04 to corp.example.com" in rows["domain"].fix
    assert rows["live-migration"].found == "Disabled, CredSSP"
    assert "Kerberos" in rows["live-migration"].fix and "Enable-VMMigration" in rows["live-migration"].fix
    assert "Access is denied" in rows["compare-vm"].found
    assert rows["folder"].found == "Does not exist" and "D:\\Hyper-V" in rows["folder"].fix
    # the source's list lacks HV04: failed, naming the missing entries
    assert rows["delegation"].status is CheckStatus.FAILED
    assert "cifs/HV04" in rows["delegation"].found and "Active Directory Users" in rows["delegation"].fix
    # 148 GB free is enough for 24.6 GB twice plus 20 GB
    assert rows["free-space"].status is CheckStatus.PASSED
    assert blocking(list(rows.values()))


def test_switch_names_compare_in_any_case_and_an_unconnected_source_needs_none():
    rows = _by_key(evaluate_target(SOURCE, _domain_target(switches=["VSWITCH-lan"]), SOURCE_DELEGATION))
    assert rows["switch"].status is CheckStatus.PASSED
    loose = dataclasses.replace(SOURCE, switch_name="")
    rows = _by_key(evaluate_target(loose, _domain_target(switches=[]), SOURCE_DELEGATION))
    assert rows["switch"].status is CheckStatus.PASSED


def test_another_domain_fails_and_a_workgroup_source_says_to_join_the_source():
    rows = _by_key(evaluate_target(SOURCE, _domain_target(domain="lab.example.com"), SOURCE_DELEGATION))
    assert rows["domain"].status is CheckStatus.FAILED and rows["domain"].found == "lab.example.com"
    wg = dataclasses.replace(SOURCE, domain="WORKGROUP")
    rows = _by_key(evaluate_target(wg, _domain_target(), SOURCE_DELEGATION))
    assert rows["domain"].status is CheckStatus.FAILED
    assert "source host HV01" in rows["domain"].fix


def test_live_migration_with_credssp_fails():
    rows = _by_key(evaluate_target(SOURCE, _domain_target(live_migration_authentication="CredSSP"),
                                   SOURCE_DELEGATION))
    assert rows["live-migration"].status is CheckStatus.FAILED
    assert rows["live-migration"].found == "Enabled, CredSSP"


def test_delegation_checked_both_ways_case_insensitively():
    upper = [e.upper() for e in SOURCE_DELEGATION]
    rows = _by_key(evaluate_target(SOURCE, _domain_target(), upper))
    assert rows["delegation"].status is CheckStatus.PASSED
    # the target lacks the Migration Service entry for the source
    partial = [e for e in _delegation("HV01") if not e.startswith(MVSMS)]
    rows = _by_key(evaluate_target(SOURCE, _domain_target(constrained_delegation=partial),
                                   SOURCE_DELEGATION))
    d = rows["delegation"]
    assert d.status is CheckStatus.FAILED
    assert f"HV02: {MVSMS}/HV01.{DOMAIN}" in d.found and "cifs" not in d.found
    assert "computer account of HV02" in d.fix and "computer account of HV01" not in d.fix


def test_unreadable_delegation_is_a_warning_with_how_to_check_it():
    rows = evaluate_target(SOURCE, _domain_target(constrained_delegation=None), SOURCE_DELEGATION)
    d = _by_key(rows)["delegation"]
    assert d.status is CheckStatus.WARNING and "could not be read" in d.found.lower()
    assert "HV02" in d.found and "Active Directory Users and Computers" in d.fix
    assert not blocking(rows)
    d = _by_key(evaluate_target(SOURCE, _domain_target(), None))["delegation"]
    assert d.status is CheckStatus.WARNING and "HV01" in d.found


def test_the_source_host_as_its_own_target_needs_no_delegation():
    me = _domain_target("HV01", constrained_delegation=[])
    rows = _by_key(evaluate_target(SOURCE, me, []))
    assert rows["delegation"].status is CheckStatus.PASSED and "same host" in rows["delegation"].found
    assert not blocking(list(rows.values()))


def test_free_space_in_gigabytes_with_one_decimal():
    need = required_free_bytes(SOURCE.disk_bytes)           # 2 × 24.6 + 20 = 69.2 GB
    assert need == int(69.2 * GB)
    rows = _by_key(evaluate_target(SOURCE, _domain_target(free_bytes=need - 1), SOURCE_DELEGATION))
    f = rows["free-space"]
    assert f.status is CheckStatus.FAILED and f.expected == "At least 69.2 GB"
    assert f.found == "69.2 GB free" and "Free at least 0.1 GB" in f.fix
    rows = _by_key(evaluate_target(SOURCE, _domain_target(free_bytes=need), SOURCE_DELEGATION))
    assert rows["free-space"].status is CheckStatus.PASSED
    rows = _by_key(evaluate_target(SOURCE, _domain_target(free_bytes=12 * GB), SOURCE_DELEGATION))
    assert rows["free-space"].found == "12.0 GB free" and "57.2 GB" in rows["free-space"].fix


def test_compare_vm_incompatibilities_are_listed_with_their_fixes():
    items = [Incompatibility(33012, "Could not find Ethernet switch 'vSwitch-LAN'.", "Network Adapter"),
             Incompatibility(40, "The virtual machine's configuration version 10.0 is not supported "
                                 "by this host.", "Win11-Gold"),
             Incompatibility(99999, "Something unusual.")]
    rows = _by_key(evaluate_target(SOURCE, _domain_target(incompatibilities=items), SOURCE_DELEGATION))
    c = rows["compare-vm"]
    assert c.status is CheckStatus.FAILED
    assert "Could not find Ethernet switch 'vSwitch-LAN'. (33012)" in c.found and "(40)" in c.found
    assert "virtual switch" in c.fix and "older Hyper-V" in c.fix and "Resolve each" in c.fix


def test_compare_vm_not_run_without_an_error_text_still_fails():
    rows = _by_key(evaluate_target(SOURCE, _domain_target(compare_ran=False), SOURCE_DELEGATION))
    assert rows["compare-vm"].status is CheckStatus.FAILED and rows["compare-vm"].fix


def test_unreachable_is_one_failed_row_naming_the_host():
    rows = unreachable_result("HV03", "The WinRM client cannot complete the operation.")
    assert len(rows) == 1 and rows[0].key == "reachable"
    assert rows[0].status is CheckStatus.FAILED and "HV03" in rows[0].fix
    assert rows[0].found == "The WinRM client cannot complete the operation."
    assert blocking(rows)


@pytest.mark.parametrize("statuses, blocks", [
    ([], False),
    ([CheckStatus.PASSED, CheckStatus.WARNING], False),
    ([CheckStatus.PASSED, CheckStatus.FAILED], True),
])
def test_blocking_means_a_failed_row(statuses, blocks):
    rows = [PrerequisiteResult("k", "t", "e", "f", s) for s in statuses]
    assert blocking(rows) is blocks
