"""What `vdi-console --screenshot` shows once the inventory has loaded: the first Hyper-V host
selected with its VMs listed and its refresh's log, and the Prism Central provider expanded down to
its clusters, so one picture shows both kinds of provider. Nothing is staged: these are the rows the
refreshes produced; only the expansion and the selection are chosen."""
from __future__ import annotations

from console.domain.inventory import ProviderKind
from console.ui.inventory_model import is_standalone


def _expand(window, node) -> None:
    window.tree.view.expand(window.tree.proxy.mapFromSource(window.inventory.node_index(node)))


def prepare_screenshot_view(window) -> None:
    model = window.inventory
    model.finish_fills()
    loaded = [p for p in model.providers() if model.provider_node(p.id) is not None
              and model.provider_node(p.id).children]
    for central in (p for p in loaded if p.kind is ProviderKind.NUTANIX_PC):
        node = model.provider_node(central.id)
        _expand(window, node)
        for cluster in model.cluster_nodes(central.id):
            _expand(window, cluster)
        break
    chosen = next((p for p in loaded if is_standalone(p)), loaded[0] if loaded else None)
    if chosen is not None:
        node = model.provider_node(chosen.id)
        _expand(window, node)
        window.tree.select_key(node.key_path())
    window.details.refresh()
    if window.details.count() > 1:
        window.details.setCurrentIndex(1)          # the VMs table
    tasks = window.tasks_model
    rows = [tasks.task_at(r) for r in range(tasks.rowCount())]
    own = [t for t in rows if chosen is not None and t.provider_id == chosen.id and t.kind == "refresh"]
    shown = own[-1] if own else (rows[-1] if rows else None)
    if shown is not None:
        window.tasks_dock.select_task(shown.id)
    tasks.flush()
    window.log_pane.flush()
