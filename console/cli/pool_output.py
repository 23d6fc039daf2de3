"""How vdictl shows pools and clones: tables, counts by state, timings, JSON."""
from __future__ import annotations

from collections import Counter
from typing import Any

from console.domain.errors import NotFoundError
from console.domain.templates import Clone, CloneState, Pool, ProvisioningMethod
from console.services.container import Services

from .output import to_jsonable
from .template_output import provider_name

#: the order counts are shown in
STATE_ORDER = (CloneState.READY, CloneState.ASSIGNED, CloneState.PROVISIONING, CloneState.MERGING,
               CloneState.UPDATING, CloneState.DELETING, CloneState.FAILED, CloneState.INCOMPLETE)
CLONE_HEADERS = ["NAME", "HOST", "STATE", "VERSION", "METHOD", "CREATED", "USABLE", "INDEPENDENT",
                 "USER", "ERROR"]


def template_name(services: Services, template_id: int) -> str:
    try:
        return services.templates.get(template_id).name
    except NotFoundError:
        return f"template {template_id} (removed)"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f}s"
    minutes, rest = divmod(int(round(value)), 60)
    return f"{minutes}m{rest:02d}s"


def independent(c: Clone) -> str:
    if c.independent_seconds is not None:
        return seconds(c.independent_seconds)
    if c.method is ProvisioningMethod.LINKED:
        return "never"
    if c.state is CloneState.MERGING:
        return "merging"
    return "-"


def clone_row(services: Services, c: Clone) -> list[Any]:
    return [c.name, c.host or provider_name(services, c.provider_id), c.state.value,
            f"v{c.version}" if c.version else "-", c.method.value, c.created[:19],
            seconds(c.usable_seconds), independent(c), c.assigned_user, c.error]


def counts(clones: list[Clone]) -> dict[str, int]:
    """Clones by state, in the order shown (states with none left out)."""
    by_state = Counter(c.state for c in clones)
    return {s.value: by_state[s] for s in STATE_ORDER if by_state[s]}


def counts_text(clones: list[Clone]) -> str:
    if not clones:
        return "none"
    return ", ".join(f"{n} {state}" for state, n in counts(clones).items())


def pool_state(pool: Pool, clones: list[Clone]) -> str:
    if any(c.state is CloneState.UPDATING for c in clones):
        return "updating"
    return "enabled" if pool.enabled else "disabled"


def version_text(pool: Pool) -> str:
    return f"v{pool.version}" + (f" (tag {pool.follow_tag})" if pool.follow_tag else "")


def pool_dict(services: Services, pool: Pool, clones: list[Clone] | None = None,
              history: list | None = None) -> dict[str, Any]:
    """The pool as JSON with names next to ids; clones and history when given."""
    data = to_jsonable(pool)
    data["template"] = template_name(services, pool.template_id)
    data["targets"] = [provider_name(services, pid) for pid in pool.target_provider_ids]
    if clones is not None:
        data["state"] = pool_state(pool, clones)
        data["counts"] = counts(clones)
        data["clones"] = to_jsonable(clones)
    if history is not None:
        data["history"] = to_jsonable(history)
    return data


def failed_clones(clones: list[Clone]) -> list[Clone]:
    return [c for c in clones if c.state is CloneState.FAILED]


def print_failures(clones: list[Clone], out) -> None:
    for c in failed_clones(clones):
        print(f"Warning: clone {c.name}{' on ' + c.host if c.host else ''} failed: "
              f"{c.error or 'see the task log'}", file=out)
