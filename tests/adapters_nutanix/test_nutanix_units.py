"""The Nutanix adapter's parts that need no Prism: addresses, conversions, versions, the retry policy,
error mapping and the one polling loop (through httpx.MockTransport, the real httpx client)."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from console.adapters.base import CloningAdapter, ProviderAdapter
from console.adapters.nutanix import (
    NutanixAdapter,
    PrismCentralAdapter,
    PrismElementAdapter,
    make_nutanix_adapter,
    request_uuid,
)
from console.adapters.nutanix.address import prism_base_url
from console.adapters.nutanix.central import intent_with_power
from console.adapters.nutanix.certificates import CertificateInfo, untrusted_error
from console.adapters.nutanix.convert import power_state, v2_vm, v3_vm, version_tuple
from console.adapters.nutanix.decoding import decode_in_steps
from console.adapters.nutanix.errors import PrismError
from console.adapters.nutanix.tasks import TaskPoller
from console.domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PrerequisiteError,
    ProtocolError,
    UnreachableError,
    ValidationError,
    WrongEndpointError,
)
from console.domain.inventory import ConnectionSettings, PowerAction, PowerState, ProviderKind

REFERENCE = "/work/shared/reference/nutanix/prism-element-v2-vms_1.json"
VM_ID = "9844af5d-101b-40ea-a125-8bf1a02f888b"


def settings(kind=ProviderKind.NUTANIX_PE, address="prism.corp.example", port=5985, **kw):
    return ConnectionSettings(kind=kind, address=address, port=port, username="admin", **kw)


# ---------------------------------------------------------------------- addresses and settings
@pytest.mark.parametrize("address,port,url", [
    ("prism.corp.example", 5985, "https://prism.corp.example:9440"),     # WinRM default: Prism's port
    ("10.0.0.5", 0, "https://10.0.0.5:9440"),
    ("10.0.0.5", 9441, "https://10.0.0.5:9441"),
    ("10.0.0.5:443", 5985, "https://10.0.0.5:443"),
    ("https://prism.corp.example", 5985, "https://prism.corp.example:9440"),
    ("https://127.0.0.1:50123/", 5985, "https://127.0.0.1:50123"),
    ("fe80::1", 5985, "https://[fe80::1]:9440"),
])
def test_addresses(address, port, url):
    assert prism_base_url(settings(address=address, port=port)) == url


@pytest.mark.parametrize("address,sentence", [
    ("", "Enter the Prism address"),
    ("http://prism.corp.example", "does not start with https://"),
    ("https://prism.corp.example/console", "has a path"),
    ("prism corp", "is not a host name"),
    ("prism.corp:abc", "not a number"),
    ("300.1.1.1", "not a valid IPv4"),
])
def test_bad_addresses_are_refused_with_a_sentence(address, sentence):
    with pytest.raises(ValidationError) as caught:
        prism_base_url(settings(address=address))
    assert sentence in caught.value.message
    assert caught.value.field == "address"


def test_settings_are_checked_before_any_request():
    with pytest.raises(ValidationError, match="user name"):
        PrismElementAdapter(ConnectionSettings(kind=ProviderKind.NUTANIX_PE, address="p"), "pw")
    with pytest.raises(ValidationError, match="password"):
        PrismElementAdapter(settings(), "")
    with pytest.raises(ValidationError, match="cannot use"):
        PrismElementAdapter(settings(kind=ProviderKind.NUTANIX_PC), "pw")
    with pytest.raises(ValidationError, match="not reached through Prism"):
        make_nutanix_adapter(settings(kind=ProviderKind.HYPERV), "pw")


def test_nutanix_adapter_makes_the_class_of_the_kind():
    assert type(NutanixAdapter(settings(), "pw")) is PrismElementAdapter
    assert type(NutanixAdapter(settings(kind=ProviderKind.NUTANIX_PC), "pw")) is PrismCentralAdapter
    with pytest.raises(ValidationError, match="not reached through Prism"):
        NutanixAdapter(settings(kind=ProviderKind.HYPERV_CLUSTER), "pw")


@pytest.mark.parametrize("text", [
    '{"api_version": "3.1", "metadata": {"total_matches": 2}, "entities": [{"a": [1, {"b": "\\u00c4\\""}]}, {}]}',
    ' { "entities" : [ ] , "x" : [ 1 , [ 2 ] ] } ', '{}', '[1, 2]', '"text"',
])
def test_decoding_in_steps_equals_json_loads(text):
    assert decode_in_steps(text.encode()) == json.loads(text)


def test_decoding_converts_entities_one_by_one():
    text = '{"metadata": {"length": 2}, "entities": [{"n": 1}, {"n": 2}], "other": [{"n": 3}]}'
    assert decode_in_steps(text.encode(), lambda e: e["n"] * 10) == {
        "metadata": {"length": 2}, "entities": [10, 20], "other": [{"n": 3}]}
    with pytest.raises(ValueError):
        decode_in_steps(b'{"entities": [1,')


def test_a_certificate_for_another_name_says_so():
    info = CertificateInfo("AA:BB", "CN=prism.other.example", "CN=Corp CA", "2024-01-01T00:00:00+00:00",
                           "2099-01-01T00:00:00+00:00", False, b"")
    error = untrusted_error("Prism Central at 10.0.0.5:9440", info, reason="Hostname mismatch, certificate "
                            "is not valid for '10.0.0.5'.")
    assert error.message == ("The certificate of Prism Central at 10.0.0.5:9440 is for CN=prism.other.example, "
                             "not for this address.")
    assert untrusted_error("X", info).message.startswith("X presents a certificate from an unknown authority")


def test_factory_and_protocols():
    pe = make_nutanix_adapter(settings(), "pw")
    pc = make_nutanix_adapter(settings(kind=ProviderKind.NUTANIX_PC), "pw")
    assert isinstance(pe, PrismElementAdapter) and isinstance(pc, PrismCentralAdapter)
    for adapter in (pe, pc):
        assert isinstance(adapter, ProviderAdapter) and isinstance(adapter, CloningAdapter)
        caps = adapter.capabilities
        assert caps.can_snapshot and caps.can_full_clone and caps.can_link_clone and caps.can_power
        assert not caps.can_distribute


@pytest.mark.asyncio
async def test_bad_ids_and_names_are_refused():
    adapter = make_nutanix_adapter(settings(), "pw")
    with pytest.raises(ValidationError, match="is not a Nutanix virtual machine id"):
        await adapter.power("not-a-uuid", PowerAction.START)
    with pytest.raises(ValidationError, match="is not a power action"):
        await adapter.power(VM_ID, "reboot-now")
    with pytest.raises(ValidationError, match="Enter a name"):
        await adapter.clone(VM_ID, "   ")
    with pytest.raises(ValidationError, match="control character"):
        await adapter.clone(VM_ID, "a\nb")
    with pytest.raises(ValidationError, match="at most 80"):
        await adapter.clone(VM_ID, "x" * 81)
    with pytest.raises(ValidationError, match="not a Nutanix snapshot id"):
        await adapter.clone(VM_ID, "new", snapshot_id="snap-1")
    await adapter.close()


# ---------------------------------------------------------------------- conversions
def test_v2_reference_bodies_convert():
    with open(REFERENCE, encoding="utf-8") as f:
        body = json.load(f)
    hosts = {"5627a268-f036-4f5d-b9a3-0183ec736913": "NTNX-A"}
    vms = [v2_vm(e, "nutanixCluster", hosts, {}, {}) for e in body["entities"]]
    assert [vm.name for vm in vms] == ["atomic_restore_test", "rfescalate", "RHEL7TestBed"]
    assert all(vm.state is PowerState.RUNNING and vm.host == "NTNX-A" for vm in vms)
    assert vms[0].memory_bytes == 2048 * 1024 ** 2 and vms[0].cpu_count == 1
    assert vms[0].cluster == "nutanixCluster"


def test_power_state_casing():
    assert power_state("on") is power_state("ON") is PowerState.RUNNING
    assert power_state("off") is power_state("OFF") is PowerState.OFF
    assert power_state("suspended") is PowerState.SAVED and power_state("PAUSED") is PowerState.PAUSED
    assert power_state("weird") is PowerState.UNKNOWN


def test_v3_vm_off_has_no_host():
    entity = {"metadata": {"uuid": VM_ID}, "status": {
        "name": 'Ärzte "Büro" 東京', "cluster_reference": {"kind": "cluster", "name": "NTNX-PE-01"},
        "resources": {"power_state": "OFF", "num_sockets": 2, "num_vcpus_per_socket": 2,
                      "memory_size_mib": 4096, "disk_list": [
                          {"disk_size_bytes": 10, "device_properties": {"device_type": "DISK"}},
                          {"disk_size_bytes": 5, "device_properties": {"device_type": "CDROM"}}],
                      "nic_list": [{"subnet_reference": {"name": "VDI-VLAN120"}}]}}}
    vm = v3_vm(entity)
    assert (vm.name, vm.host, vm.cluster, vm.state, vm.cpu_count) == (
        'Ärzte "Büro" 東京', "", "NTNX-PE-01", PowerState.OFF, 4)
    assert len(vm.disks) == 1 and vm.nics == ["VDI-VLAN120"]


@pytest.mark.parametrize("text,numbers", [
    ("5.20.4.6", (5, 20, 4, 6)), ("4.7", (4, 7)), ("pc.2022.6.0.6", (2022, 6, 0, 6)),
    ("el7.3-release-euphrates-5.10-stable-973448674a02496aef1d1486e76c673a4447e459", (5, 10)),
    ("", ()),
])
def test_versions(text, numbers):
    assert version_tuple(text) == numbers


def test_too_old_versions_are_named():
    adapter = make_nutanix_adapter(settings(), "pw")
    adapter.require_version("5.10", "AOS")
    adapter.require_version("pc.2022.6", "Prism Central")
    with pytest.raises(PrerequisiteError, match="version 4.7, which is too old"):
        adapter.require_version("4.7", "AOS")


def test_power_intent_keeps_spec_version_and_drops_server_fields():
    entity = {"api_version": "3.1", "metadata": {"kind": "vm", "uuid": VM_ID, "spec_version": 7,
                                                  "creation_time": "x", "last_update_time": "y"},
              "spec": {"name": "a", "resources": {"power_state": "ON"}}, "status": {"name": "a"}}
    body = intent_with_power(entity, "OFF", "ACPI")
    assert body["metadata"] == {"kind": "vm", "uuid": VM_ID, "spec_version": 7}
    assert body["spec"]["resources"] == {"power_state": "OFF", "power_state_mechanism": {"mechanism": "ACPI"}}
    assert "status" not in body and entity["spec"]["resources"]["power_state"] == "ON"


def test_request_uuids_are_stable_and_distinct():
    a = request_uuid("clone", VM_ID, "", "VDI-001", "")
    assert a == request_uuid("clone", VM_ID, "", "VDI-001", "")
    assert a != request_uuid("clone", VM_ID, "", "VDI-002", "")
    assert a != request_uuid("clone", VM_ID, "", "VDI-001", "task-7")


# ---------------------------------------------------------------------- HTTP: retries and errors
def mock_adapter(handler, kind=ProviderKind.NUTANIX_PE, **options):
    client = httpx.AsyncClient(base_url="https://prism.test:9440", transport=httpx.MockTransport(handler))
    options.setdefault("retry_delays", (0.0, 0.0, 0.0, 0.0))
    return make_nutanix_adapter(settings(kind=kind), "pw", client=client, **options)


def answers(*replies):
    """A handler answering each request with the next reply (status, body) or raising it."""
    queue = list(replies)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        status, body = reply
        return httpx.Response(status, json=body, headers={"retry-after": "0"})
    return handler, seen


CLUSTER = {"name": "NTNX-PE-01", "version": "5.20.4.6"}


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.asyncio
async def test_busy_answers_are_retried(status):
    handler, seen = answers((status, {"message": "busy"}), (status, {}), (200, CLUSTER))
    adapter = mock_adapter(handler)
    assert (await adapter.http.request("GET", "/api/nutanix/v2.0/cluster/", what="x"))["name"] == "NTNX-PE-01"
    assert len(seen) == 3 and adapter.http.request_count == 3
    await adapter.close()


@pytest.mark.asyncio
async def test_busy_for_too_long_gives_up_with_a_sentence():
    handler, seen = answers((503, {"message": "busy"}))
    adapter = mock_adapter(handler)
    with pytest.raises(UnreachableError, match="too busy"):
        await adapter.http.request("GET", "/api/nutanix/v2.0/cluster/", what="the cluster details")
    assert len(seen) == 5                           # first try + 4 retries
    await adapter.close()


@pytest.mark.parametrize("status,error,sentence", [
    (401, AuthenticationError, "refused the user name or password of 'admin'"),
    (403, AuthenticationError, "is not allowed"),
    (404, NotFoundError, "could not find the cluster details: it broke (X)"),
    (409, ConflictError, "changed meanwhile"),
    (400, ValidationError, "refused"),
    (500, PrismError, "HTTP 500"),
])
@pytest.mark.asyncio
async def test_errors_are_typed_and_not_retried(status, error, sentence):
    handler, seen = answers((status, {"message_list": [{"message": "it broke", "reason": "X"}]}))
    adapter = mock_adapter(handler)
    with pytest.raises(error) as caught:
        await adapter.http.request("GET", "/api/nutanix/v2.0/cluster/", what="the cluster details")
    assert sentence in caught.value.message
    assert len(seen) == 1
    await adapter.close()


def reset() -> httpx.ReadError:
    try:
        raise ConnectionResetError(104, "Connection reset by peer")
    except ConnectionResetError as cause:
        error = httpx.ReadError("Connection reset by peer")
        error.__cause__ = cause
        return error


@pytest.mark.asyncio
async def test_connection_resets_are_retried_for_idempotent_requests_only():
    handler, seen = answers(reset(), (200, CLUSTER))
    adapter = mock_adapter(handler)
    await adapter.http.request("GET", "/api/nutanix/v2.0/cluster/", what="x")
    assert len(seen) == 2
    handler, seen = answers(reset(), (201, {"task_uuid": VM_ID}))
    adapter = mock_adapter(handler)
    with pytest.raises(UnreachableError, match="dropped the connection"):
        await adapter.http.request("POST", f"/api/nutanix/v2.0/vms/{VM_ID}/clone", what="the clone", json={})
    assert len(seen) == 1
    await adapter.close()


@pytest.mark.asyncio
async def test_connect_errors_are_unreachable_and_not_retried():
    handler, seen = answers(httpx.ConnectError("[Errno 111] Connection refused"))
    adapter = mock_adapter(handler)
    with pytest.raises(UnreachableError, match="Cannot connect to Prism Element at prism.corp.example:9440"):
        await adapter.check()
    assert len(seen) == 1
    await adapter.close()


@pytest.mark.asyncio
async def test_an_address_that_is_not_prism():
    handler, _ = answers((404, {"message": "no such page"}))
    for kind, sentence in ((ProviderKind.NUTANIX_PE, "does not answer like a Prism Element"),
                           (ProviderKind.NUTANIX_PC, "has no Prism Central API")):
        adapter = mock_adapter(handler, kind=kind)
        with pytest.raises(ProtocolError, match=sentence):
            await adapter.check()
        await adapter.close()


@pytest.mark.asyncio
async def test_kind_from_header_and_pseudo_cluster():
    def handler(request):
        if request.url.path.endswith("/users/me"):
            return httpx.Response(200, json={}, headers={})      # no x-ntnx-env header
        return httpx.Response(200, json={"entities": [{"status": {"name": "PC", "resources": {
            "config": {"service_list": ["PRISM_CENTRAL"]}}}}]})
    adapter = mock_adapter(handler)
    with pytest.raises(WrongEndpointError) as caught:
        await adapter.check()
    assert caught.value.message == "This address is Prism Central, not Prism Element."
    assert caught.value.actual_kind == "nutanix-pc" and "Prism Central" in caught.value.hint
    await adapter.close()


# ---------------------------------------------------------------------- the one polling loop
@pytest.mark.asyncio
async def test_one_loop_polls_each_pending_task_once_per_round():
    polls: dict[str, int] = {}

    def handler(request):
        uuid = request.url.path.rsplit("/", 1)[1]
        polls[uuid] = polls.get(uuid, 0) + 1
        done = polls[uuid] >= 1 + int(uuid[-1], 16) % 4       # each finishes after 1..4 polls
        return httpx.Response(200, json={"uuid": uuid, "status": "SUCCEEDED" if done else "RUNNING",
                                         "percentage_complete": 100 if done else 25 * polls[uuid]})
    adapter = mock_adapter(handler, kind=ProviderKind.NUTANIX_PC, poll_interval=0.01)
    poller: TaskPoller = adapter.tasks
    uuids = [request_uuid("t", str(i)) for i in range(60)]
    progress: dict[str, list[int]] = {u: [] for u in uuids}
    results = await asyncio.gather(*(poller.wait(u, lambda p, m, u=u: progress[u].append(p)) for u in uuids))
    assert all(r.state == "succeeded" for r in results)
    # one GET per pending task per round; the slowest task needs 4 polls, so 4 rounds in all
    assert poller.requests == sum(polls.values()) == sum(1 + int(u[-1], 16) % 4 for u in uuids)
    assert poller.rounds == max(polls.values()) == 4
    assert all(progress[u][-1] == 100 and progress[u] == sorted(progress[u]) for u in uuids)
    assert not poller.running and poller.pending == 0
    await adapter.close()


@pytest.mark.asyncio
async def test_a_failed_task_says_why_and_the_loop_serves_the_others():
    def handler(request):
        uuid = request.url.path.rsplit("/", 1)[1]
        if uuid.endswith("0"):
            return httpx.Response(200, json={"status": "FAILED", "percentage_complete": 60,
                                             "error_detail": "Clone failed at 60 %"})
        return httpx.Response(200, json={"status": "SUCCEEDED", "percentage_complete": 100})
    adapter = mock_adapter(handler, kind=ProviderKind.NUTANIX_PC, poll_interval=0.01)
    bad, good = "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001"
    with pytest.raises(Exception) as caught:
        await asyncio.gather(adapter.follow(bad, _Null(), "clone of 'x'"), adapter.follow(good, _Null(), "y"))
    assert "Clone failed at 60 %" in str(caught.value) and "at 60%" in str(caught.value)
    await adapter.close()


class _Null:
    def progress(self, fraction, text=""):
        pass

    def log(self, level, text):
        pass
