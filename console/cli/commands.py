"""The vdictl commands, each an async function of (services, args) returning an exit code."""
from __future__ import annotations

import getpass
import sys
from argparse import Namespace
from typing import Any

from console.domain.addresses import WINRM_HTTP_PORT, WINRM_HTTPS_PORT
from console.domain.errors import CertificateNotTrustedError, ConsoleError, NotFoundError, ValidationError, \
    WrongEndpointError
from console.domain.inventory import ConnectionSettings, Provider, ProviderKind, WinRMTransport
from console.services.container import Services
from console.services.events import TaskAdded
from console.services.provider_rules import check_fingerprint, is_nutanix
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
            "pinned_fingerprint": s.pinned_fingerprint,
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


def ask_missing_passwords(services: Services, providers: list[Provider]) -> None:
    """Without a keyring a password lives only as long as one command: ask on a terminal."""
    missing = {p.id for p in services.providers.missing_passwords()}
    for p in providers:
        if p.id in missing and sys.stdin.isatty():
            services.providers.set_password(
                p.id, getpass.getpass(f"Password for {p.settings.username} on provider '{p.name}': "),
                persist=False)


async def wait_tasks(services: Services, args: Namespace, tasks: list) -> list[tuple[Any, Any]]:
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


async def run_task(services: Services, args: Namespace, task: Any) -> dict:
    """Wait for one task showing its progress; its result, or raise its error."""
    [(task, outcome)] = await wait_tasks(services, args, [task])
    if isinstance(outcome, ConsoleError):
        raise outcome
    return outcome or {}


