"""What both lab worlds (Hyper-V ``world`` and ``prism.world``) do with their state folder: JSON files
written atomically (temp file + ``os.replace``), read back, and the saved world reused only when it
was built from the spec asked for."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

W = TypeVar("W")


def compact_json(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def saved_world(load: Callable[[Path], W], state_dir: Path | None, spec: Any) -> W | None:
    """The world ``load`` reads from ``state_dir`` when there is one that reads back and (when ``spec``
    is given) was built from that spec; None otherwise."""
    if state_dir is None:
        return None
    try:
        world = load(state_dir)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return world if spec is None or world.spec == spec else None  # type: ignore[attr-defined]
