"""vdictl pools update / rollback / cleanup and vdictl clones list."""
from __future__ import annotations

import re
import sys
from argparse import Namespace
from datetime import datetime, timedelta

from console.domain.errors import ConsoleError
from console.services.container import Services

from .commands import UsageError, ask_missing_passwords, run_task, wait_tasks
from .output import print_error, print_json, print_table
from .pool_commands import find_pool, supply_join_password
from .pool_output import (CLONE_HEADERS, clone_row, counts_text, failed_clones, pool_dict,
                          print_failures)

DEFAULT_GRACE_MINUTES = 30
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_at(text: str, now: datetime | None = None) -> datetime:
    """``HH:MM`` (today, or tomorrow when that time has passed) or an ISO date and time; local time
    unless it carries an offset. Returns an aware datetime in the future."""
    now = (now or datetime.now().astimezone())
    value = (text or "").strip()
    clock = _CLOCK.match(value)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise UsageError(f"--at {value}: {hour:02d}:{minute:02d} is not a time of day.")
        at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return at if at > now else at + timedelta(days=1)
    try:
        at = datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        raise UsageError(f"--at '{value}' is not a time.", "Use HH:MM, or YYYY-MM-DDTHH:MM "
                         "(for example 2025-06-30T22:00).") from None
    at = at.astimezone() if at.tzinfo is None else at
    if at <= now:
        raise UsageError(f"--at {at.isoformat(timespec='minutes')} has already passed.",
                         "Leave --at out to start now, or give a later time.")
    return at


def _options(args: Namespace) -> dict:
    if args.grace is not None and args.logoff != "wait":
        raise UsageError("--grace is the longest wait for users with --logoff wait.",
                         "Add --logoff wait, or leave --grace out.")
    return {"batch_size": args.batch, "stop_on_error": args.stop_on_error,
            "at": parse_at(args.at) if args.at else None, "logoff": args.logoff,
            "grace_minutes": DEFAULT_GRACE_MINUTES if args.grace is None else args.grace}


async def _run_update(services: Services, args: Namespace, pool, task, what: str,
                      at: datetime | None) -> int:
    if at is not None and not args.json:
        print(f"The {what} of pool '{pool.name}' is queued until {at.isoformat(timespec='minutes')}: "
              "keep this command running (Ctrl+C cancels it).", file=sys.stderr)
    [(task, outcome)] = await wait_tasks(services, args, [task])
    error = outcome if isinstance(outcome, ConsoleError) else None
    result = {} if error else (outcome or {})
    after = services.pools.get(pool.id)
    clones = services.pools.clones(pool.id)
    failed = failed_clones(clones)
    if args.json:
        print_json({"task": task.id, "pool": pool_dict(services, after, clones),
                    "error": str(error) if error else None, "result": result})
    else:
        if error is None:
            print(f"Pool '{after.name}' {what} finished: its clones are at version {after.version} "
                  f"({counts_text(clones)}).")
        print_failures(clones, sys.stderr)
        if error is not None:
            print_error(error)
    return 1 if error is not None or failed else 0


async def pools_update(services: Services, args: Namespace) -> int:
    options = _options(args)
    pool = find_pool(services, args.pool)
    ask_missing_passwords(services, services.providers.list())
    supply_join_password(services, args, services.templates.get(pool.template_id), pool)
    task = services.pools.update(pool.id, version=args.version,
                                 tag=args.tag.strip() if args.tag else None, **options)
    return await _run_update(services, args, pool, task, "update", options["at"])


async def pools_rollback(services: Services, args: Namespace) -> int:
    options = _options(args)
    pool = find_pool(services, args.pool)
    ask_missing_passwords(services, services.providers.list())
    supply_join_password(services, args, services.templates.get(pool.template_id), pool)
    task = services.pools.rollback(pool.id, **options)
    return await _run_update(services, args, pool, task, "rollback", options["at"])


async def pools_cleanup(services: Services, args: Namespace) -> int:
    pool = find_pool(services, args.pool)
    half = services.pools.half_made(pool.id)
    if not half:
        if args.json:
            print_json({"pool": pool.name, "task": None, "removed": []})
        else:
            print(f"Pool '{pool.name}' has no half-made clones.")
        return 0
    ask_missing_passwords(services, services.providers.list())
    task = services.pools.clean_up(pool.id)
    await run_task(services, args, task)
    left = {c.name for c in services.pools.half_made(pool.id)}
    removed = [c.name for c in half if c.name not in left]
    if args.json:
        print_json({"pool": pool.name, "task": task.id, "removed": removed, "left": sorted(left)})
    else:
        print(f"Removed {len(removed)} half-made clone{'s' if len(removed) != 1 else ''} of pool "
              f"'{pool.name}'" + (f": {', '.join(removed)}." if removed else "."))
        if left:
            print(f"Warning: {', '.join(sorted(left))} could not be removed; see 'vdictl tasks show "
                  f"{task.id}'.", file=sys.stderr)
    return 1 if left else 0


async def clones_list(services: Services, args: Namespace) -> int:
    pool = find_pool(services, args.pool)
    clones = services.pools.clones(pool.id)
    if args.json:
        print_json(pool_dict(services, pool, clones)["clones"])
        return 0
    print_table(CLONE_HEADERS, [clone_row(services, c) for c in clones])
    if not clones:
        print(f"Pool '{pool.name}' has no clones.", file=sys.stderr)
    return 0

