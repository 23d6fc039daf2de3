"""How vdictl shows templates: tables of versions and targets, prerequisite rows, JSON. (A running
task's progress line already names the target it is about, so targets need no lines of their own.)"""
from __future__ import annotations

import sys
from typing import Any, TextIO

from console.domain.errors import NotFoundError
from console.domain.prerequisites import CheckStatus, PrerequisiteResult
from console.domain.templates import DistributionTarget, Template, TargetProgress
from console.services.container import Services

from .output import gigabytes, to_jsonable

_PROGRESS_WORDS = {
    TargetProgress.DISTRIBUTING: "Distributing",
    TargetProgress.OK: "OK",
    TargetProgress.ADDING: "Adding provider",
    TargetProgress.REMOVING: "Removing provider",
    TargetProgress.FAILED: "Failed to distribute",
}


def provider_name(services: Services, provider_id: int) -> str:
    try:
        return services.providers.get(provider_id).name
    except NotFoundError:
        return f"provider {provider_id} (removed)"


def _pools(services: Services, template_id: int, version: int | None = None) -> list[str]:
    return services.templates.pool_names_using(template_id, version)


def template_dict(services: Services, t: Template) -> dict[str, Any]:
    """The template as JSON, with provider names next to ids and the pools using each version."""
    data = to_jsonable(t)
    data["provider"] = provider_name(services, t.provider_id)
    data["pools"] = _pools(services, t.id)
    for v in data["versions"]:
        v["pools"] = _pools(services, t.id, v["number"])
    for d in data["targets"]:
        d["provider"] = provider_name(services, d["provider_id"])
    return data


def progress_words(target: DistributionTarget) -> str:
    words = _PROGRESS_WORDS.get(target.progress, target.progress.value)
    if target.progress is TargetProgress.DISTRIBUTING:
        words += f" {int(target.fraction * 100)}%"
    return words


def target_rows(services: Services, t: Template) -> list[list[Any]]:
    return [[provider_name(services, d.provider_id), d.state.value, progress_words(d),
             f"v{d.version}" if d.version else "-", d.updated[:19], d.last_error]
            for d in t.targets]


def version_rows(services: Services, t: Template) -> list[list[Any]]:
    return [[f"v{v.number}", v.created[:19], v.tag, gigabytes(v.size_bytes),
             ", ".join(_pools(services, t.id, v.number)), v.notes]
            for v in sorted(t.versions, key=lambda v: v.number)]


def print_checks(host: str, rows: list[PrerequisiteResult], out: TextIO | None = None) -> None:
    """The prerequisite rows of one target: the result, what was expected and found, and the fix
    under each failed or warned row (blocks, not a table: the sentences are long)."""
    out = out or sys.stdout
    print(f"Prerequisites of {host}:", file=out)
    marks = {CheckStatus.PASSED: "ok", CheckStatus.FAILED: "FAILED", CheckStatus.WARNING: "warning"}
    for r in rows:
        print(f"  {marks[r.status]:<7} {r.title}: expected {r.expected}; found {r.found}", file=out)
        if r.status is not CheckStatus.PASSED and r.fix:
            print(f"          Fix: {r.fix}", file=out)
