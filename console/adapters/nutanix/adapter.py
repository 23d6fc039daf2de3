"""What Prism Element and Prism Central adapters share: settings, the HTTP client, the task loop,
telling the two kinds apart, version checks, idempotency keys, and the power, snapshot, clone and
delete flows (each API supplies only its requests and its VM lookups)."""
from __future__ import annotations

from typing import Any

import httpx

from console.adapters.base import Capabilities, CheckResult, NullReporter, Reporter
from console.domain.errors import (
    ConflictError,
    ConsoleError,
    InvalidStateError,
    NotFoundError,
    PrerequisiteError,
    ProtocolError,
    ValidationError,
    WrongEndpointError,
)
from console.domain.inventory import VM, ConnectionSettings, HostFacts, PowerAction, PowerState, ProviderKind
from console.domain.tasks import LogLevel

from .address import prism_base_url
from .checks import add_undo, checked_name, checked_uuid, request_uuid, undo_done
from .client import RETRY_DELAYS, PrismClient, RequestHook
from .convert import v3_is_prism_central, version_tuple
from .errors import TaskFailedError
from .pools import PrismPoolOperations
from .tasks import DEFAULT_INTERVAL, TaskPoller, TaskStatus

#: oldest Prism the adapters were written for: AOS 5.10 (v2.0 with disk and NIC config, v3 clone)
MIN_VERSION = (5, 10)
_USERS_ME = "/api/nutanix/v3/users/me"
_KIND_LABEL = {"nutanix-pe": "Prism Element", "nutanix-pc": "Prism Central"}


