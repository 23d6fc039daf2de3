"""vdictl commands on one VM (power, snapshot, snapshots, clone, delete) and tasks retry."""
from __future__ import annotations

import sys
from argparse import Namespace
from typing import Any

from console.domain.errors import NotFoundError, ValidationError
from console.domain.inventory import VM, PowerAction, Provider
from console.services.container import Services

from .commands import ask_missing_passwords, confirmed, find_task, refresh_for, run_task
from .output import print_error, print_json, print_table


async def _find_vm(services: Services, args: Namespace) -> tuple[Provider, VM]:
    """Refresh (the provider given, or every one), then the VM by id or name."""
    errors = await refresh_for(services, args, args.provider)
    only = services.providers.find(args.provider).id if args.provider else None
    try:
        return services.providers.find_vm(args.vm, only)
    except (NotFoundError, ValidationError):
        for e in errors:
            print_error(e)
        raise


async def _run_one(services: Services, args: Namespace, provider: Provider, task: Any) -> dict:
    outcome = await run_task(services, args, task)
    if args.json:
        print_json({"provider": provider.name, "task": task.id, **outcome})
    return outcome


def _where(outcome: dict) -> str:
    return outcome.get("host") or outcome.get("cluster") or "its cluster"


async def vms_power(services: Services, args: Namespace) -> int:
    provider, vm = await _find_vm(services, args)
    task = services.providers.power(provider.id, vm.id, PowerAction(args.action))
    outcome = await _run_one(services, args, provider, task)
    if not args.json:
        print(f"VM '{outcome['vm']}' on {outcome['host'] or vm.cluster} is {outcome['state']}.")
    return 0


async def vms_snapshot(services: Services, args: Namespace) -> int:
    provider, vm = await _find_vm(services, args)
    task = services.providers.snapshot(provider.id, vm.id, args.name)
    outcome = await _run_one(services, args, provider, task)
    if not args.json:
        print(f"Snapshot '{outcome['snapshot']}' of VM '{vm.name}' is {outcome['snapshot_id']}.")
    return 0


async def vms_snapshots(services: Services, args: Namespace) -> int:
    provider, vm = await _find_vm(services, args)
    snapshots = await services.providers.snapshots(provider.id, vm.id)
    if args.json:
        print_json({"provider": provider.name, "vm": vm.name, "vm_id": vm.id, "snapshots": snapshots})
    else:
        print_table(["SNAPSHOT", "CREATED", "ID"], [[s.name, s.created[:19], s.id] for s in snapshots])
    return 0


def _snapshot_id(snapshots: list, ref: str, vm: VM) -> str:
    """A snapshot of the VM by id, else by name (any case)."""
    text = ref.strip()
    by_id = [s for s in snapshots if s.id.lower() == text.lower()]
    by_name = [s for s in snapshots if s.name.casefold() == text.casefold()]
    found = by_id or by_name
    if not found:
        raise NotFoundError(f"VM '{vm.name}' has no snapshot named '{text}' or with that id.",
                            f"List them with 'vdictl vms snapshots {vm.id}'.")
    if len(found) > 1:
        raise ValidationError(f"{len(found)} snapshots of VM '{vm.name}' are named '{text}'.",
                              "Give the snapshot's id instead.", field="snapshot")
    return found[0].id


async def vms_clone(services: Services, args: Namespace) -> int:
    provider, vm = await _find_vm(services, args)
    snapshot_id = None
    if args.from_snapshot:
        snapshot_id = _snapshot_id(await services.providers.snapshots(provider.id, vm.id), args.from_snapshot, vm)
    task = services.providers.clone(provider.id, vm.id, args.new_name, snapshot_id)
    outcome = await _run_one(services, args, provider, task)
    if not args.json:
        method = "from its snapshot" if snapshot_id else "in full"
        print(f"Cloned VM '{vm.name}' {method} to '{outcome['vm']}' ({outcome['vm_id']}) on {_where(outcome)}.")
    return 0


async def vms_delete(services: Services, args: Namespace) -> int:
    provider, vm = await _find_vm(services, args)
    if not confirmed(args, f"Delete VM '{vm.name}' ({vm.id}) on {provider.name} with its disks?"):
        print("Nothing was deleted.", file=sys.stderr)
        return 1
    task = services.providers.delete_vm(provider.id, vm.id)
    await _run_one(services, args, provider, task)
    if not args.json:
        print(f"Deleted VM '{vm.name}'.")
    return 0


async def tasks_retry(services: Services, args: Namespace) -> int:
    task = find_task(services, args.id)
    if task.provider_id is not None:
        ask_missing_passwords(services, [services.providers.get(task.provider_id)])
    retry = services.providers.retry(task.id)
    provider = services.providers.get(retry.provider_id)
    outcome = await _run_one(services, args, provider, retry)
    if not args.json:
        print(f"Task {retry.id} (retry of task {task.id}, {task.name}) succeeded.")
        if outcome.get("vm_id"):
            print(f"  VM '{outcome.get('vm', '')}' ({outcome['vm_id']})")
    return 0
