"""What an administrator may type for a pool, and the pool arithmetic: name, naming pattern, scale,
estimates, batches, next free names, methods a provider can do."""
from dataclasses import dataclass

import pytest

from console.domain.errors import ValidationError
from console.domain.naming import NamingPattern
from console.domain.pool_rules import (LINKED_DISK_GROWTH_BYTES, NUTANIX_QUICK_REASON, POOL_NAME_MAX,
                                       Estimate, HostFigures, check_naming, check_pool_name,
                                       check_scale, estimate, method_reasons, next_names,
                                       plan_batches, preview)
from console.domain.templates import ProvisioningMethod as M


def _refused(fn, *args, field, words=(), **kw) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        fn(*args, **kw)
    assert info.value.field == field, info.value.message
    for w in words:
        assert w in str(info.value), str(info.value)
    return info.value


# -- pool name -------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, clean", [
    ("Sales", "Sales"), ("  Sales desktops 2024 ", "Sales desktops 2024"),
    ("Überwachung-東京", "Überwachung-東京"), ("O'Brien; team", "O'Brien; team"),
    ("x" * POOL_NAME_MAX, "x" * POOL_NAME_MAX),
])
def test_pool_names_windows_accepts_are_kept(raw, clean):
    assert check_pool_name(raw) == clean


@pytest.mark.parametrize("raw, words", [
    ("", ["Enter a name"]), (None, ["Enter a name"]), ("  \t", ["Enter a name"]),
    ("x" * (POOL_NAME_MAX + 1), ["at most 64"]),
    ('Sales "A"', ['cannot contain "']), ("a/b", ["cannot contain /"]), ("Sales.", ["dot"]),
    ("Sa\u200bles", ["invisible", "U+200B"]), ("Sa\nles", ["control"]),
])
def test_bad_pool_names_are_refused_with_the_reason(raw, words):
    _refused(check_pool_name, raw, field="name", words=words)


# -- naming pattern --------------------------------------------------------------------------------
def test_two_digits_with_a_maximum_of_500_says_how_many_and_what_to_use():
    err = _refused(check_naming, "VDI-%ID:2%", 500, set(), field="naming_pattern")
    assert err.message == ("%ID:2% gives at most 99 names (VDI-01 … VDI-99), fewer than the "
                           "maximum of 500.")
    assert err.hint == "Use %ID:3% or more digits."


def test_room_counts_from_the_start_number():
    assert check_naming("VDI-%ID:3:900%", 100, set()).start == 900
    err = _refused(check_naming, "VDI-%ID:3:902%", 100, set(), field="naming_pattern",
                   words=["%ID:3:902%", "98 names", "VDI-902 … VDI-999", "maximum of 100",
                          "%ID:4:902%"])
    assert "prefix" not in err.hint


def test_room_hint_says_to_shorten_the_prefix_when_more_digits_would_pass_15():
    _refused(check_naming, "VDIPOOLSALES%ID:3%", 5000, set(), field="naming_pattern",
             words=["999 names", "%ID:4%", "prefix of at most 11"])


def test_a_start_beyond_the_digits_gives_no_names():
    _refused(check_naming, "VDI-%ID:2:100%", 5, set(), field="naming_pattern", words=["no names"])


@pytest.mark.parametrize("pattern, words", [
    ("%ID:3%", ["start with a letter"]),
    ("%ID:3%-VDI", ["start with a letter"]),
    ("1VDI-%ID:3%", ["start with a letter"]),
    ("-VDI%ID:3%", ["start with a letter"]),
    ("VDI-%ID:3%-", ["hyphen"]),
    ("VDI_%ID:3%", ["cannot have", "_"]),
    ("VDI %ID:3%", ["cannot have"]),
    ("VDI'%ID:3%", ["cannot have", "'"]),
    ('VDI"%ID:3%', ["cannot have", '"']),
    ("VDI;%ID:3%", ["cannot have", ";"]),
    ("VD;rm%ID:2%", ["cannot have", ";"]),
    ("VDÍ-%ID:3%", ["cannot have", "Í"]),
    ("東京-%ID:3%", ["cannot have"]),
    ("VDI\u200b%ID:3%", ["invisible", "U+200B"]),
    ("VDI-%ID:3%\n", None),              # stripped: accepted below
    ("VDI-", ["exactly one %ID%"]),
    ("VDI-%ID%-%ID%", ["exactly one %ID%"]),
    ("VDI-100%-%ID%", ["cannot have", "%"]),
    ("", ["Enter a naming pattern"]),
    ("VDI-%ID:7%", ["between 1 and 6"]),
    ("VDI-DESKTOP-%ID:4%", ["longer than 15"]),       # 12 + 4 = 16
    ("ABCDEFGHIJKL%ID:4%", ["longer than 15"]),
])
def test_bad_patterns_are_refused_on_the_naming_field(pattern, words):
    if words is None:
        assert check_naming(pattern, 5, set()) == NamingPattern("VDI-", 3, 1, "")
        return
    _refused(check_naming, pattern, 5, set(), field="naming_pattern", words=words)


def test_fifteen_characters_exactly_is_allowed():
    p = check_naming("ABCDEFGHIJK%ID:4%", 5000, set())
    assert len(preview(p, 1)[0]) == 15


