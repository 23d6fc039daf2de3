"""WinRS shells and commands as the endpoint keeps them: a shell per Create, a command per Command.

A command stands for one powershell.exe run: its output is produced at the end (``finish``), and
Receive hands it out in chunks small enough for one envelope (``next_chunk``).
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

MAX_RECEIVE_BYTES = 96 * 1024       # raw bytes per Receive; base64 of it stays under MaxEnvelopeSize


class Command:
    """One powershell.exe run: output is produced at the end; Receive hands it out in chunks."""

    def __init__(self, shell: "Shell", command: str, arguments: list[str]) -> None:
        self.id = str(uuid.uuid4()).upper()
        self.shell = shell
        self.command = command
        self.arguments = arguments
        self.abort = threading.Event()
        self._cond = threading.Condition()
        self.finished = False
        self.dropped = False
        self.exit_code = 0
        self._out = b""
        self._err = b""
        self._pos_out = 0
        self._pos_err = 0
        self.thread: threading.Thread | None = None

    def finish(self, out: bytes, err: bytes, exit_code: int) -> None:
        with self._cond:
            self._out, self._err, self.exit_code = out, err, exit_code
            self.finished = True
            self._cond.notify_all()

    def drop(self) -> None:
        with self._cond:
            self.dropped = True
            self.finished = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> str:
        with self._cond:
            self._cond.wait_for(lambda: self.finished, timeout=timeout)
            if self.dropped:
                return "dropped"
            return "done" if self.finished else "running"

    def next_chunk(self) -> tuple[bytes, bytes, bool]:
        """(stdout, stderr, done) for one Receive response."""
        with self._cond:
            budget = MAX_RECEIVE_BYTES
            out = self._out[self._pos_out:self._pos_out + budget]
            self._pos_out += len(out)
            budget -= len(out)
            err = self._err[self._pos_err:self._pos_err + budget] if budget > 0 else b""
            self._pos_err += len(err)
            done = self._pos_out >= len(self._out) and self._pos_err >= len(self._err)
            return out, err, done


@dataclass
class Shell:
    id: str
    username: str
    codepage: int = 437
    commands: dict[str, Command] = field(default_factory=dict)
