"""The vdictl commands, each an async function of (services, args) returning an exit code."""
from __future__ import annotations

import getpass
import sys
from argparse import Namespace
from typing import Any

from console.domain.addresses import WINRM_HTTP_PORT, WINRM_HTTPS_PORT
from console.domain.errors import ConsoleError, NotFoundError, ValidationError
from console.domain.inventory import ConnectionSettings, PowerAction, Provider, ProviderKind, WinRMTransport
from console.services.container import Services
from console.services.events import TaskAdded
from console.services.providers import secret_key

from .output import TaskProgress, gigabytes, print_error, print_json, print_table


class UsageError(ConsoleError):
    """Bad command line: exit code 2."""

    title = "Usage"


def _provider_dict(services: Services, p: Provider) -> dict[str, Any]:
    s = p.settings
    return {"id": p.id, "name": p.name, "kind": p.kind.value, "address": s.address, "port": s.port,
            "use_https": s.use_https, "transport": s.transport.value, "username": s.username,
            "allow_insecure_basic": s.allow_insecure_basic, "lab": p.lab, "created": p.created,
            "password_known": services.secrets.get(secret_key(p.id)) is not None}


def _read_password(args: Namespace, prompt: str) -> str:
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if password.endswith("\r"):
            password = password[:-1]
        if not password:
            raise ValidationError("Standard input gave an empty password.",
                                  "Pipe the password followed by a newline.", field="password")
        return password
    if not sys.stdin.isatty():
        raise UsageError("No password was given and there is no terminal to ask for one.",
                         "Pipe it on standard input with --password-stdin.")
    return getpass.getpass(prompt)


def _ask_missing_passwords(services: Services, providers: list[Provider]) -> None:
    """Without a keyring a password lives only as long as one command: ask on a terminal."""
    missing = {p.id for p in services.providers.missing_passwords()}
    for p in providers:
        if p.id in missing and sys.stdin.isatty():
            services.providers.set_password(
                p.id, getpass.getpass(f"Password for {p.settings.username} on provider '{p.name}': "),
                persist=False)


async def _wait(services: Services, args: Namespace, tasks: list) -> list[tuple[Any, Any]]:
    """Wait for tasks showing progress; [(task, result or ConsoleError)] in order."""
    progress = TaskProgress(services.bus, quiet=args.json)
    for t in tasks:
        progress.watch(t)
    outcomes = []
    try:
        for t in tasks:
            try:
                outcomes.append((t, await services.tasks.result(t.id)))
            except ConsoleError as exc:
                outcomes.append((t, exc))
            except Exception as exc:   # the engine logged the traceback in the task's journal
                outcomes.append((t, ConsoleError(
                    f"Internal error ({type(exc).__name__}) in task {t.id}.",
                    f"See its log with 'vdictl tasks show {t.id}'.")))
    finally:
        progress.close()
    return outcomes


# -- providers ------------------------------------------------------------------------------------
async def providers_list(services: Services, args: Namespace) -> int:
    providers = services.providers.list()
    if args.json:
        print_json([_provider_dict(services, p) for p in providers])
        return 0
    rows = []
    for p in providers:
        d = _provider_dict(services, p)
        rows.append([p.id, p.name, p.kind.value, p.settings.address, p.settings.username,
                     p.settings.transport.value, "known" if d["password_known"] else "missing",
                     "yes" if p.lab else ""])
    print_table(["ID", "NAME", "KIND", "ADDRESS", "USER", "AUTH", "PASSWORD", "LAB"], rows)
    if not services.secrets.persistent:
        print(f"Passwords are kept in {services.secrets.backend_name}: vdictl asks for them "
              "on each run.", file=sys.stderr)
    return 0


async def providers_add(services: Services, args: Namespace) -> int:
    if args.kind != ProviderKind.HYPERV.value:
        raise ValidationError(f"{ProviderKind(args.kind).label} providers are not supported yet.",
                              "Add a standalone Microsoft Hyper-V host (hyperv).", field="kind")
    port = args.port if args.port is not None else (WINRM_HTTPS_PORT if args.https else WINRM_HTTP_PORT)
    settings = ConnectionSettings(ProviderKind(args.kind), args.address, port, args.https,
                                  WinRMTransport(args.auth), args.user, args.allow_insecure_basic)
    services.providers.validate_new(args.name, settings)      # refuse bad input before asking
    password = _read_password(args, f"Password for {args.user}: ")
    progress = TaskProgress(services.bus, quiet=args.json)
    unsubscribe = services.bus.subscribe(
        lambda e: progress.watch(e.task) if isinstance(e, TaskAdded) else None)
    try:
        provider = await services.providers.add(args.name, settings, password)
    finally:
        unsubscribe()
        progress.close()
    if args.json:
        print_json(_provider_dict(services, provider))
    else:
        print(f"Added provider '{provider.name}' (id {provider.id}).")
    if not services.secrets.persistent:
        print(f"This machine has no keyring: the password is kept in {services.secrets.backend_name} "
              "only while this command runs; vdictl will ask for it again.", file=sys.stderr)
    return 0


