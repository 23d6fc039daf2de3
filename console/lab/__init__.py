"""The embedded lab: simulated standalone Hyper-V hosts served over real WinRM (WS-Management, HTTP,
Basic auth), so the Hyper-V adapter runs against it exactly as against Windows.

    from console.lab import Lab, WorldSpec
    lab = Lab(state_dir, speed=50)          # speed 1.0: real-ish durations; 50: 50x faster
    hosts = lab.start()                     # [LabHost(name, url, username, password), ...]
    lab.set_fault("HV02", "offline")        # "offline", "slow", "auth", "disk-full", or None
    lab.set_fault("HV02", None, delay=2.0)  # later, from a timer thread
    lab.arm_fault("HV01", "offline", script="Set-VMPowerState")   # halfway through the next one
    lab.prism                               # [LabPrism(kind, name, url, username, password, fingerprint)]
    lab.set_fault("NTNX-PC-01", "auth")     # Prism faults: console.lab.prism.FAULTS
    lab.stop()

Prism (console/lab/prism): a Prism Element (NTNX-PE-01, REST v2.0) and a Prism Central (NTNX-PC-01,
REST v3, managing NTNX-PE-01 and NTNX-PE-02) over HTTPS with a self-signed certificate kept in the
state folder; user "admin", password "Nutanix/4u-Lab".

Credentials: USERNAME ("lab\\admin", or "administrator") and PASSWORD; HTTP Basic on 127.0.0.1.

The scripts it understands and the JSON it answers are those of
console/adapters/hyperv/scripts/CONTRACT.md; the lab never imports the adapter and never evaluates
anything it receives.
"""
from __future__ import annotations

from .hyperv_model import FAULTS, SimHost, VirtualMachine
from .lab import ACCEPTED_USERS, PASSWORD, USERNAME, Lab, LabHost, serve_forever
from .prism import LabPrism, PrismLab, PrismSpec
from .world import World, WorldSpec
from .world_builder import HOSTILE_NAMES

__all__ = [
    "ACCEPTED_USERS", "FAULTS", "HOSTILE_NAMES", "Lab", "LabHost", "LabPrism", "PASSWORD", "PrismLab",
    "PrismSpec", "SimHost", "USERNAME", "VirtualMachine", "World", "WorldSpec", "serve_forever",
]
