"""vdictl templates: create, list, show and delete templates, their distribution targets, maintenance
and versions, on the same services as the console window (``services.templates``)."""
from __future__ import annotations

import asyncio
import sys
from argparse import Namespace

from console.domain.errors import ConsoleError, NotFoundError, PrerequisiteError, ValidationError
from console.domain.prerequisites import CheckStatus, PrerequisiteResult, blocking
from console.domain.template_rules import check_account, check_distinguished_name, check_domain_name
from console.domain.templates import MAX_CONCURRENT_DISTRIBUTION, ImagePreparation, Preparation
from console.domain.templates import Template, TemplatePlan
from console.services.container import Services

from . import vm_commands
from .commands import UsageError, ask_missing_passwords, confirmed, find_task, read_join_password, refresh_for, run_task
from .output import print_error, print_json, print_table
from .template_output import print_checks, provider_name, target_rows, template_dict, version_rows


def _find(services: Services, ref: str) -> Template:
    return services.templates.find(ref)


def _failed_targets(services: Services, template_id: int, outcome: dict) -> list[str]:
    """Say which targets failed (the template itself is fine); their names."""
    names = list(outcome.get("failed_targets") or [])
    if not names:
        return []
    template = services.templates.get(template_id)
    by_name = {provider_name(services, t.provider_id): t for t in template.targets}
    for name in names:
        target = by_name.get(name)
        why = target.last_error if target is not None and target.last_error else "see the task's log"
        print(f"Warning: distribution to {name} failed: {why}", file=sys.stderr)
    print(f"Hint: Retry with 'vdictl templates targets retry \"{template.name}\" <provider>' once the "
          "host is fixed.", file=sys.stderr)
    return names


# -- create ---------------------------------------------------------------------------------------
def _preparation(args: Namespace) -> Preparation:
    """Checked before anything is asked or started (the services check them again)."""
    domain = check_domain_name(args.domain or "")
    ou = check_distinguished_name(args.ou or "", domain=domain)
    account = check_account(args.join_account or "")
    if (ou or account) and not domain:
        raise ValidationError("An organizational unit or a join account needs a domain to join.",
                              "Add --domain, e.g. --domain corp.example.com.", field="domain")
    return Preparation(method=ImagePreparation(args.preparation), domain=domain,
                       organizational_unit=ou, join_account=account,
                       local_administrator=args.local_admin, owner=args.owner or "",
                       organization=args.organization or "")


async def _check_targets(services: Services, args: Namespace, provider_id: int, vm_id: str,
                         target_ids: list[int]) -> dict[int, list[PrerequisiteResult]]:
    async def one(pid: int) -> list[PrerequisiteResult]:
        try:
            return await services.templates.check_target(provider_id, vm_id, pid)
        except ConsoleError as exc:     # say which target: the host's own sentence may not
            raise type(exc)(f"Checking {provider_name(services, pid)} as a distribution target "
                            f"failed: {exc.message}", exc.hint, exc.details) from exc

    return dict(zip(target_ids, await asyncio.gather(*(one(pid) for pid in target_ids))))


