"""How long the lab's template operations take (seconds at speed 1.0; divided by the lab's speed, x10
on a host with the "slow" fault). Documented in console/adapters/hyperv/scripts/CONTRACT.md so that a
benchmark can compute the ideal schedule of a distribution from the lab's own figures:

    export_seconds(b) + ceil(N / C) * copy_seconds(b) + import_seconds(b)

for N targets copied C at a time (each copy runs at its own full rate: the lab's SMB links do not
share bandwidth).
"""
from __future__ import annotations

MB = 1000 ** 2
GB = 1000 ** 3

TIMINGS: dict[str, float] = {
    "export-base": 2.0,                 # Export-VMSnapshot: fixed part (configuration, metadata)
    "export-rate": 400 * MB,            # ... plus the disk files at 400 MB/s
    "copy-rate": 110 * MB,              # robocopy over SMB, one copy, 110 MB/s
    "import-base": 3.0,                 # Import-VM -Copy -GenerateNewId: fixed part
    "import-rate": 1 * GB,              # ... plus the local copy of the disks at 1 GB/s
    "checkpoint": 2.0,                  # Checkpoint-VM (Standard, VM off)
    "apply-checkpoint": 3.0,            # Restore-VMSnapshot
    "remove-checkpoint": 1.0,           # Remove-VMSnapshot (merge of an off VM's small change)
    "test-target": 0.8,                 # Test-TemplateTarget (facts + Compare-VM)
    "remove-copy": 1.0,                 # Remove-TemplateCopy (Remove-VM + Remove-Item)
    "remove-export": 0.5,               # Remove-TemplateExport
    "read": 0.3,                        # Get-TemplateSource, Get-TemplateRequirements, Get-TemplateCheckpoints
    "copy-start": 0.3,                  # Start-TemplateCopy (returns at once: the copy runs detached)
    "copy-get": 0.1,                    # Get-TemplateCopy
    "copy-stop": 0.3,                   # Stop-TemplateCopy
}


def _check_speed(speed: float) -> float:
    if speed <= 0:
        raise ValueError("speed must be positive")
    return float(speed)


def export_seconds(nbytes: int, speed: float = 1.0) -> float:
    """Export-TemplateCheckpoint of a checkpoint whose disk files hold ``nbytes``."""
    return (TIMINGS["export-base"] + nbytes / TIMINGS["export-rate"]) / _check_speed(speed)


def copy_seconds(nbytes: int, speed: float = 1.0) -> float:
    """One Start-TemplateCopy from start to done (independent of other copies running at once)."""
    return nbytes / TIMINGS["copy-rate"] / _check_speed(speed)


def import_seconds(nbytes: int, speed: float = 1.0) -> float:
    """Import-TemplateCopy of a copied export of ``nbytes``."""
    return (TIMINGS["import-base"] + nbytes / TIMINGS["import-rate"]) / _check_speed(speed)


def seconds(key: str, speed: float = 1.0) -> float:
    """A fixed duration of TIMINGS at ``speed``."""
    return TIMINGS[key] / _check_speed(speed)
