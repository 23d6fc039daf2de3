"""Nutanix providers in the window, against the real services and the Prism lab (HTTPS on loopback):
the tree's clusters -> hosts -> VMs, details, snapshot / clone / delete through their dialogs, retry
from the tasks dock, and a changed certificate offered for trust."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from console.domain.inventory import HostStatus, PowerState
from console.domain.tasks import TaskState
from console.ui.inventory_model import NodeKind
from console.ui.main_window import MainWindow


def prism(services, name: str):
    provider = next(p for p in services.providers.list() if p.name == name)
    endpoint = next(e for e in services.lab.prism if e.name == name)
    return provider, endpoint


def clusters(window, provider_id: int) -> dict[str, object]:
    return {c.obj: c for c in window.inventory.cluster_nodes(provider_id)}


@pytest.fixture
def window(qtbot, services, settings):
    win = MainWindow(services, settings)
    qtbot.addWidget(win)
    win.show()
    pe, _ = prism(services, "NTNX-PE-01")
    pc, _ = prism(services, "NTNX-PC-01")
    qtbot.waitUntil(lambda: len(clusters(win, pc.id)) == 2 and len(clusters(win, pe.id)) == 1
                    and services.tasks.running_count() == 0, timeout=30000)
    yield win
    win.close()


def vm_named(window, provider_id: int, name: str):
    node = window.inventory.provider_node(provider_id)
    found = [n for n in node.vms_by_id.values() if n.obj.name == name]
    return found[0] if found else None


def wait_task(qtbot, services, task, state=TaskState.SUCCEEDED, timeout=30000):
    qtbot.waitUntil(lambda: services.tasks.get(task.id).state.finished, timeout=timeout)
    done = services.tasks.get(task.id)
    assert done.state is state, done.error
    return done


def test_prism_element_tree_is_cluster_hosts_vms_with_idle_vms_under_the_cluster(qtbot, window, services):
    pe, _ = prism(services, "NTNX-PE-01")
    cluster = clusters(window, pe.id)["NTNX-PE-01"]
    assert cluster.kind is NodeKind.CLUSTER
    hosts = sorted(c.label for c in cluster.children if c.kind is NodeKind.HOST)
    assert hosts == ["NTNX-PE-01-A", "NTNX-PE-01-B", "NTNX-PE-01-C"]
    idle = {c.obj.name for c in cluster.children if c.kind is NodeKind.VM}
    assert {"Win11-Gold", "Ubuntu-Jump", "Win10-Office-Gold"} <= idle
    assert all(c.obj.host == "" for c in cluster.children if c.kind is NodeKind.VM)
    running = vm_named(window, pe.id, "RDSH-2022-01")
    assert running.parent.kind is NodeKind.HOST and running.parent.parent is cluster
    # stable keys: provider id, cluster, host, VM uuid
    assert running.key_path() == (f"providers/p:{pe.id}/c:NTNX-PE-01/h:{running.obj.host.lower()}"
                                  f"/vm:{running.obj.id}")
    # the view lists a cluster's hosts before its idle VMs
    window.tree.select_key(cluster.key_path())
    view, proxy = window.tree.view, window.tree.proxy
    cluster_idx = proxy.mapFromSource(window.inventory.node_index(cluster))
    kinds = [window.inventory.node_at(proxy.mapToSource(proxy.index(r, 0, cluster_idx))).kind
             for r in range(proxy.rowCount(cluster_idx))]
    assert kinds == sorted(kinds, key=lambda k: k is NodeKind.VM)
    assert view.isExpanded(proxy.mapFromSource(window.inventory.node_index(cluster)).parent())

    # details of the cluster, a host and a VM
    assert window.details.summary.value("Hosts") == "3"
    assert window.details.summary.value("Version")
    vm_count = len(window.inventory.cluster_vms(cluster))
    assert window.details.summary.value("Virtual machines").startswith(f"{vm_count} (")
    host = next(c for c in cluster.children if c.kind is NodeKind.HOST)
    window.tree.select_key(host.key_path())
    assert "AHV" in window.details.summary.value("Hypervisor")
    assert window.details.summary.value("CPUs") and window.details.summary.value("Memory")
    sql = vm_named(window, pe.id, "SQL-VDI-01")
    window.tree.select_key(sql.key_path())
    qtbot.waitUntil(lambda: window.details.vm_summary.value("Name") == "SQL-VDI-01", timeout=2000)
    form = window.details.vm_summary
    assert form.value("Power state") == "Running" and form.value("vCPU") == "4"
    assert form.value("Memory") == "16.0 GB"
    assert form.value("Disks").count("GB") == 3 and "200.0 GB" in form.value("Disks")
    assert form.value("NICs") == "Servers-VLAN30"
    assert form.value("Host") == sql.obj.host and form.value("Cluster") == "NTNX-PE-01"
    assert window.details.disk_model.rowCount() == 3


def test_prism_central_shows_both_clusters_and_its_details(qtbot, window, services):
    pc, endpoint = prism(services, "NTNX-PC-01")
    found = clusters(window, pc.id)
    assert sorted(found) == ["NTNX-PE-01", "NTNX-PE-02"]
    assert vm_named(window, pc.id, "Café-Kasse-Ünit 2").obj.cluster == "NTNX-PE-02"
    assert {c.obj.name for c in found["NTNX-PE-02"].children if c.kind is NodeKind.VM} >= {
        "RDSH-2019-Gold", "Dev-Build-01"}
    window.tree.select_key(f"providers/p:{pc.id}")
    form = window.details.summary
    assert form.value("Kind") == "Nutanix AHV (Prism Central)"
    assert form.value("Clusters") == "NTNX-PE-01, NTNX-PE-02"
    assert form.value("Status") == "Connected"
    assert endpoint.fingerprint in form.value("Certificate")
    assert int(form.value("Virtual machines")) == len(window.inventory.provider_node(pc.id).vms_by_id)
    assert window.inventory.status_counts()[1] == 0


def test_snapshot_then_clone_from_it_then_delete_the_clone(qtbot, window, services):
    pc, _ = prism(services, "NTNX-PC-01")
    gold = vm_named(window, pc.id, "Win11-Gold")
    assert window.tree.select_key(gold.key_path())
    assert window.actions.snapshot.isEnabled() and window.actions.clone.isEnabled()
    assert window.actions.delete_vm.isEnabled()

    window.actions.snapshot.trigger()
    dialog = window.vm_commands.last_dialog
    dialog.name_edit.setText("")
    assert not dialog.ok_button.isEnabled() and "Enter a name" in dialog.message.text()
    dialog.name_edit.setText("Before 'patch' ü")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: window.tasks_dock.current_task_id() is not None and services.tasks.get(
        window.tasks_dock.current_task_id()).name == "Snapshot VM 'Win11-Gold'", timeout=5000)
    wait_task(qtbot, services, services.tasks.get(window.tasks_dock.current_task_id()))

    window.actions.clone.trigger()
    dialog = window.vm_commands.last_dialog
    qtbot.waitUntil(lambda: dialog.snapshot_radio.isEnabled(), timeout=20000)
    names = [dialog.snapshot_combo.itemText(i) for i in range(dialog.snapshot_combo.count())]
    assert any(n.startswith("Before 'patch' ü") for n in names), names
    dialog.name_edit.setText("Win11-Gold")
    assert "already exists" in dialog.name_message.text() and not dialog.ok_button.isEnabled()
    dialog.name_edit.setText("Pool \"Base\" Ø1")
    dialog.snapshot_radio.setChecked(True)
    dialog.snapshot_combo.setCurrentIndex(next(i for i, n in enumerate(names) if n.startswith("Before")))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: vm_named(window, pc.id, "Pool \"Base\" Ø1") is not None, timeout=30000)
    task = services.tasks.get(window.tasks_dock.current_task_id())
    assert task.name == "Clone VM 'Win11-Gold' to 'Pool \"Base\" Ø1'"
    wait_task(qtbot, services, task)
    clone = vm_named(window, pc.id, "Pool \"Base\" Ø1")
    assert clone.parent.provider_node().obj.id == pc.id
    assert clone.obj.cluster == "NTNX-PE-01"

    assert window.tree.select_key(clone.key_path())
    box = window.vm_commands.delete_vm()
    assert "'Pool \"Base\" Ø1'" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    assert vm_named(window, pc.id, "Pool \"Base\" Ø1") is not None
    box = window.vm_commands.delete_vm()
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: vm_named(window, pc.id, "Pool \"Base\" Ø1") is None, timeout=30000)
    assert vm_named(window, pc.id, "Win11-Gold") is not None


def test_a_failed_clone_is_retried_from_the_tasks_dock(qtbot, window, services):
    pe, _ = prism(services, "NTNX-PE-01")
    services.lab.set_fault("NTNX-PE-01", "clone-500")
    window.tree.select_key(vm_named(window, pe.id, "Ubuntu-Jump").key_path())
    window.actions.clone.trigger()
    dialog = window.vm_commands.last_dialog
    dialog.name_edit.setText("Jump-2")
    dialog.full_radio.setChecked(True)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: window.tasks_dock.current_task_id() is not None, timeout=5000)
    failed = wait_task(qtbot, services, services.tasks.get(window.tasks_dock.current_task_id()),
                       TaskState.FAILED)
    assert vm_named(window, pe.id, "Jump-2") is None

    services.lab.set_fault("NTNX-PE-01", None)
    dock = window.tasks_dock
    assert dock.select_task(failed.id)
    dock._context_menu(dock.view.visualRect(dock.view.currentIndex()).center())
    assert dock.retry_action.isEnabled()
    dock.retry_action.trigger()
    qtbot.waitUntil(lambda: dock.current_task_id() not in (None, failed.id), timeout=5000)
    retried = wait_task(qtbot, services, services.tasks.get(dock.current_task_id()))
    assert retried.name == failed.name
    qtbot.waitUntil(lambda: vm_named(window, pe.id, "Jump-2") is not None, timeout=10000)
    assert sum(1 for n in window.inventory.provider_node(pe.id).vms_by_id.values()
               if n.obj.name == "Jump-2") == 1
    # a succeeded task offers no retry
    dock._context_menu(dock.view.visualRect(dock.view.currentIndex()).center())
    assert not dock.retry_action.isEnabled()


def test_a_replaced_certificate_is_refused_then_trusted_from_the_prompt(qtbot, services, settings):
    pe, endpoint = prism(services, "NTNX-PE-01")
    services.lab.set_fault("NTNX-PE-01", "cert-replaced")      # before the console's first connection
    window = MainWindow(services, settings)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: pe.id in window.vm_commands._certificate_prompts, timeout=20000)
        prompt = window.vm_commands._certificate_prompts[pe.id]
        assert prompt.isVisible() and not prompt.isModal()
        assert "has changed since it was accepted" in prompt.text()
        qtbot.waitUntil(lambda: window.inventory.provider_status(pe.id)[0] is HostStatus.UNREACHABLE,
                        timeout=5000)
        assert window.inventory.index_for_key_path(f"providers/p:{pe.id}").data().endswith("(unreachable)")
        assert not clusters(window, pe.id), "nothing was read through the refused certificate"
        review = next(b for b in prompt.buttons() if b.objectName() == "reviewCertificateButton")
        review.click()
        dialog = window.vm_commands.last_dialog
        assert dialog.changed and endpoint.fingerprint in dialog.warning.text()
        new = dialog.fingerprint
        assert new and new != endpoint.fingerprint
        qtbot.waitUntil(lambda: "self-signed" in dialog.issuer.text(), timeout=10000)
        dialog.trust_button.click()
        qtbot.waitUntil(lambda: services.providers.get(pe.id).settings.pinned_fingerprint == new, timeout=5000)
        qtbot.waitUntil(lambda: window.inventory.provider_status(pe.id)[0] is HostStatus.CONNECTED
                        and "NTNX-PE-01" in clusters(window, pe.id), timeout=20000)
        assert vm_named(window, pe.id, "Win11-Gold").obj.state is PowerState.OFF
    finally:
        window.close()


def test_screenshot_view_expands_prism_central_clusters_and_selects_the_first_hyperv_host(qtbot, window,
                                                                                           services):
    from console.ui.screenshot_view import prepare_screenshot_view
    prepare_screenshot_view(window)
    pc, _ = prism(services, "NTNX-PC-01")
    model, view, proxy = window.inventory, window.tree.view, window.tree.proxy

    def expanded(node) -> bool:
        return view.isExpanded(proxy.mapFromSource(model.node_index(node)))
    assert expanded(model.provider_node(pc.id))
    assert all(expanded(c) for c in model.cluster_nodes(pc.id)) and len(model.cluster_nodes(pc.id)) == 2
    selected = window.tree.selected_node()
    assert selected.obj.kind.value == "hyperv" and expanded(selected)
    assert window.details.tabText(window.details.currentIndex()) == "Virtual machines"
    task = services.tasks.get(window.tasks_dock.current_task_id())
    assert task.kind == "refresh" and task.provider_id == selected.obj.id
