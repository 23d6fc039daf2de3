"""Adapters against the embedded lab on loopback, through the real clients."""
from __future__ import annotations

import threading

import pytest

from console.adapters.hyperv import HyperVAdapter
from console.domain.inventory import ConnectionSettings, ProviderKind, WinRMTransport
from console.domain.tasks import LogLevel


class RecordingReporter:
    """A Reporter that keeps what it was told, and on which thread."""

    def __init__(self) -> None:
        self.progress_calls: list[tuple[float, str]] = []
        self.lines: list[tuple[LogLevel, str]] = []
        self.threads: set[int] = set()

    def progress(self, fraction: float, text: str = "") -> None:
        self.threads.add(threading.get_ident())
        self.progress_calls.append((fraction, text))

    def log(self, level: LogLevel, text: str) -> None:
        self.threads.add(threading.get_ident())
        self.lines.append((level, text))

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)


@pytest.fixture
def reporter() -> RecordingReporter:
    return RecordingReporter()


@pytest.fixture
def hyperv(lab):
    """``hyperv("HV01")`` -> a HyperVAdapter connected to that lab host (Basic over loopback HTTP);
    ``password=`` and ``max_command_chars=`` override. Adapters are closed at teardown."""
    made: list[HyperVAdapter] = []

    def connect(host: str, password: str | None = None, **kwargs) -> HyperVAdapter:
        h = lab.host(host)
        settings = ConnectionSettings(kind=ProviderKind.HYPERV, address=h.url, username=h.username,
                                      transport=WinRMTransport.BASIC)
        adapter = HyperVAdapter(settings, h.password if password is None else password, **kwargs)
        made.append(adapter)
        return adapter

    yield connect
    for adapter in made:
        adapter._client.close()
