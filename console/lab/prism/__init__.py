"""The Prism lab: a simulated Nutanix Prism Element (REST v2.0) and Prism Central (REST v3) over HTTPS,
with a self-signed certificate kept in the lab state, persisted clusters and VMs, tasks that progress
and can fail part-way, v3 paging, and fault switches. It never imports the Nutanix adapter.

    from console.lab.prism import PrismLab, PrismSpec
    prism = PrismLab(state_dir, speed=50, spec=PrismSpec(extra_vms_pe01=1200))
    pe, pc = prism.start()                  # [LabPrism(kind, name, url, username, password, fingerprint)]
    prism.set_fault("NTNX-PE-01", "clone-fails-60")
    prism.stop()

Usually started by ``console.lab.Lab`` (``Lab(..., prism=True)``; ``lab.prism`` lists the endpoints).
"""
from __future__ import annotations

from .build import ODD_NAME, PC, PE01, PE02, PrismSpec
from .certs import fingerprint_of
from .lab import ENDPOINTS, FAULTS, PASSWORD, USERNAME, LabPrism, PrismLab
from .world import DURATIONS, PrismWorld

__all__ = [
    "DURATIONS",
    "ENDPOINTS",
    "FAULTS",
    "ODD_NAME",
    "PASSWORD",
    "PC",
    "PE01",
    "PE02",
    "USERNAME",
    "LabPrism",
    "PrismLab",
    "PrismSpec",
    "PrismWorld",
    "fingerprint_of",
]
