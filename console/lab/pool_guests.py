"""The guest side of the pool scripts (design scripts 2, 4, 9): Set-PoolClonePreparation hands the guest
agent its identity (Hyper-V KVP host-to-guest items), Get-PoolCloneGuests reads many guests in one call,
Invoke-PoolCloneLogoff ends a user's session; and the simulated users of the lab (``take_clones``,
``release_clones``, ``logged_on``, used by ``Lab``).

A guest's state follows the clock (``pool_model.CloneRecord.guest_at``): booting for the boot time
after the start, then preparing (sysprep or rename + domain join) after it was told, then ready; a
domain the host cannot reach makes the preparation fail with the guest agent's sentence. The join
password arrives in the parameter document and goes nowhere: not in the record, not in any message.
"""
from __future__ import annotations

import time

from .hyperv_model import SimHost
from .pool_common import guest_of, kvp_unavailable, timed, valid_guid
from .pool_model import CloneRecord, Preparation
from .pool_timings import preparation_seconds
from .powershell import HyperV, PSError
from .template_common import host_of, save, scale, text_param

PREPARATION_METHODS = ("sysprep", "rename-join")


def _text(params: dict, key: str) -> str:
    value = params.get(key)
    return "" if value is None else str(value)


def domain_problem(host: SimHost, domain: str, has_password: bool) -> str:
    """The failure the guest agent will meet joining ``domain`` from ``host``'s network ("" none): the
    clones share their host's network, so only the host's own domain answers."""
    if not domain:
        return ""
    if not (host.part_of_domain and host.domain.lower() == domain.lower()):
        return f"The domain '{domain}' could not be contacted."
    if not has_password:
        return "The user name or password is incorrect."
    return ""


# ------------------------------------------------------------------------------------ 2

def set_pool_clone_preparation(ctx, params: dict) -> object:
    vm_id = valid_guid(params.get("vm_id"))
    if vm_id is None:
        raise HyperV.bad_guid_cast(_text(params, "vm_id"))
    method = _text(params, "method") or "rename-join"
    if method not in PREPARATION_METHODS:
        raise PSError(f"Unknown preparation method '{method}': expected sysprep or rename-join.",
                      "VdiUnknownPreparation", "InvalidArgument", "System.ArgumentException", method)
    prep = Preparation(computer_name=text_param(params, "computer_name"), domain=_text(params, "domain"),
                       organizational_unit=_text(params, "organizational_unit"),
                       join_account=_text(params, "join_account"),
                       has_password=bool(_text(params, "join_password")), method=method,
                       local_administrator=_text(params, "local_administrator"),
                       owner=_text(params, "owner"), organization=_text(params, "organization"))
    with ctx.world.lock:
        vm = host_of(ctx).vm_by_id(vm_id)
        if vm is None:
            raise HyperV.vm_not_found(vm_id, "GetVM")
        if not vm.integration_services:
            raise kvp_unavailable(vm)
    timed(ctx, "prepare")
    with ctx.world.lock:
        host = host_of(ctx)
        vm = host.vm_by_id(vm_id)
        if vm is None:
            raise HyperV.vm_not_found(vm_id, "GetVM")
        rec = host.pools.clones.get(vm.id)
        if rec is None:              # not one of ours: its guest agent gets the items all the same
            rec = host.pools.clones[vm.id] = CloneRecord(
                vm_id=vm.id, name=vm.name, method="", folder=vm.path, request_id="", base_disks=[],
                base_bytes=0, base_sizes=[], created_at=time.time(), image_name=vm.name.upper()[:15])
        if rec.preparation != prep or rec.queued_at is None:    # the same items again: nothing new
            rec.preparation, rec.queued_at = prep, time.time()
            rec.prepared_at, rec.prep_error = None, ""
            rec.prep_seconds = preparation_seconds(method) * scale(ctx)
            rec.fails_with = domain_problem(host, prep.domain, prep.has_password)
    save(ctx)
    return {"vm_id": vm_id, "queued": True}


# ------------------------------------------------------------------------------------ 4

def guest_document(host: SimHost, vm_id: str, now: float) -> tuple[dict | None, bool]:
    vm = host.vm_by_id(vm_id)
    if vm is None:
        return None, False
    rec = host.pools.clones.get(vm.id)
    if rec is None:                  # a VM the console did not make: what Hyper-V alone can tell
        heartbeat = "OK" if vm.guest_agent else ("No Contact" if vm.state == "Running" else "")
        return {"vm_id": vm.id, "state": vm.state, "heartbeat": heartbeat, "computer_name": "",
                "domain": "", "ready": False, "logged_on_user": "", "error": ""}, False
    view, changed = guest_of(rec, vm, now)
    return {"vm_id": vm.id, "state": vm.state, "heartbeat": view.heartbeat,
            "computer_name": view.computer_name, "domain": view.domain, "ready": view.ready,
            "logged_on_user": rec.logged_on_user if view.ready else "", "error": view.error}, changed


