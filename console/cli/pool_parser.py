"""The ``vdictl pools ...`` and ``vdictl clones ...`` command lines (registered by main.build_parser)."""
from __future__ import annotations

import argparse

from . import pool_commands as pc
from . import pool_update_commands as pu

CREATE_DESCRIPTION = (
    "Create a pool of clones of a template version (or of the version a tag is on, with --tag) and "
    "make --initial clones at once; the command waits until they are ready. Without --target the "
    "clones go to every distribution target holding a ready copy of the version (or the template's "
    "own host). The preparation (domain join) is the template's unless --preparation, --domain, "
    "--ou or --join-account override it; the override's join password is read from standard input "
    "with --join-password-stdin, or asked for on the terminal; never an argument. It is kept in the "
    "keyring, never in the farm.")
UPDATE_DESCRIPTION = (
    "Recreate the pool's clones from another version (--version) or from the version a tag is on "
    "(--tag), --batch clones at a time. A clone with a user logged on is logged off at once with "
    "--logoff force (the default), or waited for with --logoff wait until the user logs off or "
    "--grace minutes pass. With --stop-on-error the first failed clone stops the update and the "
    "remaining clones keep their version. --at starts the update later (the command keeps running "
    "until then: Ctrl+C cancels it). The pool's version changes when the update completes.")
ROLLBACK_DESCRIPTION = (
    "Recreate the pool's clones from the version before the current one in the pool's history, with "
    "the same options as update.")
JOIN_HELP = ("read from stdin the password of the account clones join the domain with (the pool's own "
             "with --join-account, else the template's); without a keyring it is asked for when needed")
DELETE_DESCRIPTION = (
    "Delete the pool: every clone VM and its disks, then the pool. Asks first, with the number of "
    "clones, unless --yes.")


def _count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")
    return int(text)


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_scale(p: argparse.ArgumentParser, create: bool) -> None:
    p.add_argument("--initial", type=_count, metavar="N",
                   help="clones created at once" + (" (default 1)" if create else ""))
    p.add_argument("--buffer", type=_count, metavar="N",
                   help="unassigned ready clones kept available" + (" (default 0)" if create else ""))
    p.add_argument("--max", type=_positive, metavar="N",
                   help="most clones the pool may have, 1 to 5000" + (" (default 10)" if create else ""))
    p.add_argument("--delete-unused-after", type=_count, metavar="MINUTES",
                   help="delete unassigned clones beyond the buffer after this long unused (0 = never)")
    p.add_argument("--per-host-cap", type=_count, metavar="N",
                   help="at most N clones on each target host (0 = no cap)")


def _add_preparation(p: argparse.ArgumentParser, create: bool) -> None:
    p.add_argument("--preparation", choices=["sysprep", "rename-join"],
                   help="override how clones are made unique")
    p.add_argument("--domain", help="override the domain the clones join, e.g. corp.example.com")
    p.add_argument("--ou", help="override the organizational unit, e.g. OU=VDI,DC=corp,DC=example,DC=com")
    p.add_argument("--join-account", help="override the account that joins clones: CORP\\svc-join or "
                   "svc-join@corp.example.com")
    p.add_argument("--join-password-stdin", action="store_true", help=JOIN_HELP)
    p.add_argument("--local-admin", help="override the local administrator name")
    p.add_argument("--owner", help="override the registered owner")
    p.add_argument("--organization", help="override the registered organization")
    if not create:
        p.add_argument("--inherit-preparation", action="store_true",
                       help="drop the pool's override: clones get the template's preparation again")


def _add_update_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch", type=_positive, default=1, metavar="N",
                   help="clones recreated at a time (default 1)")
    p.add_argument("--stop-on-error", action="store_true",
                   help="stop at the first failed clone (the others keep their version)")
    p.add_argument("--at", metavar="TIME",
                   help="start later: HH:MM (today, or tomorrow if past) or YYYY-MM-DDTHH:MM, local time "
                   "unless an offset is given")
    p.add_argument("--logoff", choices=["force", "wait"], default="force",
                   help="force: log users off at once (default); wait: until they log off or the grace "
                   "time ends")
    p.add_argument("--grace", type=_count, default=None, metavar="MINUTES",
                   help="with --logoff wait: the longest wait for a user, then logoff (default 30)")
    p.add_argument("--join-password-stdin", action="store_true", help=JOIN_HELP)