class PrismAdapter(PrismPoolOperations):
    """Base of PrismElementAdapter (v2.0) and PrismCentralAdapter (v3). Called itself
    (``NutanixAdapter(settings, password)``) it makes the class for ``settings.kind``."""

    _by_kind: dict[ProviderKind, type["PrismAdapter"]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            PrismAdapter._by_kind[cls.kind] = cls

    def __new__(cls, settings: ConnectionSettings, *args: Any, **kwargs: Any) -> "PrismAdapter":
        if cls is PrismAdapter:
            try:
                cls = PrismAdapter._by_kind[ProviderKind(settings.kind)]
            except (KeyError, ValueError):
                raise ValidationError(f"A {ProviderKind(settings.kind).label} provider is not reached "
                                      "through Prism.", "Choose Nutanix AHV (Prism Element) or "
                                      "(Prism Central).", field="kind") from None
        return super().__new__(cls)

    kind: ProviderKind
    endpoint_kind: str
    api: str                           # "v2" or "v3": which task endpoint the poller uses
    capabilities = Capabilities(can_power=True, can_snapshot=True, can_full_clone=True,
                                can_link_clone=True, can_quick_clone=False, can_distribute=False,
                                can_clone_vm=True)

    def __init__(self, settings: ConnectionSettings, password: str, *,
                 client: httpx.AsyncClient | None = None, poll_interval: float = DEFAULT_INTERVAL,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS,
                 request_hooks: list[RequestHook] | None = None) -> None:
        if ProviderKind(settings.kind) is not self.kind:
            raise ValidationError(f"A {ProviderKind(settings.kind).label} provider cannot use the "
                                  f"{self.kind.label} connection.", field="kind")
        self.settings = settings
        self.base_url = prism_base_url(settings)
        if not settings.username.strip():
            raise ValidationError("Enter the Prism user name.", "For example admin, or user@corp.example.com.",
                                  field="username")
        if not password:
            raise ValidationError(f"Enter the password for {settings.username}.", field="password")
        self.where = f"{_KIND_LABEL[self.endpoint_kind]} at {self.base_url.split('://', 1)[1]}"
        self.http = PrismClient(self.base_url, settings.username, password, where=self.where,
                                pinned_fingerprint=settings.pinned_fingerprint, client=client,
                                retry_delays=retry_delays, request_hooks=request_hooks)
        self.tasks = TaskPoller(self.http, self.api, poll_interval)

    # ------------------------------------------------------------------ kind and version
    async def detect_kind(self) -> str:
        """"nutanix-pc" or "nutanix-pe" from users/me's x-ntnx-env header; without the header, Prism
        Central is the one whose clusters/list has the PRISM_CENTRAL pseudo-cluster; "" when the
        address has no v3 API at all (an old Prism Element)."""
        response = await self.http.send("GET", _USERS_ME, what="the signed-in user", accept=(404,))
        env = response.headers.get("x-ntnx-env", "").strip().lower()
        if env in ("pc", "pe"):
            return f"nutanix-{env}"
        if response.status_code == 404:
            return ""
        listing = await self.http.send("POST", "/api/nutanix/v3/clusters/list", what="the cluster list",
                                       json={"kind": "cluster", "length": 500}, idempotent=True,
                                       accept=(404,))
        if listing.status_code == 404:
            return ""
        entities = (listing.json() or {}).get("entities") or []
        return "nutanix-pc" if any(v3_is_prism_central(e) for e in entities) else "nutanix-pe"

    def wrong_endpoint(self, actual: str) -> WrongEndpointError:
        actual_label, wanted_label = _KIND_LABEL[actual], _KIND_LABEL[self.endpoint_kind]
        hint = (f"Change this provider to Nutanix AHV ({actual_label})"
                + (": one Prism Central provider reaches every cluster it manages."
                   if actual == "nutanix-pc" else
                   ", or enter the address of the Prism Central that manages this cluster."))
        return WrongEndpointError(f"This address is {actual_label}, not {wanted_label}.", hint,
                                  details=f"{self.base_url}: x-ntnx-env / clusters/list say {actual}",
                                  actual_kind=actual)

    def require_version(self, version: str, product: str) -> None:
        numbers = version_tuple(version)
        if numbers and numbers[0] < 2000 and numbers < MIN_VERSION:      # pc.2022.x is newer than 5.x
            raise PrerequisiteError(
                f"{product} runs version {version}, which is too old for the console "
                f"(it needs {'.'.join(map(str, MIN_VERSION))} or later).",
                f"Upgrade {product} (Life Cycle Manager), then test the connection again.",
                details=f"{self.base_url}: version {version}")

    async def check(self, reporter: Reporter = NullReporter()) -> CheckResult:
        reporter.progress(0.1, f"Connecting to {self.where}")
        reporter.log(LogLevel.INFO, f"Connecting to {self.base_url} as {self.settings.username}")
        actual = await self.detect_kind()
        if actual and actual != self.endpoint_kind:
            raise self.wrong_endpoint(actual)
        if not actual and self.endpoint_kind == "nutanix-pc":
            raise ProtocolError(f"{self.where} has no Prism Central API (/api/nutanix/v3 is not there).",
                                "Check the address; an older Prism Element is added as Nutanix AHV "
                                "(Prism Element).", details=f"{self.base_url}{_USERS_ME}: 404")
        reporter.progress(0.4, "Reading the version and the hosts")
        version, hosts = await self.version_and_hosts()
        reporter.log(LogLevel.INFO, f"{self.where}: {version}; {len(hosts)} host(s)")
        reporter.progress(1.0, "Done")
        return CheckResult(endpoint_kind=self.endpoint_kind, version=version, hosts=hosts)

    async def facts(self, reporter: Reporter = NullReporter()) -> list[HostFacts]:
        reporter.progress(0.1, f"Reading the hosts of {self.where}")
        _, hosts = await self.version_and_hosts()
        reporter.progress(1.0, "Done")
        return hosts

    async def version_and_hosts(self) -> tuple[str, list[HostFacts]]:
        raise NotImplementedError

    # ------------------------------------------------------------------ tasks
    async def follow(self, task_uuid: str, reporter: Reporter, what: str,
                     start: float = 0.1, end: float = 0.95) -> TaskStatus:
        """Wait for a Prism task through the provider's one loop; its own percentage drives the
        reporter between ``start`` and ``end``. Raises TaskFailedError when it failed."""
        reporter.log(LogLevel.DEBUG, f"Prism task {task_uuid}: {what}")

        def progress(percent: int, message: str) -> None:
            reporter.progress(start + (end - start) * min(max(percent, 0), 100) / 100,
                              f"{what[:1].upper()}{what[1:]}: {percent}%")

        status = await self.tasks.wait(task_uuid, progress)
        if status.state == "failed":
            raise TaskFailedError(f"Prism could not complete {what}: {status.message or 'the task failed'}"
                                  f" (at {status.percent}%).",
                                  "See the task in Prism (Tasks) for more; retrying is safe.",
                                  details=str(status.raw)[:2000], task_uuid=task_uuid)
        return status

    @staticmethod
    def task_uuid(body: Any, what: str) -> str:
        task = (body or {}).get("task_uuid") if isinstance(body, dict) else None
        if not task and isinstance(body, dict):
            task = ((body.get("status") or {}).get("execution_context") or {}).get("task_uuid")
        if isinstance(task, list):
            task = task[0] if task else None
        if not task:
            raise ConsoleError(f"Prism accepted {what} but returned no task to follow.",
                               "Refresh the inventory to see whether it happened.", details=str(body)[:1000])
        return str(task)

    # ------------------------------------------------------------------ one VM (each API supplies)
    async def find_vm(self, vm_id: str) -> VM | None:
        """The VM, or None when Prism has no VM with that uuid."""
        raise NotImplementedError

    async def existing_vm(self, vm_id: str) -> VM:
        """The VM; NotFoundError (see vm_gone) when someone deleted it."""
        raise NotImplementedError

    def vm_path(self, vm_id: str) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ power
    @staticmethod
    def nothing_to_do(vm: VM, action: PowerAction, reporter: Reporter) -> bool:
        """Log the VM's state; True (and Done) when it is already where ``action`` leads. A guest
        shutdown or restart of a VM that is not running is an InvalidStateError."""
        reporter.log(LogLevel.INFO, f"VM '{vm.name}' on {vm.cluster} is {vm.state.value}")
        if action is PowerAction.START and vm.state is PowerState.RUNNING or (
                action in (PowerAction.STOP, PowerAction.SHUTDOWN) and vm.state is PowerState.OFF):
            reporter.log(LogLevel.INFO, f"Nothing to do for VM '{vm.name}': it is already {vm.state.value}.")
            reporter.progress(1.0, "Done")
            return True
        if action in (PowerAction.SHUTDOWN, PowerAction.RESTART) and vm.state is not PowerState.RUNNING:
            raise InvalidStateError(f"VM '{vm.name}' is {vm.state.value}: only a running VM can be "
                                    f"{'shut down' if action is PowerAction.SHUTDOWN else 'restarted'} "
                                    "through its guest.", "Start it, or turn it off.")
        return False

    async def powered(self, vm_id: str, reporter: Reporter) -> VM:
        """The VM as it is after a power change."""
        after = await self.existing_vm(vm_id)
        reporter.log(LogLevel.INFO, f"VM '{after.name}' is now {after.state.value}")
        reporter.progress(1.0, "Done")
        return after

    # ------------------------------------------------------------------ snapshots
    snapshot_name_limit = 80
    #: which of the task's entity ids is the snapshot when the planned uuid is not among them
    snapshot_entity_index = 0

    async def snapshot_exists(self, vm_id: str, snapshot_id: str) -> bool:
        raise NotImplementedError

    def snapshot_request(self, vm_id: str, name: str, planned: str) -> tuple[str, dict]:
        """The POST that takes a snapshot with the client-chosen uuid ``planned``: path and body."""
        raise NotImplementedError

    async def snapshot(self, vm_id: str, name: str, reporter: Reporter = NullReporter(), *,
                       request_id: str = "") -> str:
        vm_id = checked_uuid(vm_id)
        name = checked_name(name, "snapshot", limit=self.snapshot_name_limit)
        vm = await self.existing_vm(vm_id)
        planned = request_uuid("snapshot", vm_id, name, request_id)
        if await self.snapshot_exists(vm_id, planned):
            reporter.log(LogLevel.INFO, f"Snapshot '{name}' of VM '{vm.name}' exists already (made by an "
                         "earlier try).")
            reporter.progress(1.0, "Done")
            return planned
        reporter.progress(0.1, f"Snapshot of VM '{vm.name}'")
        path, body = self.snapshot_request(vm_id, name, planned)
        try:
            answer = await self.http.request("POST", path, what=f"the snapshot of VM '{vm.name}'", json=body)
        except NotFoundError as exc:
            raise self.vm_gone(vm_id, exc) from None
        status = await self.follow(self.task_uuid(answer, "the snapshot"), reporter, f"snapshot of '{vm.name}'")
        ids = status.entity_ids
        snap_id = planned if planned in ids or not ids else ids[self.snapshot_entity_index]
        reporter.log(LogLevel.INFO, f"Snapshot '{name}' of VM '{vm.name}' is {snap_id}")
        reporter.progress(1.0, "Done")
        return snap_id

    # ------------------------------------------------------------------ clones
    def clone_request(self, vm_id: str, snapshot_id: str | None, planned: str, new_name: str) -> tuple[str, dict]:
        """The POST that clones the VM (or restores the snapshot) to a VM with the client-chosen uuid
        ``planned``: path and body."""
        raise NotImplementedError

    async def clone(self, vm_id: str, new_name: str, snapshot_id: str | None = None,
                    reporter: Reporter = NullReporter(), *, request_id: str = "") -> VM:
        """Full clone, or a clone from a snapshot, with a client-chosen uuid: a retry asks for that uuid
        first and finds the VM the first try created."""
        vm_id, new_name = checked_uuid(vm_id), checked_name(new_name)
        snapshot_id = checked_uuid(snapshot_id, "snapshot") if snapshot_id else None
        planned = request_uuid("clone", vm_id, snapshot_id or "", new_name, request_id)
        found = await self.find_vm(planned)
        if found is not None:
            reporter.log(LogLevel.INFO, f"VM '{found.name}' exists already (made by an earlier try of this clone).")
            reporter.progress(1.0, "Done")
            return found
        source = await self.existing_vm(vm_id)
        method = "from snapshot" if snapshot_id else "full"
        path, body = self.clone_request(vm_id, snapshot_id, planned, new_name)
        undo = add_undo(reporter, f"Delete the partial clone '{new_name}' on {source.cluster}", planned, new_name)
        reporter.progress(0.05, f"Cloning '{source.name}' to '{new_name}' ({method})")
        reporter.log(LogLevel.INFO, f"Clone ({method}) of VM '{source.name}' to '{new_name}', uuid {planned}")
        try:
            answer = await self.http.request("POST", path, what=f"the clone of VM '{source.name}'", json=body)
        except NotFoundError as exc:
            undo_done(reporter, undo)
            if snapshot_id:
                exc.message = f"The snapshot {snapshot_id} was deleted by someone else."
                exc.hint = "Take a new snapshot, or choose another one."
                raise
            raise self.vm_gone(vm_id, exc) from None
        except ConflictError as exc:          # the uuid is taken: another try of the same clone
            undo_done(reporter, undo)            # (that try's own task owns its cleanup)
            existing = await self.find_vm(planned)
            if existing is None:
                raise self.clone_running(exc, source.name, new_name) from None
            reporter.log(LogLevel.INFO, f"VM '{new_name}' exists already (made by another try of this clone).")
            reporter.progress(1.0, "Done")
            return existing
        except ConsoleError:
            await self._nothing_created(planned, reporter, undo)
            raise
        try:
            await self.follow(self.task_uuid(answer, "the clone"), reporter, f"clone of '{source.name}'")
        except TaskFailedError as failure:
            raise await self.remove_partial_clone(planned, new_name, failure, reporter, undo) from None
        undo_done(reporter, undo)
        clone = await self.existing_vm(planned)
        reporter.log(LogLevel.INFO, f"VM '{clone.name}' created ({clone.id}) on {clone.cluster}")
        reporter.progress(1.0, "Done")
        return clone

    async def _nothing_created(self, planned: str, reporter: Reporter, undo: int | None) -> None:
        """After a refused clone request: off the cleanup list when it made no VM (kept there when
        that cannot be told)."""
        try:
            if await self.find_vm(planned) is None:
                undo_done(reporter, undo)
        except ConsoleError:
            pass

    async def remove_partial_clone(self, vm_id: str, name: str, failure: ConsoleError,
                                   reporter: Reporter, undo: int | None) -> ConsoleError:
        """After a clone failed part-way: delete what it left, and say what failed. If the partial VM
        cannot be deleted, it stays on the task's cleanup list and the error says so."""
        try:
            deleted = await self.delete_vm(vm_id, name, reporter)
        except ConsoleError as cleanup:
            reporter.log(LogLevel.ERROR, f"Could not delete the partial clone '{name}' ({vm_id}): {cleanup}")
            failure.message = (f"{failure.message} The partial VM '{name}' ({vm_id}) could not be deleted "
                               "and is on this task's cleanup list.")
            return failure
        undo_done(reporter, undo)
        failure.message = (f"{failure.message} The partial VM '{name}' was deleted." if deleted
                           else f"{failure.message} It left no VM behind.")
        return failure

    # ------------------------------------------------------------------ delete
    #: what a deletion removes with the VM, and the query that says so
    deleted_with = "its disks"
    delete_params: dict[str, str] | None = None

    async def delete(self, vm_id: str, reporter: Reporter = NullReporter()) -> None:
        vm_id = checked_uuid(vm_id)
        vm = await self.find_vm(vm_id)
        if vm is None:
            reporter.log(LogLevel.INFO, f"VM {vm_id} does not exist (already deleted): nothing to do.")
            reporter.progress(1.0, "Done")
            return
        await self.delete_vm(vm_id, vm.name, reporter)
        reporter.progress(1.0, "Done")

    async def delete_vm(self, vm_id: str, name: str, reporter: Reporter) -> bool:
        """Delete and follow the task; False when the VM was already gone."""
        reporter.log(LogLevel.INFO, f"Deleting VM '{name}' ({vm_id}) with {self.deleted_with}")
        try:
            answer = await self.http.request("DELETE", self.vm_path(vm_id), what=f"the deletion of VM '{name}'",
                                             params=self.delete_params)
        except NotFoundError:
            reporter.log(LogLevel.INFO, f"VM '{name}' ({vm_id}) is already gone.")
            return False
        await self.follow(self.task_uuid(answer, "the deletion"), reporter, f"deletion of '{name}'")
        return True

    @staticmethod
    def clone_running(exc: ConsoleError, source: str, new_name: str) -> ConsoleError:
        exc.message = (f"Another try of this clone of '{source}' to '{new_name}' is still running in Prism "
                       "(it chose the same VM uuid).")
        exc.hint = "Wait for it to finish, then retry: the retry finds the VM it made."
        return exc

    def vm_gone(self, vm_id: str, exc: NotFoundError) -> NotFoundError:
        exc.message = f"The VM was deleted by someone else: {self.where} has no VM {vm_id} any more."
        exc.hint = "Refresh the inventory."
        return exc

    async def close(self) -> None:
        await self.tasks.close()
        await self.http.close()