async def templates_create(services: Services, args: Namespace) -> int:
    if (args.target or args.concurrency is not None) and not args.distribute:
        raise UsageError("--target and --concurrency need --distribute.",
                         "Distribution is chosen at creation and cannot be turned on later.")
    if args.join_password_stdin and not args.join_account:
        raise UsageError("--join-password-stdin needs --join-account.")
    concurrency = args.concurrency if args.concurrency is not None else 2
    if not 1 <= concurrency <= MAX_CONCURRENT_DISTRIBUTION:
        raise UsageError(f"--concurrency must be from 1 to {MAX_CONCURRENT_DISTRIBUTION}.")
    name = services.templates.validate_name(args.name)
    preparation = _preparation(args)
    provider = services.providers.find(args.provider)
    targets = list(dict.fromkeys(services.providers.find(t).id for t in args.target or []))
    errors = await refresh_for(services, args, args.provider)
    try:
        provider, vm = services.providers.find_vm(args.vm, provider.id)
    except (NotFoundError, ValidationError):
        for e in errors:
            print_error(e)
        raise
    if targets:
        ask_missing_passwords(services, [services.providers.get(pid) for pid in targets])
    check = await services.templates.source_check(provider.id, vm.id)
    if check.running and not args.shutdown:
        raise ValidationError(check.problems[0] if check.problems else
                              f"VM '{vm.name}' is {vm.state.value.lower()}. Allow the console to shut "
                              "it down, or shut it down yourself.",
                              "Add --shutdown to let the console shut it down.",
                              field="shutdown_consent")
    if args.distribute and not check.distribution_possible:
        raise ValidationError(check.why_not_distribution, "Run the command again without --distribute.",
                              field="distribution_enabled")
    for problem in check.problems[1 if check.running else 0:]:
        print(f"Warning: {problem}", file=sys.stderr)
    checks = await _check_targets(services, args, provider.id, vm.id, targets)
    failed = {pid: rows for pid, rows in checks.items() if blocking(rows)}
    if failed:
        for pid, rows in failed.items():
            print_checks(provider_name(services, pid), rows, sys.stderr)
        names = ", ".join(provider_name(services, pid) for pid in failed)
        raise PrerequisiteError(f"{names} {'does' if len(failed) == 1 else 'do'} not meet the "
                                "prerequisites for template distribution; nothing was created.",
                                "Fix the failed rows, or leave those targets out, and run the "
                                "command again.")
    password = read_join_password(args, preparation.join_account) if preparation.join_account else ""
    plan = TemplatePlan(provider_id=provider.id, vm_id=vm.id, name=name,
                        description=args.description or "", shutdown_consent=args.shutdown,
                        preparation=preparation, join_password=password,
                        distribution_enabled=args.distribute, target_provider_ids=targets,
                        concurrent_distribution=concurrency)
    task = services.templates.create(plan)
    outcome = await run_task(services, args, task)
    template = services.templates.find(name)
    failed_names = _failed_targets(services, template.id, outcome)
    if args.json:
        print_json({"task": task.id, "template": template_dict(services, template),
                    "failed_targets": failed_names})
    else:
        version = template.latest_version.number if template.latest_version else 1
        print(f"Created template '{template.name}' (id {template.id}) from VM '{vm.name}' on "
              f"{provider.name}, version {version}.")
        ready = [provider_name(services, t.provider_id) for t in template.targets
                 if t.version == version]
        if ready:
            print(f"  distributed to: {', '.join(ready)}")
    return 1 if failed_names else 0


# -- list, show, delete ---------------------------------------------------------------------------
async def templates_list(services: Services, args: Namespace) -> int:
    templates = services.templates.list()
    if args.json:
        print_json([template_dict(services, t) for t in templates])
        return 0
    rows = []
    for t in templates:
        latest = t.latest_version
        ready = sum(1 for d in t.targets if latest and d.version == latest.number)
        rows.append([t.id, t.name, t.state.value, provider_name(services, t.provider_id),
                     t.source_vm_name or t.source_vm_id, f"v{latest.number}" if latest else "-",
                     f"{ready}/{len(t.targets)}" if t.distribution_enabled else "-", t.description])
    print_table(["ID", "NAME", "STATE", "PROVIDER", "SOURCE VM", "LATEST", "TARGETS READY",
                 "DESCRIPTION"], rows)
    return 0


