"""The ``vdictl templates ...`` command line (registered by main.build_parser)."""
from __future__ import annotations

import argparse

from . import template_commands as tc

CREATE_DESCRIPTION = (
    "Create a template from a VM: shut it down if --shutdown allows it, take the version-1 checkpoint "
    "(snapshot), and with --distribute copy it to each --target (standalone Hyper-V hosts only; each "
    "target's prerequisites are checked first and a failing one refuses the whole command). "
    "The domain join password is read from standard input with --join-password-stdin, or asked for "
    "on the terminal; never an argument. It is kept in the keyring, never in the farm.")


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    templates = sub.add_parser("templates", help="templates: create, distribute, maintain, version")
    ts = templates.add_subparsers(dest="action", required=True, metavar="ACTION")

    create = ts.add_parser("create", help="create a template from a VM", description=CREATE_DESCRIPTION)
    create.add_argument("--provider", required=True, help="provider of the source VM (name or id)")
    create.add_argument("--vm", required=True, help="source VM (name or id)")
    create.add_argument("--name", required=True, help="template name, unique in the farm")
    create.add_argument("--description", default="")
    create.add_argument("--preparation", choices=["sysprep", "rename-join"], default="sysprep",
                        help="how clones are made unique (default sysprep)")
    create.add_argument("--domain", help="domain the clones join, e.g. corp.example.com")
    create.add_argument("--ou", help="organizational unit, e.g. OU=VDI,DC=corp,DC=example,DC=com")
    create.add_argument("--join-account", help="account that joins clones: CORP\\svc-join or "
                        "svc-join@corp.example.com")
    create.add_argument("--join-password-stdin", action="store_true",
                        help="read the join account's password from stdin")
    create.add_argument("--local-admin", default="Administrator", help="local administrator name")
    create.add_argument("--owner", help="registered owner of the clones")
    create.add_argument("--organization", help="registered organization of the clones")
    create.add_argument("--distribute", action="store_true",
                        help="enable multi-provider distribution (cannot be changed later)")
    create.add_argument("--target", action="append", metavar="PROVIDER",
                        help="a distribution target (repeat for several; the source host may be one)")
    create.add_argument("--concurrency", type=_count, metavar="N",
                        help="targets copied to at the same time (default 2)")
    create.add_argument("--shutdown", action="store_true",
                        help="allow the console to shut the source VM down if it is running")
    create.set_defaults(run=tc.templates_create)

    ts.add_parser("list", help="the templates in the farm").set_defaults(run=tc.templates_list)
    show = ts.add_parser("show", help="one template: source, preparation, versions, targets")
    show.add_argument("template", help="name or id")
    show.set_defaults(run=tc.templates_show)
    delete = ts.add_parser("delete", help="delete a template, its versions and its local copies "
                           "(the source VM stays; asks first)")
    delete.add_argument("template", help="name or id")
    delete.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    delete.set_defaults(run=tc.templates_delete)

    dist = ts.add_parser("distribution", help="the distribution targets of a template and their state")
    dist.add_argument("template", help="name or id")
    dist.set_defaults(run=tc.templates_distribution)
    targets = ts.add_parser("targets", help="add, remove or retry a distribution target")
    tsub = targets.add_subparsers(dest="target_action", required=True, metavar="ACTION")
    for verb, run, text in (
            ("add", tc.templates_targets_add, ("check a provider's prerequisites, then copy the latest "
                                               "version to it (prints the prerequisite rows when it fails)")),
            ("remove", tc.templates_targets_remove, "remove a target and its local copy"),
            ("retry", tc.templates_targets_retry, "copy the latest version to a target again")):
        p = tsub.add_parser(verb, help=text)
        p.add_argument("template", help="name or id")
        p.add_argument("provider", help="provider name or id")
        p.set_defaults(run=run)

    maint = ts.add_parser("maintenance", help="enter or leave maintenance",
                          description="'on' reverts the template VM to a version (the latest unless "
                          "--version) and starts it; no new clones meanwhile. 'off' shuts the guest "
                          "down and either saves a new version (distributed to every target) or "
                          "discards the changes. Without --turn-off a guest that does not shut down "
                          "in time keeps the template in maintenance.")
    maint.add_argument("template", help="name or id")
    maint.add_argument("mode", choices=["on", "off"])
    maint.add_argument("--version", type=_count, help="on: the version to start from")
    maint.add_argument("--new-version", action="store_true", help="off: save the changes as a new version")
    maint.add_argument("--discard", action="store_true", help="off: revert to the version maintenance "
                       "started from")
    maint.add_argument("--notes", help="off --new-version: notes of the new version")
    maint.add_argument("--turn-off", action="store_true",
                       help="off: turn the VM off if it does not shut down in time")
    maint.add_argument("--shutdown-timeout", type=_seconds, default=300.0, metavar="SECONDS",
                       help="off: how long to wait for the guest to shut down (default 300)")
    maint.set_defaults(run=tc.templates_maintenance)

    versions = ts.add_parser("versions", help="the versions of a template")
    versions.add_argument("template", help="name or id")
    versions.set_defaults(run=tc.templates_versions)
    tag = ts.add_parser("tag", help="tag a version (production, pre-production or your own; '' clears); "
                        "a tag is on one version at a time")
    tag.add_argument("template", help="name or id")
    tag.add_argument("version", type=_count)
    tag.add_argument("tag")
    tag.set_defaults(run=tc.templates_tag)
