"""vdictl: the console's operations from a shell, on the same services as the GUI (no Qt)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from console.domain.errors import ConsoleError

from . import commands, pool_parser, template_commands, template_parser, vm_commands
from .output import print_error

TASKS_CANCEL_HELP = (
    "Cancel a queued or running task. Tasks run inside the process that started them (the console "
    "window or one vdictl command), so a vdictl command cannot cancel a task another process runs: "
    "it says so and exits with 1. Cancel such a task in the console window, or with Ctrl+C in the "
    "vdictl command that runs it.")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number from 1 to 65535")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vdictl", description="VDI Console from the command line: providers, inventory, "
        "power actions, templates, pools and tasks, on the same farm as the console window.")
    parser.add_argument("--farm", type=Path, help="farm file (default: the console's own; with --lab "
                        "a separate lab farm)")
    parser.add_argument("--lab", action="store_true",
                        help="start the embedded lab (simulated Hyper-V hosts and Nutanix Prism) for this "
                        "command")
    parser.add_argument("--lab-speed", type=_positive_float, default=1.0, metavar="X",
                        help="lab time factor (2 = operations take half as long)")
    parser.add_argument("--lab-state", type=Path, metavar="DIR",
                        help="lab state folder (default: the console's lab-state folder)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    providers = sub.add_parser("providers", help="list, add, check or remove providers")
    psub = providers.add_subparsers(dest="action", required=True, metavar="ACTION")
    psub.add_parser("list", help="the providers in the farm").set_defaults(run=commands.providers_list)
    add = psub.add_parser("add", help="add a provider after testing the connection",
                          description="Add a provider. The password is read from standard input "
                          "with --password-stdin, or asked for on the terminal; never an argument. "
                          "A Prism certificate this computer does not trust is shown (subject, validity, "
                          "SHA-256 fingerprint) and refused unless --accept-fingerprint names it, or "
                          "you accept it on the terminal.")
    add.add_argument("kind", choices=["hyperv", "nutanix-pe", "nutanix-pc"],
                     help="hyperv: standalone Hyper-V host; nutanix-pe: Nutanix AHV through Prism Element; "
                     "nutanix-pc: through Prism Central")
    add.add_argument("name", help="display name, unique in the farm")
    add.add_argument("--address", required=True,
                     help="host name, IP address or full URL (WinRM, or https:// for Prism)")
    add.add_argument("--port", type=_port,
                     help="WinRM port (default 5985, or 5986 with --https); Prism port (default 9440)")
    add.add_argument("--https", action="store_true", help="WinRM over HTTPS")
    add.add_argument("--auth", choices=["ntlm", "kerberos", "basic"], default="ntlm")
    add.add_argument("--user", required=True, help="account, e.g. CORP\\admin")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--allow-insecure-basic", action="store_true",
                     help="allow Basic authentication over plain HTTP to a host that is not loopback "
                     "(the password crosses the network readable)")
    add.add_argument("--accept-fingerprint", metavar="FP",
                     help="trust the Prism certificate with this SHA-256 fingerprint (AA:BB:...)")
    add.set_defaults(run=commands.providers_add)
    accept = psub.add_parser("accept-certificate", help="trust a new Prism certificate for a provider",
                             description="Pin the certificate with this SHA-256 fingerprint for the "
                             "provider (after its certificate was replaced).")
    accept.add_argument("provider", help="name or id")
    accept.add_argument("fingerprint", help="SHA-256 fingerprint, AA:BB:... as the error showed it")
    accept.set_defaults(run=commands.providers_accept_certificate)
    check = psub.add_parser("check", help="test the connection of a saved provider")
    check.add_argument("provider", help="name or id")
    check.set_defaults(run=commands.providers_check)
    remove = psub.add_parser("remove", help="remove a provider and its saved password")
    remove.add_argument("provider", help="name or id")
    remove.set_defaults(run=commands.providers_remove)

    inv = sub.add_parser("inventory", help="refresh and list the VMs of every provider, or of one")
    inv.add_argument("provider", nargs="?", help="name or id")
    inv.set_defaults(run=commands.inventory)

    vms = sub.add_parser("vms", help="act on virtual machines")
    vsub = vms.add_subparsers(dest="action", required=True, metavar="ACTION")
    power = vsub.add_parser("power", help="start, shut down, turn off or restart a VM")
    power.add_argument("vm", help="VM name or id")
    power.add_argument("action", choices=[a.value for a in _power_actions()])
    power.add_argument("--provider", help="look for the VM on this provider only")
    power.set_defaults(run=vm_commands.vms_power)
    snap = vsub.add_parser("snapshot", help="take a snapshot of a VM (Nutanix)")
    snap.add_argument("vm", help="VM name or id")
    snap.add_argument("name", help="name of the snapshot")
    snap.add_argument("--provider", help="look for the VM on this provider only")
    snap.set_defaults(run=vm_commands.vms_snapshot)
    snaps = vsub.add_parser("snapshots", help="list the snapshots of a VM (Nutanix)")
    snaps.add_argument("vm", help="VM name or id")
    snaps.add_argument("--provider", help="look for the VM on this provider only")
    snaps.set_defaults(run=vm_commands.vms_snapshots)
    clone = vsub.add_parser("clone", help="clone a VM in full, or thin from one of its snapshots (Nutanix)")
    clone.add_argument("vm", help="VM name or id")
    clone.add_argument("new_name", help="name of the new VM")
    clone.add_argument("--from-snapshot", metavar="SNAP", help="snapshot name or id: a thin clone from it")
    clone.add_argument("--provider", help="look for the VM on this provider only")
    clone.set_defaults(run=vm_commands.vms_clone)
    delete = vsub.add_parser("delete", help="delete a VM and its disks (asks first)")
    delete.add_argument("vm", help="VM name or id")
    delete.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    delete.add_argument("--provider", help="look for the VM on this provider only")
    delete.set_defaults(run=vm_commands.vms_delete)

    tasks = sub.add_parser("tasks", help="the task journal")
    tsub = tasks.add_subparsers(dest="action", required=True, metavar="ACTION")
    tlist = tsub.add_parser("list", help="recent tasks, newest last")
    tlist.add_argument("--limit", type=int, default=50)
    tlist.set_defaults(run=commands.tasks_list)
    show = tsub.add_parser("show", help="one task and its log")
    show.add_argument("id", type=int)
    show.add_argument("--lines", type=int, default=None, help="only the last N log lines")
    show.set_defaults(run=commands.tasks_show)
    cancel = tsub.add_parser("cancel", help="cancel a task of this process (see its --help)",
                             description=TASKS_CANCEL_HELP)
    cancel.add_argument("id", type=int)
    cancel.set_defaults(run=commands.tasks_cancel)
    retry = tsub.add_parser("retry", help="run a failed, cancelled or interrupted VM or template task again",
                            description="Run a failed, cancelled or interrupted power, snapshot, clone or "
                            "delete task again with the same parameters and request id (a retried clone "
                            "finds the VM its first try made).")
    retry.add_argument("id", type=int)
    retry.set_defaults(run=template_commands.tasks_retry)

    template_parser.register(sub)
    pool_parser.register(sub)

    lab = sub.add_parser("lab", help="the embedded lab")
    lsub = lab.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = lsub.add_parser("serve", help="serve the simulated hosts until Ctrl+C")
    serve.add_argument("--state", type=Path, help="lab state folder")
    serve.add_argument("--speed", type=_positive_float, default=None, metavar="X")
    serve.set_defaults(run=None)
    return parser


def _power_actions():
    from console.domain.inventory import PowerAction
    return list(PowerAction)


async def _run(args: argparse.Namespace) -> int:
    from console.services.container import build_services
    # no pool keeper: provisioning it started would be cancelled when this command ends
    services = build_services(farm_path=args.farm, lab=args.lab, lab_state=args.lab_state,
                              lab_speed=args.lab_speed, keep_pools=False)
    try:
        await services.start()
        return await args.run(services, args)
    finally:
        await services.close()


def _serve_lab(args: argparse.Namespace) -> int:
    from console.services.container import serve_lab
    serve_lab(args.state or args.lab_state, args.speed or args.lab_speed)
    return 0


def main(argv: list[str] | None = None) -> int:
    debug = os.environ.get("VDICTL_DEBUG", "") not in ("", "0")
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:      # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        if args.command == "lab":
            return _serve_lab(args)
        return asyncio.run(_run(args))
    except commands.UsageError as exc:
        print_error(exc)
        return 2
    except ConsoleError as exc:
        print_error(exc)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (vdictl ... | head): no traceback, and none at exit either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        logging.getLogger("vdictl").debug("internal error", exc_info=True)
        print(f"Error: Internal error ({type(exc).__name__}).", file=sys.stderr)
        print("Hint: Run again with VDICTL_DEBUG=1 to see the details.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