def test_collisions_with_existing_vms_in_any_case_name_the_first_ones():
    existing = {"vdi-002", "VDI-004", "VDI-006", "VDI-008", "Other", "VDI-011"}
    err = _refused(check_naming, "VDI-%ID:3%", 10, existing, field="naming_pattern",
                   words=["VDI-002, VDI-004, VDI-006 and 1 more", "already exist"])
    assert "VDI-011" not in err.message      # beyond the maximum: no collision
    one = _refused(check_naming, "VDI-%ID:3%", 10, {"VDI-010"}, field="naming_pattern")
    assert one.message.startswith("VDI-010 already exists as VM name ")
    assert check_naming("VDI-%ID:3%", 10, existing - {"vdi-002", "VDI-004", "VDI-006", "VDI-008"})


def test_preview_and_next_names():
    assert preview("VDI-%ID:3%") == ["VDI-001", "VDI-002", "VDI-003", "VDI-004", "VDI-005"]
    assert preview("LAB%ID:1:8%x", 5) == ["LAB8x", "LAB9x"]
    assert preview("VDI-%ID:2%", 0) == []
    _refused(preview, "9-%ID%", field="naming_pattern")
    assert next_names("VDI-%ID:3%", {"VDI-001", "vdi-003"}, 3) == ["VDI-002", "VDI-004", "VDI-005"]
    assert next_names("A%ID:1%", {"A1", "A2"}, 20) == [f"A{i}" for i in range(3, 10)]
    assert next_names(NamingPattern("A", 1, 1, ""), set(), 0) == []


# -- scale -----------------------------------------------------------------------------------------
def test_good_scales_pass():
    check_scale(0, 0, 1)
    check_scale(10, 5, 5000, 60, 500, 10)
    check_scale(5, 5, 5, 0, 1, [1, 2, 3, 4, 5])
    check_scale(5, 5, 50, 0, 1, [])           # no targets yet: the services refuse that separately


@pytest.mark.parametrize("args, field, words", [
    ((0, 0, 0), "maximum", ["between 1 and 5000"]),
    ((0, 0, 5001), "maximum", ["between 1 and 5000"]),
    ((11, 0, 10), "initial_count", ["more than the maximum of 10"]),
    ((-1, 0, 10), "initial_count", ["negative"]),
    ((0, 600, 500), "keep_available", ["buffer of 600", "maximum of 500"]),
    ((0, -1, 10), "keep_available", ["negative"]),
    ((0, 0, 10, -5), "delete_unused_after_minutes", ["between 0"]),
    ((0, 0, 10, 0, -1), "per_host_cap", ["negative"]),
    ((0, 0, 100, 0, 9, 10), "per_host_cap", ["10 target hosts", "hold 90", "at least 10"]),
    ((0, 0, 7, 0, 2, [1, 2, 3]), "per_host_cap", ["3 target hosts", "at least 3"]),
    ((1.5, 0, 10), "initial_count", ["whole number"]),
    ((0, 0, True), "maximum", ["whole number"]),
    ((0, "3", 10), "keep_available", ["whole number"]),
])
def test_bad_scales_name_the_field(args, field, words):
    _refused(check_scale, *args, field=field, words=words)


# -- estimates -------------------------------------------------------------------------------------
GB40 = 40 * 10 ** 9


def test_estimates_per_method_with_the_default_figures():
    full = estimate(M.FULL, GB40)
    assert full == Estimate(80 + 35.0, 80 + 35.0, GB40)
    linked = estimate(M.LINKED, GB40)
    assert linked == Estimate(3.0 + 35.0, None, LINKED_DISK_GROWTH_BYTES)
    quick = estimate(M.QUICK, GB40)
    assert quick.usable_seconds == pytest.approx(3 + 2 + 35)
    assert quick.independent_seconds == pytest.approx(40 + 80 + 4)
    assert quick.disk_bytes_per_clone == GB40
    assert linked.usable_seconds < quick.usable_seconds < full.usable_seconds


def test_estimates_follow_the_hosts_figures():
    lab = HostFigures(local_copy_rate=1e9, boot_seconds=20, linked_seconds=1.5,
                      checkpoint_seconds=2, merge_rate=2e9)
    assert estimate("full", 10 ** 9, lab).usable_seconds == pytest.approx(21)
    assert estimate(M.QUICK, 10 ** 9, lab).independent_seconds == pytest.approx(23.5 + 1 + 0.05)


# -- batches ---------------------------------------------------------------------------------------
def test_batches_keep_the_order():
    names = [f"VDI-{i:03d}" for i in range(1, 8)]
    assert plan_batches(names, 3) == [names[:3], names[3:6], names[6:]]
    assert plan_batches(names, 100) == [names]
    assert plan_batches([], 2) == []
    for bad in (0, -1, 1.5, True):
        _refused(plan_batches, names, bad, field="batch_size")


# -- methods ---------------------------------------------------------------------------------------
@dataclass
class Caps:
    can_full_clone: bool = False
    can_link_clone: bool = False
    can_quick_clone: bool = False
    can_distribute: bool = False


def test_hyperv_can_do_every_method():
    assert method_reasons(Caps(True, True, True, True), True) == {M.FULL: "", M.LINKED: "", M.QUICK: ""}
    assert method_reasons(Caps(True, True, True, True), False)[M.QUICK] == ""


def test_nutanix_gives_the_quick_reason():
    reasons = method_reasons(Caps(True, True, False, False), False)
    assert reasons[M.FULL] == reasons[M.LINKED] == ""
    assert reasons[M.QUICK] == NUTANIX_QUICK_REASON
    assert "Nutanix AHV" in reasons[M.QUICK] and "use linked" in reasons[M.QUICK]


def test_a_provider_without_clones_gives_a_reason_for_each():
    reasons = method_reasons(object(), False)
    assert all(reasons[m] for m in M) and "Nutanix" not in reasons[M.QUICK]