def get_pool_clone_guests(ctx, params: dict) -> object:
    raw = params.get("vm_ids")
    ids = [valid_guid(x) for x in (raw if isinstance(raw, list) else [raw] if raw else [])]
    timed(ctx, "guests")
    out, changed = [], False
    with ctx.world.lock:
        host = host_of(ctx)
        now = time.time()
        for vm_id in dict.fromkeys(i for i in ids if i):      # unknown ids are simply absent
            doc, c = guest_document(host, vm_id, now)
            changed = changed or c
            if doc is not None:
                out.append(doc)
    if changed:
        save(ctx)
    return out


# ------------------------------------------------------------------------------------ 9

def invoke_pool_clone_logoff(ctx, params: dict) -> object:
    vm_id = valid_guid(params.get("vm_id"))
    if vm_id is None:
        raise HyperV.bad_guid_cast(_text(params, "vm_id"))
    with ctx.world.lock:
        if host_of(ctx).vm_by_id(vm_id) is None:
            raise HyperV.vm_not_found(vm_id, "GetVM")
    timed(ctx, "logoff")
    with ctx.world.lock:
        host = host_of(ctx)
        rec = host.pools.clones.get(vm_id)
        logged_off = rec is not None and bool(rec.logged_on_user)
        if logged_off:
            rec.logged_on_user = ""
    if logged_off:
        save(ctx)
    return {"logged_off": logged_off}


SCRIPTS = {
    "Set-PoolClonePreparation": set_pool_clone_preparation,
    "Get-PoolCloneGuests": get_pool_clone_guests,
    "Invoke-PoolCloneLogoff": invoke_pool_clone_logoff,
}


# ------------------------------------------------------------------------------------ simulated users

def _account(rec: CloneRecord, number: int, prefix: str) -> str:
    prep = rec.preparation
    where = prep.domain.split(".")[0].upper() if prep is not None and prep.domain else \
        (prep.computer_name if prep is not None else rec.name).upper()
    return f"{where}\\{prefix}{number:03d}"


def take_clones(world, host_name: str | None, count: int, user_prefix: str = "user") -> list[str]:
    """Log users on to ``count`` running, ready, unused pool clones (of one host, or of any, in host
    and name order): their guests report ``logged_on_user`` ("CORP\\user042"). Returns the VM names
    taken (fewer when fewer are free)."""
    taken: list[str] = []
    changed: set[str] = set()
    with world.lock:
        now = time.time()
        hosts = [world.host(host_name)] if host_name else list(world.hosts.values())
        used = {r.logged_on_user.lower() for h in world.hosts.values() for r in h.pools.clones.values()
                if r.logged_on_user}
        n = 0
        for host in hosts:
            free = []
            for rec in host.pools.clones.values():
                vm = host.vm_by_id(rec.vm_id)
                if vm is None or not rec.method:
                    continue
                view, c = guest_of(rec, vm, now)
                if c:
                    changed.add(host.name)
                if view.ready and not rec.logged_on_user:
                    free.append((vm.name.lower(), rec))
            for _, rec in sorted(free, key=lambda x: x[0]):
                if len(taken) >= count:
                    break
                n += 1
                while _account(rec, n, user_prefix).lower() in used:
                    n += 1
                rec.logged_on_user = _account(rec, n, user_prefix)
                used.add(rec.logged_on_user.lower())
                taken.append(rec.name)
                changed.add(host.name)
    for name in changed:
        world.save_host(name)
    return taken


def release_clones(world, names: list[str]) -> list[str]:
    """Log the users of these clones (VM names, any case) off; returns the names that had one."""
    wanted = {n.lower() for n in names}
    released, changed = [], set()
    with world.lock:
        for host in world.hosts.values():
            for rec in host.pools.clones.values():
                vm = host.vm_by_id(rec.vm_id)
                if vm is not None and vm.name.lower() in wanted and rec.logged_on_user:
                    rec.logged_on_user = ""
                    released.append(vm.name)
                    changed.add(host.name)
    for name in changed:
        world.save_host(name)
    return released


def logged_on(world, host_name: str | None = None) -> dict[str, str]:
    """{VM name: user} of the pool clones with a user logged on now."""
    out = {}
    with world.lock:
        now = time.time()
        hosts = [world.host(host_name)] if host_name else list(world.hosts.values())
        for host in hosts:
            for rec in host.pools.clones.values():
                vm = host.vm_by_id(rec.vm_id)
                if vm is not None and rec.logged_on_user and \
                        rec.guest_at(now, vm.state, vm.started_at).ready and vm.state == "Running":
                    out[vm.name] = rec.logged_on_user
    return out
