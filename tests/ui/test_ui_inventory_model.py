"""The inventory tree model: incremental diffs, kept selection and expansion, filter, scale."""
from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from console.domain.inventory import (ConnectionSettings, Host, HostStatus, Inventory, PowerState,
                                      Provider, ProviderKind, VM)
from console.ui.inventory_model import KEY_ROLE, InventoryModel, NodeKind
from console.ui.inventory_tree import InventoryTree


def provider(pid: int, name: str = "", kind: ProviderKind = ProviderKind.HYPERV) -> Provider:
    return Provider(pid, name or f"hv{pid:03d}", ConnectionSettings(kind, f"hv{pid:03d}.corp.example"))


def vms(host: str, count: int, prefix: str = "VM", state: PowerState = PowerState.OFF) -> list[VM]:
    return [VM(id=f"{host}-{i:04d}", name=f"{prefix}-{i:04d}", host=host, state=state, cpu_count=2)
            for i in range(count)]


def standalone(pid: int, vm_list: list[VM], status: HostStatus = HostStatus.CONNECTED) -> Inventory:
    return Inventory(pid, [Host(name=f"hv{pid:03d}", status=status, vms=vm_list)])


class Recorder:
    """Counts the model's structural signals."""

    def __init__(self, model) -> None:
        self.events: list[tuple] = []
        model.rowsInserted.connect(lambda p, a, b: self.events.append(("insert", a, b)))
        model.rowsRemoved.connect(lambda p, a, b: self.events.append(("remove", a, b)))
        model.dataChanged.connect(lambda tl, br, roles=(): self.events.append(("changed", tl.row(), br.row())))
        model.modelReset.connect(lambda: self.events.append(("reset",)))
        model.layoutChanged.connect(lambda *a: self.events.append(("layout",)))

    def kinds(self, kind: str) -> list[tuple]:
        return [e for e in self.events if e[0] == kind]


@pytest.fixture
def model(qtmodeltester):
    m = InventoryModel()
    qtmodeltester.check(m)          # Qt's QAbstractItemModelTester keeps checking every change
    return m


def test_groups_are_there_and_templates_pools_are_empty_with_a_tooltip(model):
    labels = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert labels == ["Providers", "Templates", "Pools"]
    for row in (1, 2):
        idx = model.index(row, 0)
        assert model.rowCount(idx) == 0
        assert "No " in idx.data(Qt.ItemDataRole.ToolTipRole)


def test_inventory_applies_as_inserts_removes_and_changes_never_a_reset(model):
    model.add_provider(provider(1))
    model.apply_inventory(standalone(1, vms("hv001", 5)))
    prov = model.index(0, 0, model.index(0, 0))
    assert prov.data() == "hv001"
    assert model.rowCount(prov) == 5

    rec = Recorder(model)
    new = vms("hv001", 5)
    del new[1]                                   # VM-0001 gone
    new[2].state = PowerState.RUNNING            # VM-0003 started (row 3 before, 2 after the removal)
    new.append(VM(id="hv001-new", name="Fresh", host="hv001"))
    model.apply_inventory(standalone(1, new))

    assert rec.kinds("reset") == []
    assert rec.kinds("remove") == [("remove", 1, 1)]
    assert ("changed", 2, 2) in rec.kinds("changed")
    assert rec.kinds("insert") == [("insert", 4, 4)]
    names = [model.index(r, 0, prov).data() for r in range(model.rowCount(prov))]
    assert names == ["VM-0000", "VM-0002", "VM-0003", "VM-0004", "Fresh"]
    assert model.index(2, 0, prov).data(Qt.ItemDataRole.UserRole + 3).state is PowerState.RUNNING


def test_same_inventory_again_emits_nothing(model):
    model.add_provider(provider(1))
    model.apply_inventory(standalone(1, vms("hv001", 10)))
    rec = Recorder(model)
    model.apply_inventory(standalone(1, vms("hv001", 10)))
    assert rec.events == []


