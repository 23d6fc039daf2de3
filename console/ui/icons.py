"""Icons from resources/icons/*.svg, with a standard Qt icon when a file is missing."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from console.domain.inventory import HostStatus, PowerState
from console.domain.tasks import TaskState

_SP = QStyle.StandardPixmap
# What to show when an SVG is absent (a source checkout without resources, a broken build).
_FALLBACK = {
    "provider-hyperv": _SP.SP_ComputerIcon,
    "provider-nutanix": _SP.SP_DriveNetIcon,
    "host": _SP.SP_ComputerIcon,
    "cluster": _SP.SP_DriveNetIcon,
    "vm-snapshot": _SP.SP_DialogSaveButton,
    "vm-clone": _SP.SP_FileDialogNewFolder,
    "host-unreachable": _SP.SP_MessageBoxWarning,
    "vm-running": _SP.SP_MediaPlay,
    "vm-off": _SP.SP_MediaStop,
    "vm-saved": _SP.SP_DialogSaveButton,
    "vm-paused": _SP.SP_MediaPause,
    "vm-transition": _SP.SP_BrowserReload,
    "task-queued": _SP.SP_FileDialogListView,
    "task-running": _SP.SP_MediaPlay,
    "task-succeeded": _SP.SP_DialogApplyButton,
    "task-failed": _SP.SP_MessageBoxCritical,
    "task-cancelled": _SP.SP_DialogCancelButton,
    "task-interrupted": _SP.SP_MessageBoxWarning,
    "folder-templates": _SP.SP_DirIcon,
    "folder-pools": _SP.SP_DirIcon,
    "folder-providers": _SP.SP_DirIcon,
    "app": _SP.SP_ComputerIcon,
    "add-provider": _SP.SP_FileDialogNewFolder,
    "refresh": _SP.SP_BrowserReload,
    "vm-start": _SP.SP_MediaPlay,
    "vm-shutdown": _SP.SP_MediaSeekForward,
    "vm-stop": _SP.SP_MediaStop,
    "vm-restart": _SP.SP_BrowserReload,
    "delete": _SP.SP_TrashIcon,
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
        result = QApplication.style().standardIcon(_FALLBACK.get(name, _SP.SP_FileIcon))
    _cache[name] = result
    return result


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
