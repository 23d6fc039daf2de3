"""Credentials: the OS keyring when a usable one exists, else the session's memory.

Why the probe: on a machine without a desktop session keyring picks ``fail.Keyring`` (set raises
NoKeyringError), a forced Secret Service raises RuntimeError, a locked GNOME keyring raises InitError.
So the keyring is used only when its recommended backend has priority >= 1 and a probe
``get_password`` raises nothing; otherwise secrets live in memory for this session and the UI says so
(``persistent`` is False). No secret is ever logged or written anywhere else.
"""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

MEMORY_BACKEND_NAME = "memory (no keyring on this machine)"
_PROBE_USER = "__vdi-console-probe__"


class SecretStore:
    def __init__(self, service: str = "vdi-console", backend: Any = None) -> None:
        """``backend``: a keyring backend instance to use instead of keyring's recommendation."""
        self.service = service
        self._memory: dict[str, str] = {}
        self._backend = self._usable_backend(backend)

    def _usable_backend(self, backend: Any) -> Any:
        try:
            if backend is None:
                import keyring
                backend = keyring.get_keyring()
            priority = getattr(backend, "priority", 0)
            if priority is None or priority < 1:
                log.info("No usable keyring (%s, priority %s): secrets stay in memory this session",
                         type(backend).__name__, priority)
                return None
            backend.get_password(self.service, _PROBE_USER)
            return backend
        except Exception as exc:   # locked, no D-Bus, RuntimeError from SecretService...
            log.info("Keyring not usable (%s): secrets stay in memory this session", type(exc).__name__)
            return None

    @property
    def persistent(self) -> bool:
        return self._backend is not None

    @property
    def backend_name(self) -> str:
        if self._backend is None:
            return MEMORY_BACKEND_NAME
        name = getattr(self._backend, "name", "") or type(self._backend).__name__
        return str(name)

    def get(self, key: str) -> str | None:
        if key in self._memory:
            return self._memory[key]
        if self._backend is None:
            return None
        try:
            return self._backend.get_password(self.service, key)
        except Exception as exc:
            log.warning("Keyring read of %s failed (%s)", key, type(exc).__name__)
            return None

    def set(self, key: str, secret: str, persist: bool = True) -> None:
        """Keep ``secret`` under ``key``; ``persist=False`` keeps it in this session's memory only
        (the lab's passwords, or a password the user did not want remembered)."""
        if persist and self._backend is not None:
            try:
                self._backend.set_password(self.service, key, secret)
                self._memory.pop(key, None)
                return
            except Exception as exc:
                # A keyring that locks after start-up: keep the session working, say why in the log.
                log.warning("Keyring write of %s failed (%s); kept in memory for this session",
                            key, type(exc).__name__)
        self._memory[key] = secret

    def delete(self, key: str) -> None:
        self._memory.pop(key, None)
        if self._backend is None:
            return
        try:
            if self._backend.get_password(self.service, key) is not None:
                self._backend.delete_password(self.service, key)
        except Exception as exc:
            log.warning("Keyring delete of %s failed (%s)", key, type(exc).__name__)