def register(sub: argparse._SubParsersAction) -> None:
    pools = sub.add_parser("pools", help="pools of clones: create, scale, update, roll back, delete")
    ps = pools.add_subparsers(dest="action", required=True, metavar="ACTION")

    create = ps.add_parser("create", help="create a pool and make its first clones",
                           description=CREATE_DESCRIPTION)
    create.add_argument("name", help="pool name, unique in the farm")
    create.add_argument("--template", required=True, help="template (name or id)")
    which = create.add_mutually_exclusive_group()
    which.add_argument("--version", type=_positive, metavar="V",
                       help="template version (default: the latest)")
    which.add_argument("--tag", metavar="TAG", help="follow the version this tag is on (e.g. production)")
    create.add_argument("--method", choices=["full", "linked", "quick"], default="linked",
                        help="full: independent copy; linked: differencing disk on the version "
                        "(default); quick: usable at once, independent in the background (Hyper-V)")
    create.add_argument("--naming", default="VDI-%ID:3%", metavar="PATTERN",
                        help="clone names: %%ID:N%% is N digits from 1, %%ID:N:S%% from S "
                        "(default VDI-%%ID:3%%)")
    create.add_argument("--description", default="")
    create.add_argument("--disabled", action="store_true",
                        help="create it disabled (no clones are made or kept until enabled)")
    create.add_argument("--target", action="append", metavar="PROVIDER",
                        help="a target host taking clones (repeat; default every ready target)")
    _add_scale(create, create=True)
    _add_preparation(create, create=True)
    create.set_defaults(run=pc.pools_create)

    ps.add_parser("list", help="the pools in the farm").set_defaults(run=pc.pools_list)
    show = ps.add_parser("show", help="one pool: template, version, scale, preparation, history, clones")
    show.add_argument("pool", help="name or id")
    show.set_defaults(run=pc.pools_show)

    edit = ps.add_parser("edit", help="change a pool's settings (not its version: see update)",
                         description="Change a pool's settings. Scale changes are picked up by the "
                         "pool's keeper; method, naming and preparation changes apply to new clones.")
    edit.add_argument("pool", help="name or id")
    edit.add_argument("--name", help="rename the pool")
    edit.add_argument("--description")
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--enable", action="store_true", help="make and keep clones again")
    state.add_argument("--disable", action="store_true", help="stop making and deleting clones")
    follow = edit.add_mutually_exclusive_group()
    follow.add_argument("--tag", metavar="TAG", help="follow this tag (updates take its version)")
    follow.add_argument("--fixed", action="store_true", help="stop following a tag: keep the version")
    edit.add_argument("--method", choices=["full", "linked", "quick"])
    edit.add_argument("--naming", metavar="PATTERN", help="clone naming pattern")
    edit.add_argument("--target", action="append", metavar="PROVIDER",
                      help="the target hosts taking clones (repeat; replaces the list)")
    _add_scale(edit, create=False)
    _add_preparation(edit, create=False)
    edit.set_defaults(run=pc.pools_edit)

    delete = ps.add_parser("delete", help="delete a pool, every clone and its disks (asks first)",
                           description=DELETE_DESCRIPTION)
    delete.add_argument("pool", help="name or id")
    delete.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    delete.set_defaults(run=pc.pools_delete)

    scale = ps.add_parser("scale", help="change the maximum and the buffer of available clones")
    scale.add_argument("pool", help="name or id")
    scale.add_argument("--max", type=_positive, metavar="N", help="most clones, 1 to 5000")
    scale.add_argument("--buffer", type=_count, metavar="N", help="unassigned ready clones kept available")
    scale.set_defaults(run=pc.pools_scale)

    update = ps.add_parser("update", help="recreate the clones from another version, batch by batch",
                           description=UPDATE_DESCRIPTION)
    update.add_argument("pool", help="name or id")
    target = update.add_mutually_exclusive_group(required=True)
    target.add_argument("--version", type=_positive, metavar="V", help="the template version")
    target.add_argument("--tag", metavar="TAG", help="the version this tag is on now")
    _add_update_options(update)
    update.set_defaults(run=pu.pools_update)

    rollback = ps.add_parser("rollback", help="recreate the clones from the previous version",
                             description=ROLLBACK_DESCRIPTION)
    rollback.add_argument("pool", help="name or id")
    _add_update_options(rollback)
    rollback.set_defaults(run=pu.pools_rollback)

    cleanup = ps.add_parser("cleanup", help="remove the half-made clones a stopped console left",
                            description="Remove every incomplete clone of the pool (its VM, disks and "
                            "row): clones a killed console or a cancel left half-made.")
    cleanup.add_argument("pool", help="name or id")
    cleanup.set_defaults(run=pu.pools_cleanup)

    clones = sub.add_parser("clones", help="the clones of a pool")
    cs = clones.add_subparsers(dest="action", required=True, metavar="ACTION")
    clist = cs.add_parser("list", help="the clones of a pool: host, state, version, timings, user")
    clist.add_argument("pool", help="name or id")
    clist.set_defaults(run=pu.clones_list)
