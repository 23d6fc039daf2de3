"""Providers and what they contain: hosts, VMs, host facts. Plain data, no I/O."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ProviderKind(str, enum.Enum):
    HYPERV = "hyperv"                  # standalone Hyper-V host, PowerShell over WinRM
    HYPERV_CLUSTER = "hyperv-cluster"  # Hyper-V failover cluster
    NUTANIX_PE = "nutanix-pe"          # Prism Element, REST v2.0
    NUTANIX_PC = "nutanix-pc"          # Prism Central, REST v3

    @property
    def label(self) -> str:
        return {
            ProviderKind.HYPERV: "Microsoft Hyper-V (standalone)",
            ProviderKind.HYPERV_CLUSTER: "Microsoft Hyper-V (failover cluster)",
            ProviderKind.NUTANIX_PE: "Nutanix AHV (Prism Element)",
            ProviderKind.NUTANIX_PC: "Nutanix AHV (Prism Central)",
        }[self]


class WinRMTransport(str, enum.Enum):
    NTLM = "ntlm"
    KERBEROS = "kerberos"
    BASIC = "basic"


@dataclass
class ConnectionSettings:
    """How to reach one provider. The password is never here: it lives in console.secrets."""

    kind: ProviderKind
    address: str                    # host name, IP, or full URL as typed
    port: int = 5985
    use_https: bool = False
    transport: WinRMTransport = WinRMTransport.NTLM
    username: str = ""
    allow_insecure_basic: bool = False   # explicit, visible opt-in for Basic over HTTP off loopback
    pinned_fingerprint: str = ""         # SHA-256 of an accepted self-signed certificate


@dataclass
class Provider:
    id: int | None
    name: str                      # display name, unique in the farm
    settings: ConnectionSettings
    lab: bool = False              # registered by the embedded lab
    created: str = ""              # ISO-8601 UTC

    @property
    def kind(self) -> ProviderKind:
        return self.settings.kind


class PowerState(str, enum.Enum):
    RUNNING = "Running"
    OFF = "Off"
    SAVED = "Saved"
    PAUSED = "Paused"
    STARTING = "Starting"
    STOPPING = "Stopping"
    UNKNOWN = "Unknown"


class PowerAction(str, enum.Enum):
    START = "start"
    SHUTDOWN = "shutdown"   # graceful, through the guest
    STOP = "stop"           # turn off
    RESTART = "restart"

    @property
    def label(self) -> str:
        return {"start": "Start", "shutdown": "Shut down", "stop": "Turn off",
                "restart": "Restart"}[self.value]

    def allowed_from(self, state: PowerState) -> bool:
        """Which power states the action makes sense from (the console greys out the rest)."""
        if self is PowerAction.START:
            return state in (PowerState.OFF, PowerState.SAVED, PowerState.PAUSED)
        return state is PowerState.RUNNING


class HostStatus(str, enum.Enum):
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth-failed"
    UNKNOWN = "unknown"


@dataclass
class VirtualDisk:
    path: str
    size_bytes: int = 0        # provisioned size
    file_bytes: int = 0        # bytes used on the volume
    parent_path: str = ""      # differencing disks


@dataclass
class VM:
    id: str                         # hypervisor's own id (Hyper-V VMId GUID, Nutanix uuid)
    name: str
    host: str                       # name of the host it runs on ("" for a powered-off AHV VM)
    cluster: str = ""               # Nutanix cluster name; "" for standalone Hyper-V
    state: PowerState = PowerState.UNKNOWN
    cpu_count: int = 1
    memory_bytes: int = 0
    uptime_seconds: int = 0
    generation: int = 2
    version: str = ""               # configuration version
    path: str = ""                  # folder of its configuration
    switch: str = ""                # first network adapter's switch
    disks: list[VirtualDisk] = field(default_factory=list)
    guest_agent: bool = False       # integration services / guest tools answering
    notes: str = ""
    nics: list[str] = field(default_factory=list)   # network names, in order


@dataclass
class Snapshot:
    """A point-in-time copy of a VM (Prism Element snapshot, Prism Central recovery point) that clones
    can be made from."""

    id: str
    name: str
    vm_id: str
    created: str = ""               # ISO-8601 UTC, "" when the hypervisor does not say


@dataclass
class VirtualSwitch:
    name: str
    switch_type: str = "External"   # External, Internal, Private


@dataclass
class Volume:
    path: str                       # e.g. "C:\\"
    size_bytes: int
    free_bytes: int


@dataclass
class LiveMigrationSettings:
    enabled: bool = False
    authentication: str = "CredSSP"        # CredSSP or Kerberos
    max_migrations: int = 2
    constrained_delegation: list[str] | None = None  # None: could not be read


@dataclass
class HostFacts:
    """What Test connection found on one host."""

    computer_name: str
    os_caption: str = ""
    os_version: str = ""
    hyperv_version: str = ""
    domain: str = ""
    part_of_domain: bool = False
    logical_processors: int = 0
    memory_bytes: int = 0
    vm_path: str = ""               # default virtual machine path
    vhd_path: str = ""              # default virtual hard disk path
    live_migration: LiveMigrationSettings = field(default_factory=LiveMigrationSettings)
    switches: list[VirtualSwitch] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)

    @property
    def free_bytes(self) -> int:
        return sum(v.free_bytes for v in self.volumes)


@dataclass
class Host:
    name: str
    cluster: str = ""               # Nutanix cluster name; "" for standalone Hyper-V
    status: HostStatus = HostStatus.UNKNOWN
    facts: HostFacts | None = None
    vms: list[VM] = field(default_factory=list)
    error: str = ""                 # why it is unreachable


@dataclass
class Inventory:
    """What one provider holds, as read by one refresh."""

    provider_id: int
    hosts: list[Host] = field(default_factory=list)
