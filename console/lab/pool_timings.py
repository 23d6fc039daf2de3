"""How long the lab's pool clone operations take (seconds at speed 1.0; divided by the lab's speed, x10
on a host with the "slow" fault). Documented in console/adapters/hyperv/scripts/CONTRACT.md ("Pool
scripts") so that a benchmark can compute the ideal schedule of a provisioning run from the lab's own
figures: each clone takes ``usable_seconds(method, bytes, preparation)`` from New-PoolClone to the
guest reporting ready, and a host runs as many of them at once as the console allows (the lab's hosts
do not slow down with concurrency), so N clones on H hosts at C per host take

    ceil(N / (H * C)) * usable_seconds(...)

plus, for quick clones, ``independent_extra_seconds(bytes)`` for the last ones to become independent.
"""
from __future__ import annotations

MB = 1000 ** 2
GB = 1000 ** 3

#: what a linked (or quick) clone's differencing disk grows to while the guest prepares and runs: a
#: stated constant, the figure pool_rules.estimate uses for the disk per linked clone
LINKED_GROWTH_BYTES = 2 * GB

TIMINGS: dict[str, float] = {
    "linked-create": 1.5,           # New-VHD -Differencing per disk + New-VM
    "quick-create": 1.5,            # the same, then ...
    "quick-checkpoint": 2.0,        # ... Checkpoint-VM "VDI quick clone"
    "full-create": 2.0,             # New-VM and the fixed part of the copy ...
    "full-copy-rate": 1 * GB,       # ... plus Copy-Item of the base disk(s) at 1 GB/s (local)
    "prepare": 0.3,                 # Set-PoolClonePreparation (KVP host-to-guest items)
    "start": 2.0,                   # Start-PoolClone (Start-VM returns once the VM runs)
    "boot": 20.0,                   # guest boot after Start-VM, until the heartbeat is OK
    "sysprep": 60.0,                # after boot: specialize, rename, join, reboot -> ready
    "rename-join": 15.0,            # after boot: rename + domain join + reboot -> ready
    "ready": 0.0,                   # after boot with nothing to prepare -> ready
    "guests": 0.2,                  # Get-PoolCloneGuests (one call for many clones)
    "copy-start": 0.3,              # Start-QuickCloneCopy (returns at once: the copy runs detached)
    "copy-get": 0.1,                # Get-QuickCloneCopy
    "quick-copy-rate": 1 * GB,      # the background copy of the base disk(s), local, 1 GB/s
    "reparent": 0.5,                # Complete-QuickClone: Set-VHD -ParentPath per disk ...
    "merge-rate": 2 * GB,           # ... then Remove-VMSnapshot merges the checkpoint at 2 GB/s
    "remove": 1.0,                  # Remove-PoolClone
    "list": 0.3,                    # Get-PoolClones
    "logoff": 0.5,                  # Invoke-PoolCloneLogoff
}

PREPARATION_KEYS = {"sysprep": "sysprep", "rename-join": "rename-join", "": "ready", "none": "ready"}


def _check_speed(speed: float) -> float:
    if speed <= 0:
        raise ValueError("speed must be positive")
    return float(speed)


def seconds(key: str, speed: float = 1.0) -> float:
    """A fixed duration of TIMINGS at ``speed``."""
    return TIMINGS[key] / _check_speed(speed)


def create_seconds(method: str, nbytes: int, speed: float = 1.0) -> float:
    """New-PoolClone of ``method`` ("full", "linked", "quick") over base disks of ``nbytes``."""
    if method == "full":
        base = TIMINGS["full-create"] + nbytes / TIMINGS["full-copy-rate"]
    elif method == "quick":
        base = TIMINGS["quick-create"] + TIMINGS["quick-checkpoint"]
    elif method == "linked":
        base = TIMINGS["linked-create"]
    else:
        raise ValueError(f"unknown clone method {method!r}")
    return base / _check_speed(speed)


def preparation_seconds(method: str, speed: float = 1.0) -> float:
    """What the guest agent takes after boot: "sysprep", "rename-join" or "" (nothing to do)."""
    return TIMINGS[PREPARATION_KEYS.get(method, "rename-join")] / _check_speed(speed)


def usable_seconds(method: str, nbytes: int, preparation: str = "rename-join", speed: float = 1.0) -> float:
    """One clone from New-PoolClone to the guest reporting ready, calls back to back: create,
    prepare, start, boot, the guest's preparation."""
    return (create_seconds(method, nbytes, speed) + seconds("prepare", speed) + seconds("start", speed)
            + seconds("boot", speed) + preparation_seconds(preparation, speed))


def quick_copy_seconds(nbytes: int, speed: float = 1.0) -> float:
    """Start-QuickCloneCopy from start to done."""
    return nbytes / TIMINGS["quick-copy-rate"] / _check_speed(speed)


def merge_seconds(checkpoint_bytes: int = LINKED_GROWTH_BYTES, speed: float = 1.0) -> float:
    """Complete-QuickClone: re-parent, then merge the checkpoint (its size only: fast)."""
    return (TIMINGS["reparent"] + checkpoint_bytes / TIMINGS["merge-rate"]) / _check_speed(speed)


def independent_extra_seconds(nbytes: int, speed: float = 1.0) -> float:
    """A quick clone, after it is usable: the copy of its base and the merge."""
    return quick_copy_seconds(nbytes, speed) + merge_seconds(LINKED_GROWTH_BYTES, speed)
