"""The Templates branch of the inventory tree: one row per template, its versions under it.

A mixin of InventoryModel (like ClusterTree and TreeDiff): it needs the model's node_index,
_append, _remove_rows, _groups, dataChanged and nodeChanged. Rows are inserted, removed or marked
changed on stable keys (``t:<template id>``, ``v:<version number>``), never reset, so the view keeps
its expansion and selection. Distribution progress comes per copy step (several a second per target):
target changes are queued and applied together, once per ``TARGET_COALESCE_MS``.
"""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import QTimer

from console.domain.templates import DistributionTarget, Template, TemplateState, TemplateVersion
from console.ui import icons
from console.ui.inventory_nodes import Node, NodeKind
from console.ui.table_models import format_bytes

GROUP_TEMPLATES = "templates"
TARGET_COALESCE_MS = 100

_STATE_SUFFIX = {TemplateState.MAINTENANCE: " (Maintenance)", TemplateState.CREATING: " (Creating)",
                 TemplateState.DELETING: " (Deleting)"}


def template_key(template_id: int) -> str:
    return f"t:{template_id}"


def version_key(number: int) -> str:
    return f"v:{number}"


def template_key_path(template_id: int, version: int | None = None) -> str:
    path = f"{GROUP_TEMPLATES}/{template_key(template_id)}"
    return f"{path}/{version_key(version)}" if version is not None else path


def version_label(version: TemplateVersion) -> str:
    return f"v{version.number} \N{EM DASH} {version.tag}" if version.tag else f"v{version.number}"


def describe_template(node: Node) -> None:
    t: Template = node.obj
    node.label = t.name + _STATE_SUFFIX.get(t.state, "")
    node.sort_key = t.name.casefold()
    latest = t.latest_version
    lines = [t.name, f"State: {t.state.value}",
             f"Source: {t.source_vm_name or t.source_vm_id}" + (f" on {t.source_host}" if t.source_host else ""),
             f"Latest version: v{latest.number}" if latest is not None else "No version yet"]
    if t.distribution_enabled:
        ready = sum(1 for target in t.targets if target.version == (latest.number if latest else None)
                    and target.state.value == "ready")
        lines.append(f"Distribution: {ready} of {len(t.targets)} targets hold the latest version")
    if t.description:
        lines.append(t.description)
    node.tooltip = "\n".join(lines)


def describe_version(node: Node) -> None:
    v: TemplateVersion = node.obj
    node.label = version_label(v)
    node.sort_key = f"{v.number:09d}"
    lines = [f"Version {v.number}", f"Created {v.created}"]
    if v.size_bytes:
        lines.append(f"Disks: {format_bytes(v.size_bytes)}")
    if v.notes:
        lines.append(v.notes)
    node.tooltip = "\n".join(lines)


def template_icon(node: Node):
    if node.kind is NodeKind.VERSION:
        return icons.icon("template-version")
    state = node.obj.state
    if state is TemplateState.MAINTENANCE:
        return icons.icon("template-maintenance")
    if state in (TemplateState.CREATING, TemplateState.DELETING):
        return icons.icon("vm-transition")
    return icons.icon("template")