def test_cluster_provider_shows_hosts_then_vms_and_diffs_hosts(model):
    model.add_provider(provider(7, "cluster", ProviderKind.HYPERV_CLUSTER))
    inv = Inventory(7, [Host("n1", HostStatus.CONNECTED, vms=vms("n1", 3)),
                        Host("n2", HostStatus.CONNECTED, vms=vms("n2", 2))])
    model.apply_inventory(inv)
    prov = model.index(0, 0, model.index(0, 0))
    assert [model.index(r, 0, prov).data() for r in range(2)] == ["n1", "n2"]
    assert model.index(0, 0, prov).data(Qt.ItemDataRole.UserRole + 2) == NodeKind.HOST
    rec = Recorder(model)
    model.apply_inventory(Inventory(7, [Host("n2", HostStatus.CONNECTED, vms=vms("n2", 2))]))
    assert rec.kinds("remove") == [("remove", 0, 0)]
    assert model.rowCount(prov) == 1
    assert model.index_for_key_path("providers/p:7/h:n2/vm:n2-0001").isValid()
    assert not model.index_for_key_path("providers/p:7/h:n1/vm:n1-0001").isValid()


def test_unreachable_host_is_marked_with_reason_in_tooltip(model):
    model.add_provider(provider(1))
    model.apply_inventory(standalone(1, vms("hv001", 2)))
    rec = Recorder(model)
    model.set_host_status(1, "hv001", HostStatus.UNREACHABLE, "hv001 did not answer on port 5985.")
    prov = model.index(0, 0, model.index(0, 0))
    assert prov.data() == "hv001 (unreachable)"
    assert "did not answer on port 5985" in prov.data(Qt.ItemDataRole.ToolTipRole)
    assert rec.kinds("changed") and not rec.kinds("remove")
    assert model.rowCount(prov) == 2            # the last known VMs stay
    assert model.status_counts() == (0, 1)
    model.set_host_status(1, "hv001", HostStatus.CONNECTED)
    assert prov.data() == "hv001"
    assert model.status_counts() == (1, 0)


def test_vm_changed_updates_one_row(model):
    model.add_provider(provider(1))
    model.apply_inventory(standalone(1, vms("hv001", 4)))
    rec = Recorder(model)
    model.update_vm(1, VM(id="hv001-0002", name="VM-0002", host="hv001", state=PowerState.RUNNING))
    assert rec.kinds("changed") == [("changed", 2, 2)]
    assert rec.kinds("insert") == rec.kinds("remove") == []


def test_provider_removed_and_added(model):
    model.add_provider(provider(1))
    model.add_provider(provider(2))
    model.apply_inventory(standalone(2, vms("hv002", 3)))
    model.remove_provider(1)
    group = model.index(0, 0)
    assert model.rowCount(group) == 1
    assert model.index(0, 0, group).data(KEY_ROLE) == "providers/p:2"
    # VM rows of the remaining provider still resolve after the row shift
    assert model.index_for_key_path("providers/p:2/vm:hv002-0001").isValid()
    model.update_vm(2, VM(id="hv002-0001", name="renamed", host="hv002"))
    assert model.index_for_key_path("providers/p:2/vm:hv002-0001").data() == "renamed"


def test_expansion_and_selection_survive_refresh(qtbot, model):
    tree = InventoryTree(model)
    qtbot.addWidget(tree)
    tree.show()
    for pid in (1, 2):
        model.add_provider(provider(pid))
        model.apply_inventory(standalone(pid, vms(f"hv{pid:03d}", 20)))
    assert tree.select_key("providers/p:2/vm:hv002-0010")
    prov_idx = tree.proxy.mapFromSource(model.index_for_key_path("providers/p:2"))
    assert tree.view.isExpanded(prov_idx)
    rec = Recorder(model)

    changed = vms("hv002", 20)
    changed[10].state = PowerState.RUNNING          # the selected VM changes
    del changed[3]                                  # a row above the selection goes
    changed.append(VM(id="hv002-aaaa", name="AAA first by name", host="hv002"))
    model.apply_inventory(standalone(2, changed))
    model.apply_inventory(standalone(1, vms("hv001", 25)))

    assert rec.kinds("reset") == []
    assert tree.selected_key() == "providers/p:2/vm:hv002-0010"
    assert tree.selected_node().obj.state is PowerState.RUNNING
    prov_idx = tree.proxy.mapFromSource(model.index_for_key_path("providers/p:2"))
    assert tree.view.isExpanded(prov_idx)
    assert tree.view.isExpanded(tree.proxy.mapFromSource(model.index_for_key_path("providers")))


