"""vdictl pools: create, list, show, edit, delete and scale pools, on the same services as the console
window (``services.pools``). Updates, rollback, clean-up and the clone list are in
pool_update_commands.py."""
from __future__ import annotations

import dataclasses
import sys
from argparse import Namespace

from console.domain.errors import ConsoleError, ValidationError
from console.domain.pool_rules import preview
from console.domain.template_rules import check_account, check_distinguished_name, check_domain_name
from console.domain.templates import ImagePreparation, Pool, Preparation, ProvisioningMethod, Template
from console.services.container import Services
from console.services.pool_support import pool_secret_key, template_secret_key

from . import commands
from .commands import UsageError, ask_missing_passwords, confirmed, run_task, wait_tasks
from .output import print_error, print_json, print_table
from .pool_output import (counts_text, failed_clones, pool_dict, pool_state, print_failures,
                          template_name, version_text)
from .template_output import provider_name

_PREP_OPTIONS = ("preparation", "domain", "ou", "join_account", "local_admin", "owner", "organization")


def find_pool(services: Services, ref: str) -> Pool:
    return services.pools.find(ref)


def _providers_of(services: Services, template: Template, target_ids: list[int]) -> list:
    ids = [template.provider_id] + list(target_ids or [t.provider_id for t in template.targets])
    return [services.providers.get(pid) for pid in dict.fromkeys(ids)]


async def _refresh(services: Services, args: Namespace, providers: list) -> None:
    """The names of the VMs on the targets come from their inventories: read them first so that a
    clone name colliding with a VM is refused now (a provider that does not answer is a warning)."""
    ask_missing_passwords(services, providers)
    tasks = [t for p in providers for t in services.providers.refresh(p.id)]
    for _, outcome in await wait_tasks(services, args, tasks):
        if isinstance(outcome, ConsoleError):
            print_error(outcome)


# -- the preparation override -----------------------------------------------------------------------
def _overridden(args: Namespace) -> bool:
    return any(getattr(args, o, None) is not None for o in _PREP_OPTIONS)


def _preparation(args: Namespace, base: Preparation) -> Preparation:
    """``base`` (the template's, or the pool's override) with what the options change; checked before
    anything is asked or started (the services check it again)."""
    prep = dataclasses.replace(base)
    if args.preparation is not None:
        prep.method = ImagePreparation(args.preparation)
    if args.domain is not None:
        prep.domain = check_domain_name(args.domain)
        if not prep.domain:              # a workgroup: no unit, no account (unless given with it)
            prep.organizational_unit = prep.join_account = ""
    if args.ou is not None:
        prep.organizational_unit = args.ou
    if args.join_account is not None:
        prep.join_account = check_account(args.join_account)
    prep.organizational_unit = check_distinguished_name(prep.organizational_unit, domain=prep.domain)
    if (prep.organizational_unit or prep.join_account) and not prep.domain:
        raise ValidationError("An organizational unit or a join account needs a domain to join.",
                              "Add --domain, e.g. --domain corp.example.com.", field="domain")
    for option, attr in (("local_admin", "local_administrator"), ("owner", "owner"),
                         ("organization", "organization")):
        if getattr(args, option) is not None:
            setattr(prep, attr, getattr(args, option).strip())
    return prep


def read_join_password(args: Namespace, account: str, whose: str = "The pool's own join account") -> str:
    return commands.read_join_password(args, account, f"{whose} {account} needs its password, and there is no "
                                       "terminal to ask for it.")


def supply_join_password(services: Services, args: Namespace, template: Template,
                         pool: Pool | None = None) -> None:
    """Clones join the domain with the pool's own account (override) or the template's. Without a
    keyring its password lives only as long as one command: read it (stdin or terminal) into this
    command's memory when it is not known, or when --join-password-stdin gives it."""
    override = pool.preparation_override if pool is not None else None
    if override is not None:
        key, account, whose = pool_secret_key(pool.id), override.join_account, \
            f"Pool '{pool.name}' joins clones with its own account"
    else:
        key, account, whose = template_secret_key(template.id), template.preparation.join_account, \
            f"Template '{template.name}' joins clones with"
    given = getattr(args, "join_password_stdin", False)
    if not account:
        if given:
            raise UsageError("--join-password-stdin: the clones join no domain with an account.")
        return
    if given or services.secrets.get(key) is None:
        services.secrets.set(key, read_join_password(args, account, whose), persist=False)


def _targets(services: Services, refs: list[str] | None) -> list[int]:
    return list(dict.fromkeys(services.providers.find(r).id for r in refs or []))


def _latest(template: Template) -> int:
    if template.latest_version is None:
        raise ValidationError(f"Template '{template.name}' has no version yet.", field="version")
    return template.latest_version.number