class TemplateTree:
    def _init_templates(self) -> None:
        self._templates: dict[int, Node] = {}
        self._pending_targets: dict[tuple[int, int], DistributionTarget] = {}
        self._targets_timer = QTimer(self, singleShot=True, interval=TARGET_COALESCE_MS)
        self._targets_timer.timeout.connect(self.flush_targets)

    # ----- lookups ----------------------------------------------------------------------------
    def template_node(self, template_id: int) -> Node | None:
        return self._templates.get(template_id)

    def template(self, template_id: int) -> Template | None:
        node = self._templates.get(template_id)
        return node.obj if node is not None else None

    def templates(self) -> list[Template]:
        return [n.obj for n in self._groups[GROUP_TEMPLATES].children]

    # ----- updates from events ----------------------------------------------------------------
    def set_templates(self, templates: list[Template]) -> None:
        """Add missing templates, update known ones, remove the rest (first fill at start-up)."""
        wanted = {t.id: t for t in templates}
        for tid in [tid for tid in self._templates if tid not in wanted]:
            self.remove_template(tid)
        for template in wanted.values():
            self.add_template(template)

    def add_template(self, template: Template) -> None:
        if template.id in self._templates:
            self.update_template(template)
            return
        group = self._groups[GROUP_TEMPLATES]
        node = Node(NodeKind.TEMPLATE, template_key(template.id), group, template)
        describe_template(node)
        self._append(group, [node])
        self._templates[template.id] = node
        self._sync_versions(node)
        self._describe_templates_group()

    def update_template(self, template: Template) -> None:
        node = self._templates.get(template.id)
        if node is None:
            self.add_template(template)
            return
        # target changes still queued came before this event: its own copy of the targets is newer
        for key in [k for k in self._pending_targets if k[0] == template.id]:
            del self._pending_targets[key]
        node.obj = template
        self._sync_versions(node)
        self._template_changed(node)

    def remove_template(self, template_id: int) -> None:
        node = self._templates.pop(template_id, None)
        for key in [k for k in self._pending_targets if k[0] == template_id]:
            del self._pending_targets[key]
        if node is not None:
            self._remove_rows(node.parent, [node.row])
            self._describe_templates_group()

    def queue_target(self, template_id: int, target: DistributionTarget) -> None:
        """A DistributionTargetChanged: applied with the others of the next TARGET_COALESCE_MS."""
        self._pending_targets[(template_id, target.provider_id)] = target
        if not self._targets_timer.isActive():
            self._targets_timer.start()

    def flush_targets(self) -> None:
        self._targets_timer.stop()
        pending, self._pending_targets = self._pending_targets, {}
        by_template: dict[int, list[DistributionTarget]] = {}
        for (tid, _pid), target in pending.items():
            by_template.setdefault(tid, []).append(target)
        for tid, targets in by_template.items():
            node = self._templates.get(tid)
            if node is None:
                continue
            merged = {t.provider_id: t for t in node.obj.targets}
            for target in targets:
                merged[target.provider_id] = target
            # a new Template object: the one the event carried may be shared with other listeners
            node.obj = dataclasses.replace(node.obj, targets=list(merged.values()))
            self._template_changed(node)

    def forget_target(self, template_id: int, provider_id: int) -> None:
        node = self._templates.get(template_id)
        self._pending_targets.pop((template_id, provider_id), None)
        if node is not None and node.obj.target(provider_id) is not None:
            node.obj = dataclasses.replace(
                node.obj, targets=[t for t in node.obj.targets if t.provider_id != provider_id])
            self._template_changed(node)

    # ----- rows -------------------------------------------------------------------------------
    def _template_changed(self, node: Node) -> None:
        describe_template(node)
        idx = self.node_index(node)
        self.dataChanged.emit(idx, idx)
        self.nodeChanged.emit(node.key_path())

    def _sync_versions(self, node: Node) -> None:
        wanted = {version_key(v.number): v for v in node.obj.versions}
        gone = [row for row, child in enumerate(node.children) if child.key not in wanted]
        self._remove_rows(node, gone)
        fresh = []
        for key, version in wanted.items():
            row = node.index_of.get(key)
            if row is None:
                child = Node(NodeKind.VERSION, key, node, version)
                describe_version(child)
                fresh.append(child)
                continue
            child = node.children[row]
            if child.obj != version:
                child.obj = version
                describe_version(child)
                idx = self.node_index(child)
                self.dataChanged.emit(idx, idx)
                self.nodeChanged.emit(child.key_path())
        self._append(node, sorted(fresh, key=lambda n: n.obj.number))

    def _describe_templates_group(self) -> None:
        group = self._groups[GROUP_TEMPLATES]
        count = len(group.children)
        group.tooltip = (f"{count} template{'s' if count != 1 else ''} made from a VM" if count else
                         "No templates yet: templates made from a VM appear here")
        idx = self.node_index(group)
        self.dataChanged.emit(idx, idx)
