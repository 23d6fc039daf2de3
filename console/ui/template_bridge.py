"""The Create Template wizard's way to the template services.

Checks are coroutines started on the loop through the ServicesBridge; their answers come back as
signals carrying the key they were asked for (so a page drops an answer about a source or target it
no longer shows). Nothing here awaits or blocks the Qt thread. A check that cannot run at all comes
back as one FAILED row with the sentence, never as an exception into a widget.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal

from console.domain.errors import ConsoleError
from console.domain.inventory import VM, Provider
from console.domain.prerequisites import CheckStatus, PrerequisiteResult
from console.ui.dialog_bridge import DialogBridge


class TemplateBridge(DialogBridge):
    #: provider id, VM id, SourceCheck
    sourceChecked = Signal(int, str, object)
    #: provider id, VM id, sentence (with the hint)
    sourceCheckFailed = Signal(int, str, str)
    #: target provider id, generation (as asked), list[PrerequisiteResult]
    targetChecked = Signal(int, int, object)

    @property
    def templates(self):
        return self.services.templates

    # ----- synchronous look-ups (no network) ----------------------------------------------------
    def providers(self) -> list[Provider]:
        return sorted(self.services.providers.list(), key=lambda p: p.name.lower())

    def vms(self, provider_id: int) -> list[VM]:
        """The provider's VMs from its last inventory, by name (a VM seen on two hosts once)."""
        inventory = self.services.providers.inventory(provider_id)
        seen: dict[str, VM] = {}
        for host in getattr(inventory, "hosts", None) or []:
            for vm in host.vms:
                seen.setdefault(vm.id, vm)
        return sorted(seen.values(), key=lambda v: v.name.lower())

    def validate_name(self, name: str) -> str:
        return self.templates.validate_name(name)

    def available_targets(self, source_provider_id: int) -> list[tuple[Provider, str]]:
        return list(self.templates.available_targets(source_provider_id))

    # ----- checks (coroutines on the loop; answers as signals) ----------------------------------
    def check_source(self, provider_id: int, vm_id: str):
        def done(check: Any) -> None:
            self.sourceChecked.emit(provider_id, vm_id, check)

        def failed(message: str, hint: str, _exc: BaseException) -> None:
            self.sourceCheckFailed.emit(provider_id, vm_id, f"{message} {hint}".strip())
        return self._run(self.templates.source_check(provider_id, vm_id), "Check the source VM", done, failed)

    def check_target(self, source_provider_id: int, vm_id: str, target_provider_id: int, generation: int):
        def done(results: Any) -> None:
            self.targetChecked.emit(target_provider_id, generation, list(results or []))

        def failed(message: str, hint: str, _exc: BaseException) -> None:
            row = PrerequisiteResult(key="check", title="The pre-flight check ran",
                                     expected="the check completes", found=message,
                                     status=CheckStatus.FAILED, fix=hint or "Re-check the target.")
            self.targetChecked.emit(target_provider_id, generation, [row])
        coro = self.templates.check_target(source_provider_id, vm_id, target_provider_id)
        return self._run(coro, "Check a distribution target", done, failed)

    # ----- Finish -------------------------------------------------------------------------------
    def create(self, plan, on_done: Callable[[Any], None], on_error: Callable[[str, str, Exception], None]):
        """``templates.create(plan)`` once. Its validation error comes back through on_error (the
        summary page shows it); a coroutine-returning create is run on the loop the same way."""
        return self._once(lambda: self.templates.create(plan), "Create template", on_done, on_error)

    def template_id(self, task: Any, name: str) -> int | None:
        """The id of the template a creation task made: from the task, else by its (unique) name."""
        result = getattr(task, "result", None) or {}
        for key in ("template_id", "id"):
            if isinstance(result.get(key), int):
                return result[key]
        params = result.get("params") or {}
        if isinstance(params.get("template_id"), int):
            return params["template_id"]
        try:
            template = self.templates.find(name)
        except ConsoleError:
            return None
        return getattr(template, "id", None)