# -- create ---------------------------------------------------------------------------------------
async def pools_create(services: Services, args: Namespace) -> int:
    template = services.templates.find(args.template)
    targets = _targets(services, args.target)
    override = _preparation(args, template.preparation) if _overridden(args) else None
    pool = Pool(id=None, name=args.name, template_id=template.id,
                version=args.version if args.version is not None else _latest(template),
                method=ProvisioningMethod(args.method), naming_pattern=args.naming,
                initial_count=1 if args.initial is None else args.initial,
                keep_available=0 if args.buffer is None else args.buffer,
                maximum=10 if args.max is None else args.max, target_provider_ids=targets,
                description=args.description or "", enabled=not args.disabled,
                follow_tag=(args.tag or "").strip(),
                delete_unused_after_minutes=args.delete_unused_after or 0,
                per_host_cap=args.per_host_cap or 0, preparation_override=override)
    await _refresh(services, args, _providers_of(services, template, targets))
    services.pools.validate(pool)                   # refuse bad input before asking anything
    password = ""
    if override is not None and override.join_account:
        password = read_join_password(args, override.join_account)
    elif override is None:
        supply_join_password(services, args, template)
    elif args.join_password_stdin:
        raise UsageError("--join-password-stdin: the pool's clones join no domain with an account.")
    created, task = services.pools.create(pool, password)
    outcome: dict = {}
    error: ConsoleError | None = None
    if task is not None:
        [(task, result)] = await wait_tasks(services, args, [task])
        if isinstance(result, ConsoleError):
            error = result
        else:
            outcome = result or {}
    clones = services.pools.clones(created.id)
    failed = failed_clones(clones)
    if args.json:
        print_json({"task": task.id if task else None, "pool": pool_dict(services, created, clones),
                    "error": str(error) if error else None, "result": outcome})
    else:
        print(f"Created pool '{created.name}' (id {created.id}) of template '{template.name}' "
              f"{version_text(created)}, {created.method.value} clones.")
        if clones:
            print(f"  clones: {counts_text(clones)}")
        print_failures(clones, sys.stderr)
    if error is not None and not args.json:
        print_error(error)
    return 1 if error is not None or failed else 0


# -- list, show -------------------------------------------------------------------------------------
async def pools_list(services: Services, args: Namespace) -> int:
    pools = services.pools.list()
    clones = {p.id: services.pools.clones(p.id) for p in pools}
    if args.json:
        print_json([pool_dict(services, p, clones[p.id]) for p in pools])
        return 0
    rows = []
    for p in pools:
        cs = clones[p.id]
        rows.append([p.id, p.name, pool_state(p, cs), template_name(services, p.template_id),
                     version_text(p), p.method.value, len(cs),
                     sum(1 for c in cs if c.state.value == "ready"),
                     sum(1 for c in cs if c.state.value == "assigned"), p.keep_available, p.maximum])
    print_table(["ID", "NAME", "STATE", "TEMPLATE", "VERSION", "METHOD", "CLONES", "READY", "ASSIGNED",
                 "BUFFER", "MAX"], rows)
    return 0


def _preparation_lines(services: Services, pool: Pool) -> list[str]:
    if pool.preparation_override is None:
        try:
            prep = services.templates.get(pool.template_id).preparation
        except ConsoleError:
            return ["  preparation: the template's"]
        origin = "the template's"
    else:
        prep, origin = pool.preparation_override, "the pool's own"
    lines = [f"  preparation ({origin}): {prep.method.value}"
             + (f", domain {prep.domain}" if prep.domain else ", no domain")]
    for label, value in (("organizational unit", prep.organizational_unit),
                         ("join account", prep.join_account)):
        if value:
            lines.append(f"  {label}: {value}")
    return lines


async def pools_show(services: Services, args: Namespace) -> int:
    pool = find_pool(services, args.pool)
    clones = services.pools.clones(pool.id)
    history = services.pools.history(pool.id)
    if args.json:
        print_json(pool_dict(services, pool, clones, history))
        return 0
    print(f"Pool {pool.id}: {pool.name}")
    print(f"  state: {pool_state(pool, clones)}")
    if pool.description:
        print(f"  description: {pool.description}")
    print(f"  template: {template_name(services, pool.template_id)} {version_text(pool)}")
    print(f"  method: {pool.method.value}")
    try:
        names = ", ".join(preview(pool.naming_pattern, 3))
    except ValidationError:
        names = "invalid"
    print(f"  naming: {pool.naming_pattern} ({names}, ...)")
    after = (f"{pool.delete_unused_after_minutes} min" if pool.delete_unused_after_minutes else "never")
    print(f"  scale: {pool.initial_count} at creation, buffer {pool.keep_available}, maximum "
          f"{pool.maximum}, delete unused after {after}, cap per host "
          f"{pool.per_host_cap or 'none'}")
    print(f"  targets: {', '.join(provider_name(services, p) for p in pool.target_provider_ids) or '-'}")
    for line in _preparation_lines(services, pool):
        print(line)
    print(f"  created: {pool.created}")
    print(f"  clones: {len(clones)} ({counts_text(clones)})")
    if history:
        print()
        print_table(["VERSION", "CHANGED", "KIND", "TASK"],
                    [[f"v{h.version}", h.changed[:19], h.kind, h.task_id or ""] for h in history])
    return 0