def test_restored_selection_applies_when_the_row_appears(qtbot, model):
    tree = InventoryTree(model)
    qtbot.addWidget(tree)
    assert not tree.select_key("providers/p:3/vm:hv003-0002")
    model.add_provider(provider(3))
    model.apply_inventory(standalone(3, vms("hv003", 5)))
    assert tree.selected_key() == "providers/p:3/vm:hv003-0002"


def test_filter_keeps_ancestors_and_is_case_insensitive(qtbot, model):
    tree = InventoryTree(model)
    qtbot.addWidget(tree)
    model.add_provider(provider(1))
    model.apply_inventory(standalone(1, vms("hv001", 30, prefix="Desk")
                                     + [VM(id="x", name="Finance-PC", host="hv001")]))
    qtbot.keyClicks(tree.filter_edit, "finance")
    tree.apply_filter_now()
    proxy = tree.proxy
    providers_idx = proxy.index(0, 0)
    assert proxy.rowCount() == 1                       # Templates and Pools do not match
    prov = proxy.index(0, 0, providers_idx)
    assert proxy.rowCount(prov) == 1
    assert proxy.index(0, 0, prov).data() == "Finance-PC"
    tree.filter_edit.clear()
    tree.apply_filter_now()
    assert proxy.rowCount(proxy.index(0, 0, proxy.index(0, 0))) == 31


def test_hostile_names_are_data(model):
    evil = "x'; Remove-VM * -Force; '<b>bold</b>\u202e"
    model.add_provider(provider(1))
    model.apply_inventory(standalone(1, [VM(id="e", name=evil, host="hv001")]))
    idx = model.index_for_key_path("providers/p:1/vm:e")
    assert idx.data() == evil


def test_twenty_thousand_rows_and_one_host_diff_is_cheap(qtbot):
    """200 hosts x 100 VMs behind the sorting filter proxy and a view; one host's diff is O(its VMs).

    (No model tester here: it walks the whole tree at every signal.)"""
    model = InventoryModel()
    tree = InventoryTree(model)
    qtbot.addWidget(tree)
    tree.show()
    started = time.perf_counter()
    for pid in range(1, 201):
        model.add_provider(provider(pid))
        model.apply_inventory(standalone(pid, vms(f"hv{pid:03d}", 100)))
    fill = time.perf_counter() - started
    assert sum(model.rowCount(model.index(r, 0, model.index(0, 0))) for r in range(200)) == 20000
    tree.select_key("providers/p:150/vm:hv150-0050")

    changed = vms("hv150", 100)
    changed[7].state = PowerState.RUNNING
    rec = Recorder(model)
    started = time.perf_counter()
    model.apply_inventory(standalone(150, changed))
    one = time.perf_counter() - started
    assert [e for e in rec.events if e[0] != "changed"] == []
    assert rec.kinds("changed") == [("changed", 7, 7)]
    assert one < 0.05, f"one host's refresh took {one * 1000:.0f} ms"
    assert fill < 20, f"filling 20,000 rows took {fill:.1f} s"
    assert tree.selected_key() == "providers/p:150/vm:hv150-0050"

    tree.filter_edit.setText("VM-0050")
    started = time.perf_counter()
    tree.apply_filter_now()
    filtering = time.perf_counter() - started
    assert tree.proxy.rowCount(tree.proxy.index(0, 0)) == 200     # every host keeps its VM-0050
    assert filtering < 3, f"filtering 20,000 rows took {filtering:.1f} s"
