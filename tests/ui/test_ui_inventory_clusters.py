"""The inventory model for Nutanix providers (no services): clusters -> hosts -> VMs, idle VMs under
their cluster, VMs moving when powered on or off, clones inserted, deletions removed, the endpoint's
status, and a big inventory filled in slices without losing order."""
from __future__ import annotations

import pytest

from console.domain.inventory import (ConnectionSettings, Host, HostFacts, HostStatus, Inventory, PowerState,
                                      Provider, ProviderKind, VM)
from console.ui.inventory_model import InventoryModel, NodeKind

PID = 5


def prism_provider(kind: ProviderKind = ProviderKind.NUTANIX_PC) -> Provider:
    return Provider(PID, "NTNX-PC-01", ConnectionSettings(kind, "https://127.0.0.1:9440", port=0))


def vm(n: int, cluster: str, host: str = "", state: PowerState | None = None) -> VM:
    return VM(id=f"00000000-0000-4000-8000-{n:012d}", name=f"VM-{n:05d}", host=host, cluster=cluster,
              state=state or (PowerState.RUNNING if host else PowerState.OFF))


def inventory(extra: int = 0) -> Inventory:
    facts = HostFacts(computer_name="x", os_caption="Nutanix AHV", hyperv_version="20220304.342",
                      logical_processors=40, memory_bytes=768 * 1024 ** 3)
    a = Host("PE01-A", cluster="PE01", status=HostStatus.CONNECTED, facts=facts, vms=[vm(1, "PE01", "PE01-A")])
    b = Host("PE01-B", cluster="PE01", status=HostStatus.CONNECTED, facts=facts, vms=[])
    idle1 = Host("", cluster="PE01", status=HostStatus.CONNECTED, vms=[vm(2, "PE01"), vm(3, "PE01")])
    c = Host("PE02-A", cluster="PE02", status=HostStatus.CONNECTED, facts=facts,
             vms=[vm(10, "PE02", "PE02-A")] + [vm(100 + i, "PE02", "PE02-A") for i in range(extra)])
    return Inventory(PID, [a, b, idle1, c])


@pytest.fixture
def model(qtmodeltester):
    m = InventoryModel()
    qtmodeltester.check(m)
    m.add_provider(prism_provider())
    return m


def cluster(model, name: str):
    return next(c for c in model.cluster_nodes(PID) if c.obj == name)


def where(model, n: int) -> str:
    node = model.provider_node(PID).vms_by_id[vm(n, "").id]
    return node.parent.key_path().split(f"p:{PID}/", 1)[1]


def test_clusters_hosts_and_idle_vms(model):
    model.apply_inventory(inventory())
    assert sorted(c.obj for c in model.cluster_nodes(PID)) == ["PE01", "PE02"]
    pe01 = cluster(model, "PE01")
    assert [(c.kind, c.label) for c in pe01.children][:2] == [(NodeKind.HOST, "PE01-A"), (NodeKind.HOST, "PE01-B")]
    assert where(model, 1) == "c:PE01/h:pe01-a"
    assert where(model, 2) == "c:PE01" and where(model, 3) == "c:PE01"
    assert where(model, 10) == "c:PE02/h:pe02-a"
    assert len(model.cluster_vms(pe01)) == 3 and len(model.cluster_hosts(pe01)) == 2
    assert model.provider_status(PID)[0] is HostStatus.CONNECTED
    assert model.status_counts() == (1, 0)


def test_power_moves_a_vm_clone_is_inserted_delete_removes(model):
    model.apply_inventory(inventory())
    model.update_vm(PID, vm(2, "PE01", "PE01-B"))          # started: from the cluster to its host
    assert where(model, 2) == "c:PE01/h:pe01-b"
    model.update_vm(PID, vm(1, "PE01"))                     # turned off: back under the cluster
    assert where(model, 1) == "c:PE01"
    model.update_vm(PID, vm(77, "PE02"))                    # a new clone, off
    assert where(model, 77) == "c:PE02"
    model.remove_vm(PID, vm(77, "").id)
    assert vm(77, "").id not in model.provider_node(PID).vms_by_id
    model.remove_vm(PID, "no-such-vm")                      # already gone: nothing happens
    model.apply_inventory(inventory())                      # the next refresh puts them back
    assert where(model, 1) == "c:PE01/h:pe01-a" and where(model, 2) == "c:PE01"
    assert len(model.provider_node(PID).vms_by_id) == 4


def test_a_removed_cluster_and_host_go(model):
    model.apply_inventory(inventory())
    inv = inventory()
    inv.hosts = [h for h in inv.hosts if h.cluster == "PE01" and h.name != "PE01-B"]
    model.apply_inventory(inv)
    assert [c.obj for c in model.cluster_nodes(PID)] == ["PE01"]
    assert [c.label for c in cluster(model, "PE01").children if c.kind is NodeKind.HOST] == ["PE01-A"]
    assert vm(10, "").id not in model.provider_node(PID).vms_by_id


def test_unreachable_endpoint_marks_the_provider_then_a_refresh_clears_it(model):
    model.apply_inventory(inventory())
    model.set_host_status(PID, "NTNX-PC-01", HostStatus.UNREACHABLE, "Prism Central does not answer.")
    idx = model.index_for_key_path(f"providers/p:{PID}")
    assert idx.data().endswith("(unreachable)")
    assert "does not answer" in idx.data(role=3)          # the tooltip
    assert model.status_counts() == (0, 1)
    model.set_host_status(PID, "PE01-A", HostStatus.UNREACHABLE, "gone")
    assert cluster(model, "PE01").children[0].label == "PE01-A (unreachable)"
    model.apply_inventory(inventory())
    assert not idx.data().endswith("(unreachable)")


def test_a_big_inventory_fills_in_slices_and_an_event_finishes_it_first(qtbot, model):
    inserted = []
    model.rowsInserted.connect(lambda p, a, b: inserted.append(b - a + 1))
    model.apply_inventory_in_slices(inventory(extra=6000))
    assert model.filling, "6,000 rows do not fit in one slice"
    first = len(model.provider_node(PID).vms_by_id)
    assert 0 < first < 6004
    qtbot.waitUntil(lambda: len(model.provider_node(PID).vms_by_id) > first, timeout=5000)
    assert max(inserted) <= 100                            # chunks, not one huge insert
    # a VM event for the provider first completes the fill, then applies on top of it
    model.update_vm(PID, vm(3, "PE01", "PE01-A"))
    assert not model.filling
    assert len(model.provider_node(PID).vms_by_id) == 6004
    assert where(model, 3) == "c:PE01/h:pe01-a"
    model._continue_fills()                                # the slice timer firing late undoes nothing
    assert where(model, 3) == "c:PE01/h:pe01-a"
