"""The pool editor's way to the services.

Look-ups (templates, a template's targets, names in use, method reasons, estimates, the services'
validate) are synchronous reads of the farm and the inventories; each answers a sentence instead of
raising into a widget. Save calls pools.create / pools.edit once; a coroutine-returning service is run
on the loop through the ServicesBridge, never awaited in the Qt thread.
"""
from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from console.domain.errors import ConsoleError
from console.domain.inventory import ProviderKind
from console.domain.templates import Pool, ProvisioningMethod, TargetState, Template
from console.ui.bridge import describe_error
from console.ui.dialog_bridge import DialogBridge
from console.ui.pool_editor.state import TargetChoice, sentence

log = logging.getLogger(__name__)


class PoolBridge(DialogBridge):
    @property
    def pools(self):
        return self.services.pools

    # ----- look-ups -----------------------------------------------------------------------------
    def templates(self) -> list[Template]:
        return sorted(self.services.templates.list(), key=lambda t: t.name.lower())

    def template(self, template_id: int) -> Template | None:
        try:
            return self.services.templates.get(template_id)
        except ConsoleError:
            return None

    def pool(self, pool_id: int) -> Pool:
        return self.pools.get(pool_id)

    def provider_name(self, provider_id: int) -> str:
        provider = self.provider(provider_id)
        return provider.name if provider is not None else f"provider {provider_id}"

    def provider_kind(self, provider_id: int) -> ProviderKind | None:
        provider = self.provider(provider_id)
        return provider.kind if provider is not None else None

    def is_nutanix(self, template: Template | None) -> bool:
        return template is not None and self.provider_kind(template.provider_id) in (
            ProviderKind.NUTANIX_PE, ProviderKind.NUTANIX_PC)

    def name_taken(self, name: str, exclude_id: int | None) -> str:
        other = next((p for p in self.pools.list()
                      if p.name.casefold() == name.casefold() and p.id != exclude_id), None)
        return f"A pool named '{other.name}' already exists. Choose another name." if other else ""

    def target_choices(self, template: Template, version: int | None) -> list[TargetChoice]:
        """Where clones of the template at this version can be made: its distribution targets with a
        ready copy of that version (Hyper-V with distribution), else its own provider."""
        if not template.distribution_enabled:
            return [TargetChoice(template.provider_id, self.provider_name(template.provider_id))]
        choices = []
        for target in sorted(template.targets, key=lambda t: self.provider_name(t.provider_id).lower()):
            name = self.provider_name(target.provider_id)
            reason = ""
            if target.state is not TargetState.READY:
                detail = f" ({target.last_error})" if target.last_error else ""
                reason = f"its copy of the template is {target.state.value.replace('-', ' ')}{detail}."
            elif version is not None and target.version != version:
                held = f"v{target.version}" if target.version else "no version"
                reason = f"it holds {held} of the template, not v{version}."
            choices.append(TargetChoice(target.provider_id, name, reason))
        return choices

    def existing_names(self, provider_ids: list[int], pool_id: int | None) -> set[str]:
        """VM names on these providers (their last inventory) and the other pools' clone names; this
        pool's own clones are no collision."""
        names: set[str] = set()
        for pid in provider_ids:
            inventory = self.services.providers.inventory(pid)
            for host in getattr(inventory, "hosts", None) or []:
                names.update(vm.name for vm in host.vms)
        try:
            for other in self.pools.list():
                if other.id != pool_id:
                    names.update(c.name for c in self.pools.clones(other.id))
            own = {c.name.casefold() for c in self.pools.clones(pool_id)} if pool_id is not None else set()
        except ConsoleError:
            own = set()
        return {n for n in names if n.casefold() not in own}

    def method_reasons(self, template_id: int) -> dict[ProvisioningMethod, str]:
        try:
            return dict(self.pools.method_reasons(template_id))
        except ConsoleError as exc:
            return {m: sentence(exc) for m in ProvisioningMethod}

    def estimates(self, template_id: int, version: int | None, provider_id: int | None) -> dict:
        if version is None:
            return {}
        try:
            return dict(self.pools.estimates(template_id, version, provider_id))
        except ConsoleError as exc:
            log.info("no estimates for template %s v%s: %s", template_id, version, exc)
            return {}

    def validate(self, pool: Pool, exclude_id: int | None) -> tuple[str, str]:
        """(field, sentence) from the services' validate; ("", "") when it agrees."""
        try:
            self.pools.validate(pool, exclude_id=exclude_id)
        except ConsoleError as exc:
            return getattr(exc, "field", "") or "", sentence(exc)
        except Exception as exc:  # noqa: BLE001 - a widget slot must not raise into Qt
            message, hint = describe_error(exc)
            return "", f"{message} {hint}".strip()
        return "", ""

    def clone_count(self, pool_id: int) -> int:
        try:
            return len(self.pools.clones(pool_id))
        except ConsoleError:
            return 0

    def stored_password(self, pool_id: int | None) -> bool:
        if pool_id is None:
            return False
        try:
            return bool(self.services.secrets.get(f"pool:{pool_id}:join"))
        except Exception:  # noqa: BLE001 - no keyring: nothing stored
            return False

    # ----- Save ---------------------------------------------------------------------------------
    def save(self, pool: Pool, join_password: str, on_done: Callable[[Pool, Any], None],
             on_error: Callable[[str, str, BaseException], None]):
        """pools.create (new) or pools.edit (existing) once; on_done(pool, task or None)."""
        def call() -> Any:
            if pool.id is None:
                return self.pools.create(pool, join_password=join_password)
            if "join_password" in inspect.signature(self.pools.edit).parameters:
                return self.pools.edit(pool, join_password=join_password)
            result = self.pools.edit(pool)
            if join_password:
                self.services.secrets.set(f"pool:{pool.id}:join", join_password)
            return result

        def done(value: Any) -> None:
            saved, task = (value if isinstance(value, tuple) else (value, None))
            on_done(saved, task)
        return self._once(call, "Save pool", done, on_error)