async def templates_show(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    if args.json:
        print_json(template_dict(services, t))
        return 0
    p = t.preparation
    print(f"Template {t.id}: {t.name}")
    print(f"  state: {t.state.value}" + (f" (from version {t.maintenance_from})"
                                          if t.maintenance_from is not None else ""))
    print(f"  source: {provider_name(services, t.provider_id)} / {t.source_vm_name or t.source_vm_id}"
          f"  (VM id {t.source_vm_id})")
    if t.description:
        print(f"  description: {t.description}")
    print(f"  created: {t.created}")
    print(f"  preparation: {p.method.value}" + (f", domain {p.domain}" if p.domain else ", no domain"))
    for label, value in (("organizational unit", p.organizational_unit),
                         ("join account", p.join_account), ("local administrator", p.local_administrator),
                         ("owner", p.owner), ("organization", p.organization)):
        if value:
            print(f"  {label}: {value}")
    if t.distribution_enabled:
        print(f"  distribution: enabled, {t.concurrent_distribution} at a time")
    else:
        print("  distribution: not enabled")
    print()
    print_table(["VERSION", "CREATED", "TAG", "SIZE GB", "POOLS", "NOTES"], version_rows(services, t))
    if t.distribution_enabled:
        print()
        print_table(["PROVIDER", "STATE", "PROGRESS", "VERSION", "UPDATED", "LAST ERROR"],
                    target_rows(services, t))
    return 0


async def templates_delete(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    copies = sum(1 for d in t.targets if d.vm_id or d.folder)
    question = (f"Delete template '{t.name}', its {len(t.versions)} version(s) and "
                f"{copies} local cop{'y' if copies == 1 else 'ies'} on distribution targets? "
                "The source VM stays.")
    if not confirmed(args, question):
        print("Nothing was deleted.", file=sys.stderr)
        return 1
    task = services.templates.delete(t.id)
    await run_task(services, args, task)
    if args.json:
        print_json({"task": task.id, "removed": t.id, "name": t.name})
    else:
        print(f"Deleted template '{t.name}'. The source VM '{t.source_vm_name}' stays.")
    return 0


# -- distribution and targets ---------------------------------------------------------------------
async def templates_distribution(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    running = services.templates.distribution_running(t.id)
    if args.json:
        print_json({"template": t.name, "distribution_enabled": t.distribution_enabled,
                    "running_task": running.id if running else None,
                    "targets": template_dict(services, t)["targets"]})
        return 0
    if not t.distribution_enabled:
        print(f"Template '{t.name}' was created without distribution: it has no targets.")
        return 0
    latest = t.latest_version
    print(f"Template '{t.name}', latest version {latest.number if latest else '-'}"
          + (f"; distributing now (task {running.id})" if running else ""))
    print_table(["PROVIDER", "STATE", "PROGRESS", "VERSION", "UPDATED", "LAST ERROR"],
                target_rows(services, t))
    return 0


async def templates_targets_add(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    target = services.providers.find(args.provider)
    ask_missing_passwords(services, [services.providers.get(t.provider_id), target])
    rows = await services.templates.check_target(t.provider_id, t.source_vm_id, target.id)
    if blocking(rows):
        if args.json:
            print_json({"template": t.name, "provider": target.name, "checks": rows})
        else:
            print_checks(target.name, rows, sys.stdout)
        raise PrerequisiteError(f"{target.name} does not meet the prerequisites for template "
                                f"'{t.name}'; it was not added.",
                                "Fix the failed rows, then run the command again.")
    warnings = [r for r in rows if r.status is CheckStatus.WARNING]
    if warnings and not args.json:
        print_checks(target.name, warnings, sys.stderr)
    task = services.templates.add_target(t.id, target.id)
    await run_task(services, args, task)
    after = services.templates.get(t.id).target(target.id)
    if args.json:
        print_json({"template": t.name, "provider": target.name, "task": task.id, "checks": rows,
                    "target": after})
    else:
        held = f"version {after.version}" if after and after.version else "no version yet"
        print(f"Added {target.name} to template '{t.name}' as a distribution target ({held}).")
    return 0


async def templates_targets_remove(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    target = services.providers.find(args.provider)
    if t.target(target.id) is None:
        raise NotFoundError(f"{target.name} is not a distribution target of template '{t.name}'.",
                            f"See them with 'vdictl templates distribution \"{t.name}\"'.")
    task = services.templates.remove_target(t.id, target.id)
    await run_task(services, args, task)
    if args.json:
        print_json({"template": t.name, "provider": target.name, "task": task.id, "removed": True})
    else:
        print(f"Removed {target.name} from template '{t.name}' with its local copy.")
    return 0


async def templates_targets_retry(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    target = services.providers.find(args.provider)
    if t.target(target.id) is None:
        raise NotFoundError(f"{target.name} is not a distribution target of template '{t.name}'.",
                            f"Add it with 'vdictl templates targets add \"{t.name}\" {target.name}'.")
    ask_missing_passwords(services, [services.providers.get(t.provider_id), target])
    task = services.templates.retry_target(t.id, target.id)
    outcome = await run_task(services, args, task)
    failed = _failed_targets(services, t.id, outcome)
    after = services.templates.get(t.id).target(target.id)
    if args.json:
        print_json({"template": t.name, "provider": target.name, "task": task.id, "target": after})
    elif not failed:
        print(f"{target.name} holds version {after.version} of template '{t.name}'.")
    return 1 if failed else 0


# -- maintenance, versions, tags ------------------------------------------------------------------
async def templates_maintenance(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    if args.mode == "on":
        if args.new_version or args.discard or args.notes or args.turn_off:
            raise UsageError("--new-version, --discard, --notes and --turn-off are for 'off'.")
        task = services.templates.enter_maintenance(t.id, args.version)
        await run_task(services, args, task)
        after = services.templates.get(t.id)
        if args.json:
            print_json({"template": t.name, "task": task.id, "state": after.state.value,
                        "from_version": after.maintenance_from})
        else:
            print(f"Template '{t.name}' is in maintenance from version {after.maintenance_from}: VM "
                  f"'{t.source_vm_name}' is running. Make your changes, then leave with "
                  f"'vdictl templates maintenance \"{t.name}\" off --new-version' (or --discard).")
        return 0
    if args.version is not None:
        raise UsageError("--version is for 'on' (the version maintenance starts from).")
    if args.new_version == args.discard:
        raise UsageError("Leaving maintenance needs exactly one of --new-version and --discard.")
    if args.notes and not args.new_version:
        raise UsageError("--notes describe a new version: use them with --new-version.")
    task = services.templates.leave_maintenance(t.id, new_version=args.new_version,
                                                notes=args.notes or "", force_off=args.turn_off,
                                                shutdown_timeout=args.shutdown_timeout)
    outcome = await run_task(services, args, task)
    after = services.templates.get(t.id)
    pools = list(outcome.get("pools") or [])
    failed = _failed_targets(services, t.id, outcome) if args.new_version else []
    latest = after.latest_version.number if after.latest_version else None
    if args.json:
        print_json({"template": t.name, "task": task.id, "state": after.state.value,
                    "version": latest, "pools": pools, "failed_targets": failed})
    else:
        if args.new_version:
            print(f"Template '{t.name}' left maintenance with a new version {latest}.")
        else:
            print(f"Template '{t.name}' left maintenance; the changes were discarded.")
        if pools and args.new_version:
            print(f"  pools using it: {', '.join(pools)} — update their clones to version {latest} "
                  "from each pool, now or later.")
    return 1 if failed else 0


async def templates_versions(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    if args.json:
        print_json(template_dict(services, t)["versions"])
        return 0
    print_table(["VERSION", "CREATED", "TAG", "SIZE GB", "POOLS", "NOTES"], version_rows(services, t))
    return 0


async def templates_tag(services: Services, args: Namespace) -> int:
    t = _find(services, args.template)
    version = services.templates.set_tag(t.id, args.version, args.tag.strip())
    if args.json:
        print_json(version)
    elif version.tag:
        print(f"Version {version.number} of template '{t.name}' is tagged '{version.tag}'.")
    else:
        print(f"Version {version.number} of template '{t.name}' has no tag now.")
    return 0



# -- tasks retry ----------------------------------------------------------------------------------
async def tasks_retry(services: Services, args: Namespace) -> int:
    """``vdictl tasks retry``: a template task goes to the template services, the rest as before."""
    task = find_task(services, args.id)
    if not task.kind.startswith("template-"):
        return await vm_commands.tasks_retry(services, args)
    ask_missing_passwords(services, services.providers.list())
    retry = services.templates.retry(task.id)
    outcome = await run_task(services, args, retry)
    template_id = (outcome.get("params") or {}).get("template_id")
    failed = _failed_targets(services, template_id, outcome) if template_id else []
    if args.json:
        print_json({"task": retry.id, "retry_of": task.id, "failed_targets": failed})
    else:
        print(f"Task {retry.id} (retry of task {task.id}, {task.name}) succeeded"
              + (" with warnings." if failed else "."))
    return 1 if failed else 0
