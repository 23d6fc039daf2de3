"""The state of a detached copy whose progress follows the clock, shared by a template copy
(``template_model.CopyJob``) and a quick clone's own copy of its base disk(s) (``pool_model.QuickCopy``).

Plain data like the models that use it: progress is not stored but computed from the wall-clock time
since the copy started, so a lab or console that was killed and restarted finds the copy done or further
along. Whether something stopped it is decided by ``template_copies.settle_running``.
"""
from __future__ import annotations

COPY_RUNNING, COPY_DONE, COPY_FAILED = "running", "done", "failed"


class CopyProgress:
    """The methods of a copy dataclass with the fields ``copy_id``, ``bytes_total``, ``rate`` (bytes per
    second of wall-clock time), ``started_at``, ``state``, ``error``, ``ended_at`` and ``bytes_final``."""

    copy_id: str
    bytes_total: int
    rate: float
    started_at: float
    state: str
    error: str
    ended_at: float | None
    bytes_final: int

    def ends_at(self) -> float:
        return self.started_at + (self.bytes_total / self.rate if self.rate > 0 else 0.0)

    def copied_by(self, t: float) -> int:
        """What a running copy has written by ``t`` (not capped: the caller's stop decides)."""
        return int(max(0.0, t - self.started_at) * self.rate)

    def bytes_at(self, now: float) -> int:
        if self.state == COPY_FAILED:
            return self.bytes_final
        if self.state == COPY_DONE:
            return self.bytes_total
        return min(self.bytes_total, self.copied_by(now))

    def fail(self, at: float, error: str, nbytes: int) -> None:
        self.state, self.error, self.ended_at = COPY_FAILED, error, at
        self.bytes_final = max(0, min(self.bytes_total, int(nbytes)))

    def to_contract(self, now: float) -> dict:
        return {"copy_id": self.copy_id, "state": self.state, "bytes_total": self.bytes_total,
                "bytes_done": self.bytes_at(now), "error": self.error}


def missing(copy_id: str) -> dict:
    """The contract document of a copy the host does not know."""
    return {"copy_id": copy_id, "state": "missing", "bytes_total": 0, "bytes_done": 0, "error": ""}