def confirmed(args: Namespace, question: str) -> bool:
    """A deletion's yes/no on the terminal (--yes: yes without asking)."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("Nothing was deleted: there is no terminal to confirm the deletion on.",
                         "Add --yes to delete without being asked.")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def read_join_password(args: Namespace, account: str,
                       no_terminal: str = "No join password was given and there is no terminal to ask for one.",
                       ) -> str:
    """Like provider passwords: standard input with --join-password-stdin, else a terminal prompt
    (``no_terminal``: the error when there is neither)."""
    if getattr(args, "join_password_stdin", False):
        line = sys.stdin.readline()
        password = line.rstrip("\n").rstrip("\r") if line.endswith("\n") else line
        if not password:
            raise ValidationError("Standard input gave an empty join password.",
                                  "Pipe the password followed by a newline.", field="join_password")
        return password
    if not sys.stdin.isatty():
        raise UsageError(no_terminal, "Pipe it on standard input with --join-password-stdin.")
    return getpass.getpass(f"Password for {account}: ")


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


def _settings_from_args(args: Namespace) -> ConnectionSettings:
    kind = ProviderKind(args.kind)
    if is_nutanix(kind):
        if args.https or args.auth != "ntlm" or args.allow_insecure_basic:
            raise UsageError("--https, --auth and --allow-insecure-basic are for Hyper-V hosts; Prism is "
                             "always reached over HTTPS with its user name and password.")
        return ConnectionSettings(kind, args.address, args.port or 0, True, username=args.user)
    if args.accept_fingerprint:
        raise UsageError("--accept-fingerprint is for Nutanix providers (Prism certificates).")
    port = args.port if args.port is not None else (WINRM_HTTPS_PORT if args.https else WINRM_HTTP_PORT)
    return ConnectionSettings(kind, args.address, port, args.https, WinRMTransport(args.auth), args.user,
                              args.allow_insecure_basic)


def describe_certificate(exc: CertificateNotTrustedError, out=None) -> None:
    out = out or sys.stderr
    print("The certificate presented:", file=out)
    print(f"  subject:     {exc.subject}", file=out)
    print(f"  valid from:  {exc.not_before}", file=out)
    print(f"  valid until: {exc.not_after}", file=out)
    print(f"  SHA-256:     {exc.fingerprint}", file=out)
    if exc.pinned_fingerprint:
        print(f"  accepted:    {exc.pinned_fingerprint}", file=out)


def _trust_on_terminal(exc: CertificateNotTrustedError) -> bool:
    if not sys.stdin.isatty():
        return False
    print(f"{exc.message}", file=sys.stderr)
    describe_certificate(exc)
    return input("Trust this certificate? [y/N] ").strip().lower() in ("y", "yes")


async def _add_showing_progress(services: Services, args: Namespace, settings: ConnectionSettings,
                                password: str) -> Provider:
    progress = TaskProgress(services.bus, quiet=args.json)
    unsubscribe = services.bus.subscribe(
        lambda e: progress.watch(e.task) if isinstance(e, TaskAdded) else None)
    try:
        return await services.providers.add(args.name, settings, password)
    finally:
        unsubscribe()
        progress.close()


async def providers_add(services: Services, args: Namespace) -> int:
    settings = _settings_from_args(args)
    if args.accept_fingerprint:
        settings.pinned_fingerprint = check_fingerprint(args.accept_fingerprint)
    services.providers.validate_new(args.name, settings)      # refuse bad input before asking
    password = _read_password(args, f"Password for {args.user}: ")
    try:
        try:
            provider = await _add_showing_progress(services, args, settings, password)
        except CertificateNotTrustedError as exc:
            if args.accept_fingerprint:      # given, and not the one presented: refuse
                describe_certificate(exc)
                raise ConsoleError(f"The certificate presented has the fingerprint {exc.fingerprint}, not "
                                   f"the one given with --accept-fingerprint ({settings.pinned_fingerprint}).",
                                   "Compare it with the one Prism shows (Settings > SSL Certificate); "
                                   "nothing was saved.") from None
            if not _trust_on_terminal(exc):
                describe_certificate(exc)
                raise ConsoleError(exc.message, "Compare the fingerprint with the one Prism shows, then run "
                                   f"the command again with --accept-fingerprint {exc.fingerprint}.") from None
            settings.pinned_fingerprint = exc.fingerprint
            provider = await _add_showing_progress(services, args, settings, password)
    except WrongEndpointError as exc:
        other = exc.actual_kind or ("nutanix-pe" if args.kind == "nutanix-pc" else "nutanix-pc")
        raise ConsoleError(exc.message, f"Run the command again with {other} instead of {args.kind}; "
                           "nothing was saved.") from None
    if args.json:
        print_json(_provider_dict(services, provider))
    else:
        print(f"Added provider '{provider.name}' (id {provider.id}).")
    if not services.secrets.persistent:
        print(f"This machine has no keyring: the password is kept in {services.secrets.backend_name} "
              "only while this command runs; vdictl will ask for it again.", file=sys.stderr)
    return 0


async def providers_accept_certificate(services: Services, args: Namespace) -> int:
    provider = services.providers.find(args.provider)
    saved = services.providers.accept_certificate(provider.id, args.fingerprint)
    pin = saved.settings.pinned_fingerprint
    if args.json:
        print_json(_provider_dict(services, saved))
    else:
        print(f"Provider '{saved.name}' now trusts the certificate {pin}.")
    try:                                     # say at once if it is not the one the Prism presents
        presented = await services.providers.fetch_certificate(saved.settings)
    except ConsoleError:
        return 0
    if presented.fingerprint != pin:
        print(f"Warning: {saved.name} presents another certificate now ({presented.fingerprint}).",
              file=sys.stderr)
    return 0


async def providers_check(services: Services, args: Namespace) -> int:
    provider = services.providers.find(args.provider)
    ask_missing_passwords(services, [provider])
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
        if is_nutanix(provider.kind):
            print(f"  {h.computer_name}: {h.os_version}, {h.logical_processors} logical processors, "
                  f"{gigabytes(h.memory_bytes)} GB memory")
            continue
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
async def refresh_for(services: Services, args: Namespace, provider_ref: str | None) -> list[ConsoleError]:
    providers = [services.providers.find(provider_ref)] if provider_ref else services.providers.list()
    if not providers:
        raise NotFoundError("The farm has no providers yet.",
                            "Add one with 'vdictl providers add', or try the lab with --lab.")
    ask_missing_passwords(services, providers)
    tasks = [t for p in providers for t in services.providers.refresh(p.id)]
    outcomes = await wait_tasks(services, args, tasks)
    return [certificate_hint(services, t, o) for t, o in outcomes if isinstance(o, ConsoleError)]


def certificate_hint(services: Services, task: Any, error: ConsoleError) -> ConsoleError:
    """A changed or untrusted Prism certificate: show it, and the command that trusts it."""
    if not isinstance(error, CertificateNotTrustedError) or task.provider_id is None:
        return error
    describe_certificate(error)
    name = services.providers.get(task.provider_id).name
    return ConsoleError(error.message, "If its administrators replaced it, compare the fingerprint with "
                        f"theirs and trust it with: vdictl providers accept-certificate '{name}' "
                        f"{error.fingerprint}")


async def inventory(services: Services, args: Namespace) -> int:
    errors = await refresh_for(services, args, args.provider)
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
            for host in sorted(inv.hosts, key=lambda h: (h.cluster, h.name == "", h.name)) if inv else []:
                for vm in sorted(host.vms, key=lambda v: v.name.casefold()):
                    rows.append([p.name, host.cluster or "-", host.name or "(not running)", vm.name,
                                 vm.state.value, vm.cpu_count, gigabytes(vm.memory_bytes), vm.id])
        print_table(["PROVIDER", "CLUSTER", "HOST", "VM", "STATE", "CPUS", "MEMORY GB", "ID"], rows)
    for e in errors:
        print_error(e)
    return 1 if errors else 0


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


def find_task(services: Services, task_id: int) -> Any:
    """The task with that id, else NotFoundError telling how to list them."""
    task = services.tasks.get(task_id)
    if task is None:
        raise NotFoundError(f"There is no task {task_id}.", "List them with 'vdictl tasks list'.")
    return task


async def tasks_show(services: Services, args: Namespace) -> int:
    task = find_task(services, args.id)
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
    task = find_task(services, args.id)
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