async def providers_check(services: Services, args: Namespace) -> int:
    provider = services.providers.find(args.provider)
    _ask_missing_passwords(services, [provider])
    password = services.secrets.get(secret_key(provider.id))
    if password is None:
        raise ValidationError(f"No password is known for provider '{provider.name}'.",
                              "Run the command on a terminal to be asked for it.", field="password")
    progress = TaskProgress(services.bus, quiet=args.json)
    unsubscribe = services.bus.subscribe(
        lambda e: progress.watch(e.task) if isinstance(e, TaskAdded) else None)
    try:
        result = await services.providers.test_connection(provider.name, provider.settings, password)
    finally:
        unsubscribe()
        progress.close()
    if args.json:
        print_json({"provider": provider.name, "endpoint_kind": result.endpoint_kind,
                    "version": result.version, "hosts": result.hosts})
        return 0
    print(f"{provider.name}: {result.version}")
    for h in result.hosts:
        membership = f"domain {h.domain}" if h.part_of_domain else f"workgroup {h.domain}"
        print(f"  {h.computer_name}: {membership}, {h.logical_processors} logical processors, "
              f"{gigabytes(h.memory_bytes)} GB memory, {gigabytes(h.free_bytes)} GB free, "
              f"switches: {', '.join(s.name for s in h.switches) or 'none'}")
    return 0


async def providers_remove(services: Services, args: Namespace) -> int:
    provider = services.providers.find(args.provider)
    await services.providers.remove(provider.id)
    if args.json:
        print_json({"removed": provider.id, "name": provider.name})
    else:
        print(f"Removed provider '{provider.name}'.")
    return 0


# -- inventory and VMs ----------------------------------------------------------------------------
async def _refresh(services: Services, args: Namespace, provider_ref: str | None) -> list[ConsoleError]:
    providers = [services.providers.find(provider_ref)] if provider_ref else services.providers.list()
    if not providers:
        raise NotFoundError("The farm has no providers yet.",
                            "Add one with 'vdictl providers add', or try the lab with --lab.")
    _ask_missing_passwords(services, providers)
    tasks = [t for p in providers for t in services.providers.refresh(p.id)]
    outcomes = await _wait(services, args, tasks)
    return [o for _, o in outcomes if isinstance(o, ConsoleError)]


async def inventory(services: Services, args: Namespace) -> int:
    errors = await _refresh(services, args, args.provider)
    providers = [services.providers.find(args.provider)] if args.provider else services.providers.list()
    if args.json:
        out = []
        for p in providers:
            inv = services.providers.inventory(p.id)
            out.append({"id": p.id, "name": p.name, "hosts": inv.hosts if inv else []})
        print_json({"providers": out, "errors": [str(e) for e in errors]})
    else:
        rows = []
        for p in providers:
            inv = services.providers.inventory(p.id)
            for host in inv.hosts if inv else []:
                for vm in sorted(host.vms, key=lambda v: v.name.casefold()):
                    rows.append([p.name, host.name, vm.name, vm.state.value, vm.cpu_count,
                                 gigabytes(vm.memory_bytes), vm.id])
        print_table(["PROVIDER", "HOST", "VM", "STATE", "CPUS", "MEMORY GB", "ID"], rows)
    for e in errors:
        print_error(e)
    return 1 if errors else 0


async def vms_power(services: Services, args: Namespace) -> int:
    errors = await _refresh(services, args, args.provider)
    try:
        provider, vm = services.providers.find_vm(args.vm)
    except NotFoundError:
        for e in errors:
            print_error(e)
        raise
    task = services.providers.power(provider.id, vm.id, PowerAction(args.action))
    [(task, outcome)] = await _wait(services, args, [task])
    if isinstance(outcome, ConsoleError):
        raise outcome
    if args.json:
        print_json({"provider": provider.name, "task": task.id, **outcome})
    else:
        print(f"VM '{outcome['vm']}' on {outcome['host']} is {outcome['state']}.")
    return 0


# -- tasks ----------------------------------------------------------------------------------------
def _task_row(t) -> list:
    duration = t.duration_seconds()
    return [t.id, t.state.value, f"{int(t.progress * 100)}%", t.name, t.target, t.started[:19],
            f"{duration:.1f}s" if duration is not None else "", t.error]


async def tasks_list(services: Services, args: Namespace) -> int:
    tasks = services.tasks.recent(args.limit)
    if args.json:
        print_json(tasks)
    else:
        print_table(["ID", "STATE", "PROGRESS", "NAME", "TARGET", "STARTED", "DURATION", "ERROR"],
                    [_task_row(t) for t in tasks])
    return 0


async def tasks_show(services: Services, args: Namespace) -> int:
    task = services.tasks.get(args.id)
    if task is None:
        raise NotFoundError(f"There is no task {args.id}.", "List them with 'vdictl tasks list'.")
    lines = services.store.tasks.log_lines(task.id, args.lines)
    if args.json:
        print_json({"task": task, "log": lines})
        return 0
    print(f"Task {task.id}: {task.name}")
    print(f"  target: {task.target}\n  state: {task.state.value}  progress: {int(task.progress * 100)}%")
    print(f"  created: {task.created}  started: {task.started}  finished: {task.finished}")
    if task.error:
        print(f"  error: {task.error}")
    for undo in task.cleanup:
        print(f"  cleanup: {undo.description} ({'done' if undo.done else 'to do'})")
    for line in lines:
        print(f"{line.at}  {line.level.value:<7}  {line.text}")
    return 0


async def tasks_cancel(services: Services, args: Namespace) -> int:
    task = services.tasks.get(args.id)
    if task is None:
        raise NotFoundError(f"There is no task {args.id}.", "List them with 'vdictl tasks list'.")
    if task.state.finished:
        raise ValidationError(f"Task {task.id} has already ended ({task.state.value}).", field="id")
    if services.tasks.cancel(task.id):      # only ever true for a task of this very process
        print(f"Cancelled task {task.id}.")
        return 0
    raise ValidationError(
        f"Task {task.id} is {task.state.value} in another VDI Console process; only that process "
        "can cancel it.",
        "Cancel it in the console window that started it, or press Ctrl+C in the vdictl command "
        "that runs it.", field="id")