# -- edit, delete, scale ---------------------------------------------------------------------------
def _edited(services: Services, args: Namespace, pool: Pool) -> Pool:
    p = dataclasses.replace(pool, target_provider_ids=list(pool.target_provider_ids))
    if args.name is not None:
        p.name = args.name
    if args.description is not None:
        p.description = args.description
    if args.enable or args.disable:
        p.enabled = bool(args.enable)
    if args.tag is not None:
        p.follow_tag = args.tag.strip()
    if args.fixed:
        p.follow_tag = ""
    if args.method is not None:
        p.method = ProvisioningMethod(args.method)
    if args.naming is not None:
        p.naming_pattern = args.naming
    if args.target:
        p.target_provider_ids = _targets(services, args.target)
    for option, attr in (("initial", "initial_count"), ("buffer", "keep_available"), ("max", "maximum"),
                         ("delete_unused_after", "delete_unused_after_minutes"),
                         ("per_host_cap", "per_host_cap")):
        if getattr(args, option) is not None:
            setattr(p, attr, getattr(args, option))
    if args.inherit_preparation:
        if _overridden(args):
            raise UsageError("--inherit-preparation drops the override: it cannot go with --preparation, "
                             "--domain, --ou, --join-account, --local-admin, --owner or --organization.")
        p.preparation_override = None
    elif _overridden(args):
        template = services.templates.get(pool.template_id)
        p.preparation_override = _preparation(args, pool.preparation_override or template.preparation)
    return p


async def pools_edit(services: Services, args: Namespace) -> int:
    pool = find_pool(services, args.pool)
    if args.join_password_stdin and not (args.join_account or (pool.preparation_override and
                                                               pool.preparation_override.join_account)):
        raise UsageError("--join-password-stdin needs the pool's own join account (--join-account).")
    edited = _edited(services, args, pool)
    if edited == pool and not args.join_password_stdin:
        raise UsageError("Nothing to change.", "Give at least one option; see 'vdictl pools edit --help'.")
    template = services.templates.get(pool.template_id)
    if edited.naming_pattern != pool.naming_pattern or edited.target_provider_ids != pool.target_provider_ids:
        await _refresh(services, args, _providers_of(services, template, edited.target_provider_ids))
    services.pools.validate(edited, exclude_id=pool.id)
    override = edited.preparation_override
    account_changed = override is not None and override.join_account and (
        pool.preparation_override is None
        or override.join_account != pool.preparation_override.join_account)
    password = ""
    if args.join_password_stdin or account_changed:
        password = read_join_password(args, override.join_account)
    saved = services.pools.edit(edited, join_password=password or None)
    if args.json:
        print_json(pool_dict(services, saved, services.pools.clones(saved.id)))
    else:
        print(f"Saved pool '{saved.name}' (id {saved.id}).")
        if (saved.maximum, saved.keep_available) != (pool.maximum, pool.keep_available):
            print("  The pool's keeper makes or deletes clones to match while the console (or a "
                  "vdictl command) runs.")
    return 0


async def pools_delete(services: Services, args: Namespace) -> int:
    pool = find_pool(services, args.pool)
    count = len(services.pools.clones(pool.id))
    question = (f"Delete pool '{pool.name}' and its {count} clone{'s' if count != 1 else ''} "
                "(every VM and its disks)?")
    if not confirmed(args, question):
        print("Nothing was deleted.", file=sys.stderr)
        return 1
    task = services.pools.delete(pool.id)
    await run_task(services, args, task)
    if args.json:
        print_json({"task": task.id, "removed": pool.id, "name": pool.name, "clones": count})
    else:
        print(f"Deleted pool '{pool.name}' and its {count} clone{'s' if count != 1 else ''}.")
    return 0


async def pools_scale(services: Services, args: Namespace) -> int:
    if args.max is None and args.buffer is None:
        raise UsageError("Give --max, --buffer or both.", "For example: vdictl pools scale Sales "
                         "--max 50 --buffer 5")
    pool = find_pool(services, args.pool)
    saved = services.pools.scale(pool.id, maximum=args.max, keep_available=args.buffer)
    if args.json:
        print_json(pool_dict(services, saved, services.pools.clones(saved.id)))
    else:
        print(f"Pool '{saved.name}': maximum {saved.maximum}, buffer {saved.keep_available}.")
        print("  The pool's keeper makes or deletes clones to match while the console (or a vdictl "
              "command) runs.")
    return 0
