"""Checks of what an administrator types for a pool, and the arithmetic of pools: the name, the
clone naming pattern (room for the maximum, no collision with VMs that exist), the scale, the
expected time to usable / independent per method, batches of a rolling update, the next free names,
and which provisioning methods a provider can do.

Each check returns the cleaned value or raises ValidationError with the field the editor marks and
a sentence that says what to change.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sized
from dataclasses import dataclass

from .errors import ValidationError
from .naming import NETBIOS_MAX, NamingPattern
from .template_rules import _invisible, _shown, check_folder_name
from .templates import ProvisioningMethod

#: the pool's name becomes the folder <VM path>\VDI-Pools\<pool name> on every target
POOL_NAME_MAX = 64
MAXIMUM_LIMIT = 5000
#: one year and a day: beyond that "never" (0) is what is meant
DELETE_AFTER_LIMIT = 366 * 24 * 60
#: a linked clone grows its differencing disk by about this much (profile, updates, page file)
LINKED_DISK_GROWTH_BYTES = 2 * 1024 ** 3
#: how many colliding names a sentence lists before "and N more"
_SHOWN_COLLISIONS = 3

_TOKEN = re.compile(r"%ID(?::\d+)?(?::\d+)?%")
# A computer name is also a DNS host label: ASCII letters, digits and hyphens only.
_HOST_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


# -- the pool's name -------------------------------------------------------------------------------
def check_pool_name(name: str) -> str:
    """The pool's name, stripped. It becomes a folder name on every target, so it follows Windows'
    folder-name rules (like template names)."""
    return check_folder_name(name, "pool", POOL_NAME_MAX, "Shorten the name.")


# -- the naming pattern ----------------------------------------------------------------------------
def _parse(pattern: str | NamingPattern) -> NamingPattern:
    """The pattern parsed, with every error on the field "naming_pattern"."""
    if isinstance(pattern, NamingPattern):
        return pattern
    text = (pattern or "").strip()
    example = "For example VDI-%ID:3% gives VDI-001, VDI-002, ..."
    if not text:
        raise ValidationError("Enter a naming pattern for the clones.", example,
                              field="naming_pattern")
    hidden = _invisible(text)
    if hidden:
        raise ValidationError("The naming pattern contains control or invisible characters "
                              f"({_shown(hidden)}).", "Type it again without them.",
                              field="naming_pattern")
    outside = _TOKEN.sub("", text)
    bad = [c for c in outside if c not in _HOST_CHARS and c != "%"]
    if bad:
        raise ValidationError(f"The naming pattern contains characters a computer name cannot have: "
                              f"{_shown(bad)}.", "Use letters A-Z, digits and hyphens; the number "
                              "comes from %ID%.", field="naming_pattern")
    try:
        parsed = NamingPattern.parse(text)
    except ValidationError as exc:
        raise ValidationError(exc.message, exc.hint or example, exc.details,
                              field="naming_pattern") from exc
    if not parsed.prefix or not parsed.prefix[0].isascii() or not parsed.prefix[0].isalpha():
        raise ValidationError("Clone names must start with a letter: a computer name that starts "
                              "with a digit is refused by Active Directory tools and DNS.",
                              "Put a prefix before %ID%, for example VDI-%ID:3%.",
                              field="naming_pattern")
    if (parsed.suffix or "").endswith("-"):
        raise ValidationError("Clone names cannot end with a hyphen (DNS refuses it).",
                              "Remove the hyphen after %ID%.", field="naming_pattern")
    return parsed


def room(pattern: NamingPattern) -> int:
    """How many names the pattern gives."""
    return max(0, 10 ** pattern.digits - pattern.start)


def _token_text(p: NamingPattern) -> str:
    return f"%ID:{p.digits}%" if p.start == 1 else f"%ID:{p.digits}:{p.start}%"


def _name(p: NamingPattern, number: int) -> str:
    return f"{p.prefix}{number:0{p.digits}d}{p.suffix}"


def check_naming(pattern: str, maximum: int, existing_names: Iterable[str] = ()) -> NamingPattern:
    """The parsed pattern when its names start with a letter, have at most 15 characters (NetBIOS),
    leave room for ``maximum`` clones, and the first ``maximum`` names collide with no existing VM
    name on the pool's targets (compared in any case). ``existing_names`` must not hold the pool's
    own clones when a pool is edited."""
    parsed = _parse(pattern)
    available = room(parsed)
    if available < maximum:
        needed = parsed.digits
        while 10 ** needed - parsed.start < maximum:
            needed += 1
        fits = len(parsed.prefix) + needed + len(parsed.suffix) <= NETBIOS_MAX
        token = _token_text(parsed)
        what = (f"gives at most {available} name{'s' if available != 1 else ''} "
                f"({_name(parsed, parsed.start)} … {_name(parsed, 10 ** parsed.digits - 1)})"
                if available else "gives no names (the first number has more digits than %ID% has)")
        better = f"%ID:{needed}%" if parsed.start == 1 else f"%ID:{needed}:{parsed.start}%"
        hint = (f"Use {better} or more digits." if fits else
                f"Use {better} or more digits, with a prefix of at most "
                f"{max(0, NETBIOS_MAX - needed - len(parsed.suffix))} characters "
                f"(names have at most {NETBIOS_MAX} characters).")
        raise ValidationError(f"{token} {what}, fewer than the maximum of {maximum}.", hint,
                              field="naming_pattern")
    taken = {n.casefold() for n in existing_names}
    if taken:
        clashes = [n for n in (_name(parsed, parsed.start + i) for i in range(maximum))
                   if n.casefold() in taken]
        if clashes:
            shown = ", ".join(clashes[:_SHOWN_COLLISIONS])
            more = len(clashes) - _SHOWN_COLLISIONS
            listed = shown + (f" and {more} more" if more > 0 else "")
            verb = "exists" if len(clashes) == 1 else "exist"
            raise ValidationError(f"{listed} already {verb} as VM name{'s' if len(clashes) > 1 else ''} "
                                  "on the pool's targets: the clones would collide with "
                                  f"{'it' if len(clashes) == 1 else 'them'}.",
                                  "Choose another prefix, or start the numbers after them with "
                                  "%ID:N:S%.", field="naming_pattern")
    return parsed


def preview(pattern: str | NamingPattern, count: int = 5) -> list[str]:
    """The first ``count`` names of the pattern (fewer when it has less room)."""
    parsed = _parse(pattern)
    return [_name(parsed, parsed.start + i) for i in range(min(max(0, count), room(parsed)))]


def next_names(pattern: str | NamingPattern, taken: Iterable[str], count: int) -> list[str]:
    """The ``count`` lowest names of the pattern not in ``taken`` (any case); fewer when the pattern
    runs out of room (the caller says so)."""
    parsed = _parse(pattern)
    used = {n.casefold() for n in taken}
    out: list[str] = []
    for number in range(parsed.start, 10 ** parsed.digits):
        if len(out) >= count:
            break
        name = _name(parsed, number)
        if name.casefold() not in used:
            out.append(name)
    return out


# -- scale -----------------------------------------------------------------------------------------
def _whole(value: object, field: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"The {label} must be a whole number.", field=field)
    return value


def check_scale(initial: int, keep_available: int, maximum: int, delete_after_minutes: int = 0,
                per_host_cap: int = 0, targets: int | Sized = 0) -> None:
    """The pool's scale: 1 ≤ maximum ≤ 5000, 0 ≤ initial ≤ maximum, 0 ≤ keep_available ≤ maximum,
    delete-after ≥ 0, and with a per-host cap (> 0) the targets together must hold the maximum.
    ``targets`` is the number of target hosts (or the list of them); with none the cap is not
    checked against the maximum (the services check that targets exist)."""
    maximum = _whole(maximum, "maximum", "maximum")
    initial = _whole(initial, "initial_count", "number of clones created at once")
    keep_available = _whole(keep_available, "keep_available", "number of clones kept available")
    delete_after_minutes = _whole(delete_after_minutes, "delete_unused_after_minutes",
                                  "delete-after time")
    per_host_cap = _whole(per_host_cap, "per_host_cap", "cap per host")
    if not 1 <= maximum <= MAXIMUM_LIMIT:
        raise ValidationError(f"The maximum must be between 1 and {MAXIMUM_LIMIT} clones "
                              f"(not {maximum}).", field="maximum")
    if initial < 0:
        raise ValidationError("The number of clones created at once cannot be negative.",
                              field="initial_count")
    if initial > maximum:
        raise ValidationError(f"{initial} clones created at once is more than the maximum of "
                              f"{maximum}.", "Lower it, or raise the maximum.", field="initial_count")
    if keep_available < 0:
        raise ValidationError("The number of clones kept available cannot be negative.",
                              field="keep_available")
    if keep_available > maximum:
        raise ValidationError(f"A buffer of {keep_available} available clones is more than the "
                              f"maximum of {maximum}.", "Lower the buffer, or raise the maximum.",
                              field="keep_available")
    if not 0 <= delete_after_minutes <= DELETE_AFTER_LIMIT:
        raise ValidationError(f"Delete unused clones after must be between 0 (never) and "
                              f"{DELETE_AFTER_LIMIT} minutes.", field="delete_unused_after_minutes")
    if per_host_cap < 0:
        raise ValidationError("The cap per host cannot be negative (0 means no cap).",
                              field="per_host_cap")
    hosts = len(targets) if isinstance(targets, Sized) else int(targets)
    if per_host_cap and hosts > 0 and per_host_cap * hosts < maximum:
        raise ValidationError(f"{hosts} target host{'s' if hosts != 1 else ''} with at most "
                              f"{per_host_cap} clone{'s' if per_host_cap != 1 else ''} each hold "
                              f"{per_host_cap * hosts}, fewer than the maximum of {maximum}.",
                              f"Raise the cap to at least {-(-maximum // hosts)}, add targets, or "
                              "lower the maximum.", field="per_host_cap")


# -- estimates -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HostFigures:
    """What a target host does per second; the defaults are a typical SSD-backed Hyper-V host, the
    lab passes its own (speed-scaled) figures."""

    local_copy_rate: float = 500e6     # bytes/s, a copy on the host's own disk
    boot_seconds: float = 35.0         # start to guest ready (specialize, rename, join)
    linked_seconds: float = 3.0        # differencing disk + VM
    checkpoint_seconds: float = 2.0
    merge_rate: float = 1e9            # bytes/s, merging a checkpoint


@dataclass(frozen=True)
class Estimate:
    usable_seconds: float
    independent_seconds: float | None    # None: never (a linked clone depends on its version)
    disk_bytes_per_clone: int


def estimate(method: ProvisioningMethod, size_bytes: int,
             figures: HostFigures = HostFigures()) -> Estimate:
    """Expected time to usable, time to independent and disk per clone for a version of
    ``size_bytes``. The merge of a quick clone moves only the checkpoint (about a tenth of the
    image)."""
    method = ProvisioningMethod(method)
    size = max(0, int(size_bytes))
    copy = size / figures.local_copy_rate if figures.local_copy_rate > 0 else 0.0
    if method is ProvisioningMethod.FULL:
        usable = copy + figures.boot_seconds
        return Estimate(usable, usable, size)
    if method is ProvisioningMethod.LINKED:
        return Estimate(figures.linked_seconds + figures.boot_seconds, None,
                        LINKED_DISK_GROWTH_BYTES)
    usable = figures.linked_seconds + figures.checkpoint_seconds + figures.boot_seconds
    merge = size / figures.merge_rate * 0.1 if figures.merge_rate > 0 else 0.0
    return Estimate(usable, usable + copy + merge, size)


# -- rolling updates -------------------------------------------------------------------------------
def plan_batches(clone_names: list[str], batch_size: int) -> list[list[str]]:
    """The clones in batches of ``batch_size``, in the order given."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError("The batch size must be a whole number of at least 1.",
                              field="batch_size")
    names = list(clone_names)
    return [names[i:i + batch_size] for i in range(0, len(names), batch_size)]


