"""Icons from resources/icons/*.svg, with a standard Qt icon when a file is missing."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

from console.domain.inventory import HostStatus, PowerState
from console.domain.tasks import TaskState

# What to show when an SVG is absent (a source checkout without resources, a broken build): names of
# QStyle.StandardPixmap members, looked up only then (importing QStyle costs ~10-20 ms of enum
# creation, before the window's first paint).
_FALLBACK = {
    "provider-hyperv": "SP_ComputerIcon",
    "provider-nutanix": "SP_DriveNetIcon",
    "host": "SP_ComputerIcon",
    "cluster": "SP_DriveNetIcon",
    "vm-snapshot": "SP_DialogSaveButton",
    "vm-clone": "SP_FileDialogNewFolder",
    "host-unreachable": "SP_MessageBoxWarning",
    "vm-running": "SP_MediaPlay",
    "vm-off": "SP_MediaStop",
    "vm-saved": "SP_DialogSaveButton",
    "vm-paused": "SP_MediaPause",
    "vm-transition": "SP_BrowserReload",
    "task-queued": "SP_FileDialogListView",
    "task-running": "SP_MediaPlay",
    "task-succeeded": "SP_DialogApplyButton",
    "task-failed": "SP_MessageBoxCritical",
    "task-cancelled": "SP_DialogCancelButton",
    "task-interrupted": "SP_MessageBoxWarning",
    "folder-templates": "SP_DirIcon",
    "folder-pools": "SP_DirIcon",
    "folder-providers": "SP_DirIcon",
    "app": "SP_ComputerIcon",
    "add-provider": "SP_FileDialogNewFolder",
    "refresh": "SP_BrowserReload",
    "vm-start": "SP_MediaPlay",
    "vm-shutdown": "SP_MediaSeekForward",
    "vm-stop": "SP_MediaStop",
    "vm-restart": "SP_BrowserReload",
    "delete": "SP_TrashIcon",
}

_cache: dict[str, QIcon] = {}


def icons_dir() -> Path:
    """Where the SVGs are: next to the executable in a PyInstaller build, else in the checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        frozen = Path(bundle) / "resources" / "icons"
        if frozen.is_dir():
            return frozen
    return Path(__file__).resolve().parents[2] / "resources" / "icons"


def icon(name: str) -> QIcon:
    cached = _cache.get(name)
    if cached is not None:
        return cached
    path = icons_dir() / f"{name}.svg"
    result = QIcon(str(path)) if path.is_file() else QIcon()
    if result.isNull():
        result = _standard_icon(_FALLBACK.get(name, "SP_FileIcon"))
    _cache[name] = result
    return result


def _standard_icon(pixmap_name: str) -> QIcon:
    from PySide6.QtWidgets import QApplication, QStyle
    return QApplication.style().standardIcon(getattr(QStyle.StandardPixmap, pixmap_name))


_VM_ICONS = {
    PowerState.RUNNING: "vm-running",
    PowerState.OFF: "vm-off",
    PowerState.SAVED: "vm-saved",
    PowerState.PAUSED: "vm-paused",
    PowerState.STARTING: "vm-transition",
    PowerState.STOPPING: "vm-transition",
    PowerState.UNKNOWN: "vm-transition",
}


def vm_icon(state: PowerState) -> QIcon:
    return icon(_VM_ICONS.get(state, "vm-off"))


def host_icon(status: HostStatus) -> QIcon:
    bad = status in (HostStatus.UNREACHABLE, HostStatus.AUTH_FAILED)
    return icon("host-unreachable" if bad else "host")


def task_icon(state: TaskState) -> QIcon:
    return icon(f"task-{state.value}")