# -- methods a provider can do ---------------------------------------------------------------------
NUTANIX_QUICK_REASON = ("Quick clones need Hyper-V differencing disks; Nutanix AHV clones from "
                        "snapshots are already instant (use linked).")


def method_reasons(capabilities: object, distribution_enabled: bool = False
                   ) -> dict[ProvisioningMethod, str]:
    """For each method, "" when the provider can make such clones, else the reason. ``capabilities``
    is the adapter's Capabilities (read by attribute: the domain does not import adapters).
    ``distribution_enabled`` changes no answer today: a template without distribution gives clones
    on its source host from the version's export."""
    del distribution_enabled
    can = {m: bool(getattr(capabilities, attr, False)) for m, attr in (
        (ProvisioningMethod.FULL, "can_full_clone"), (ProvisioningMethod.LINKED, "can_link_clone"),
        (ProvisioningMethod.QUICK, "can_quick_clone"))}
    reasons = {m: "" for m in ProvisioningMethod}
    if not can[ProvisioningMethod.FULL]:
        reasons[ProvisioningMethod.FULL] = "This provider cannot make full clones."
    if not can[ProvisioningMethod.LINKED]:
        reasons[ProvisioningMethod.LINKED] = "This provider cannot make linked clones."
    if not can[ProvisioningMethod.QUICK]:
        # snapshot clones without Hyper-V differencing disks: that is Nutanix AHV
        reasons[ProvisioningMethod.QUICK] = (
            NUTANIX_QUICK_REASON if can[ProvisioningMethod.LINKED]
            and not getattr(capabilities, "can_distribute", False)
            else "This provider cannot make quick clones.")
    return reasons
