"""What the pool editor asks before Save, and what the services check again: every rule of
domain.pool_rules plus the farm's state (the template and version exist, the template is not in
maintenance, the method is possible, the targets hold a ready copy of the version), the name preview,
which methods a template's provider can do, and the expected times of each method.
"""
from __future__ import annotations

import dataclasses

from console.adapters.base import Capabilities
from console.domain.errors import NotFoundError, ValidationError
from console.domain.inventory import ProviderKind
from console.domain.pool_rules import (
    Estimate,
    HostFigures,
    check_naming,
    check_pool_name,
    check_scale,
    estimate,
    method_reasons,
    preview,
)
from console.domain.template_rules import (
    check_account,
    check_distinguished_name,
    check_domain_name,
)
from console.domain.templates import (
    ImagePreparation,
    Pool,
    Preparation,
    ProvisioningMethod,
    Template,
)

from .pool_support import PoolSupport, pool_secret_key

DESCRIPTION_MAX = 1000


class PoolChecks(PoolSupport):
    # -- the editor's helpers --------------------------------------------------------------------
    def preview_names(self, pattern: str, count: int = 5) -> list[str]:
        """The first names of a pattern; ValidationError (field "naming_pattern") when it is invalid."""
        return preview(pattern, count)

    def _capabilities(self, provider_id: int) -> Capabilities:
        provider = self._provider(provider_id)
        caps = self._providers.capabilities(provider_id)
        if provider.kind is ProviderKind.HYPERV:
            # standalone Hyper-V makes all three kinds of clone (differencing disks, checkpoints)
            caps = dataclasses.replace(caps, can_full_clone=True, can_link_clone=True, can_quick_clone=True)
        return caps

    def method_reasons(self, template_id: int) -> dict[ProvisioningMethod, str]:
        """For each method, "" when the template's provider can make such clones, else why not."""
        template = self._farm.templates.get(template_id)
        return method_reasons(self._capabilities(template.provider_id), template.distribution_enabled)

    def _figures(self, provider_id: int | None) -> HostFigures:
        if provider_id is not None and self.lab_figures is not None:
            try:
                if self._provider(provider_id).lab:
                    return self.lab_figures
            except NotFoundError:
                pass
        return HostFigures()

    def estimates(self, template_id: int, version: int, provider_id: int | None = None
                  ) -> dict[ProvisioningMethod, Estimate]:
        """Expected time to usable, to independent and disk per clone for each possible method, from the
        version's size and the target's figures (the lab's own on lab hosts)."""
        template = self._farm.templates.get(template_id)
        found = template.version(int(version))
        if found is None:
            raise ValidationError(f"Template '{template.name}' has no version {version}.", field="version")
        figures = self._figures(provider_id if provider_id is not None else self._first_target(template))
        reasons = self.method_reasons(template_id)
        return {m: estimate(m, found.size_bytes, figures) for m in ProvisioningMethod if not reasons[m]}

    @staticmethod
    def _first_target(template: Template) -> int:
        return template.targets[0].provider_id if template.distribution_enabled and template.targets \
            else template.provider_id

    # -- validation ------------------------------------------------------------------------------
    def validate(self, pool: Pool, exclude_id: int | None = None, *, allow_maintenance: bool = False) -> None:
        """Every rule, in the editor's tab order; the first broken one raises ValidationError with its
        field. Nothing is saved. ``allow_maintenance``: editing an existing pool's settings while its
        template is in maintenance (it gives no clones meanwhile, but its pools can be edited)."""
        name = check_pool_name(pool.name)
        other = self._farm.pools.find_by_name(name)
        if other is not None and other.id != exclude_id:
            raise ValidationError(f"A pool named '{other.name}' already exists.", "Choose another name.",
                                  field="name")
        if len((pool.description or "").strip()) > DESCRIPTION_MAX:
            raise ValidationError(f"The description is {len(pool.description.strip())} characters long; at "
                                  f"most {DESCRIPTION_MAX} are allowed.", field="description")
        try:
            template = self._farm.templates.get(pool.template_id)
        except NotFoundError:
            raise ValidationError(f"Template {pool.template_id} is not in the farm.",
                                  "Choose one of the templates.", field="template") from None
        number = pool.version
        if pool.follow_tag:
            tagged = self._tag_version(template, pool.follow_tag)      # the tag must be on a version
            number = tagged.number if exclude_id is None else pool.version
        version = self._usable_version(pool, template, number, allow_maintenance)
        reason = self.method_reasons(template.id)[ProvisioningMethod(pool.method)]
        if reason:
            raise ValidationError(reason, "Choose another method.", field="method")
        targets = self._checked_targets(pool, template, version.number)
        check_scale(pool.initial_count, pool.keep_available, pool.maximum, pool.delete_unused_after_minutes,
                    pool.per_host_cap, len(targets))
        check_naming(pool.naming_pattern, pool.maximum, self._existing_names(targets, exclude_id))
        if pool.preparation_override is not None:
            self._check_preparation(pool.preparation_override)

    def _checked_targets(self, pool: Pool, template: Template, number: int) -> list[int]:
        """The pool's targets, each a READY target of the template at that version (Hyper-V with
        distribution); the template's own provider otherwise. Empty = every ready target."""
        chosen = list(dict.fromkeys(int(p) for p in pool.target_provider_ids))
        if not template.distribution_enabled:
            if any(p != template.provider_id for p in chosen):
                raise ValidationError(f"Template '{template.name}' has no distribution: its clones are made "
                                      f"on {self._provider_name(template.provider_id)} only.", field="targets")
            return [template.provider_id]
        # the latest copy, or one kept for the template's pools (a pool still at an older version)
        ready = [t.provider_id for t in template.targets if self._copy_for(t, number) is not None]
        if not chosen:
            chosen = ready
        if not chosen:
            raise ValidationError(f"No distribution target of template '{template.name}' holds a ready copy "
                                  f"of version {number}.", "Distribute the version first, or choose another "
                                  "version.", field="targets")
        for pid in chosen:
            if pid not in ready:
                target = template.target(pid)
                why = ("is not a distribution target of the template" if target is None else
                       f"holds no ready copy of version {number}")
                raise ValidationError(f"{self._provider_name(pid)} {why}.",
                                      "Choose the template's ready targets.", field="targets")
        return chosen

    def _existing_names(self, provider_ids: list[int], exclude_pool: int | None) -> set[str]:
        """VM names on the targets (last inventories) and clone names of the other pools; the pool's
        own clones are not collisions."""
        own = {c.name.casefold() for c in self._farm.pools.clones(exclude_pool)} if exclude_pool else set()
        names: set[str] = set()
        for pid in provider_ids:
            inventory = self._providers.inventory(pid)
            for host in inventory.hosts if inventory else []:
                names.update(vm.name for vm in host.vms)
        for other in self._farm.pools.list():
            if other.id != exclude_pool:
                names.update(c.name for c in self._farm.pools.clones(other.id))
        return {n for n in names if n.casefold() not in own}

    @staticmethod
    def _check_preparation(prep: Preparation) -> Preparation:
        if prep.method is ImagePreparation.RENAME_AND_JOIN or prep.domain:
            prep.domain = check_domain_name(prep.domain) if prep.domain else ""
        prep.organizational_unit = check_distinguished_name(prep.organizational_unit or "")
        if prep.join_account:
            prep.join_account = check_account(prep.join_account)
        return prep

    def _normalised(self, pool: Pool, exclude_id: int | None = None) -> Pool:
        """Validate, then the pool as saved: stripped name, the tag's version, the targets filled."""
        self.validate(pool, exclude_id, allow_maintenance=exclude_id is not None)
        template = self._farm.templates.get(pool.template_id)
        pool = dataclasses.replace(pool, name=check_pool_name(pool.name),
                                   description=(pool.description or "").strip(),
                                   naming_pattern=pool.naming_pattern.strip(),
                                   follow_tag=(pool.follow_tag or "").strip(),
                                   method=ProvisioningMethod(pool.method))
        if pool.follow_tag and exclude_id is None:
            pool.version = self._tag_version(template, pool.follow_tag).number
        pool.target_provider_ids = self._checked_targets(pool, template, pool.version)
        if pool.preparation_override is not None:
            pool.preparation_override = self._check_preparation(dataclasses.replace(pool.preparation_override))
        prep = pool.preparation_override or template.preparation
        pool.preparation, pool.domain = prep.method, prep.domain
        pool.organizational_unit, pool.join_account = prep.organizational_unit, prep.join_account
        return pool

    # -- join passwords a keyring-less session does not know -----------------------------------------
    def missing_join_passwords(self) -> list[Pool]:
        """Pools whose own preparation (an override) joins a domain without a known password."""
        return [p for p in self._farm.pools.list() if p.preparation_override is not None
                and p.preparation_override.join_account and self._secrets.get(pool_secret_key(p.id)) is None]

    def set_join_password(self, pool_id: int, password: str, persist: bool = True) -> None:
        pool = self._farm.pools.get(pool_id)
        if not password:
            raise ValidationError("Enter the join account's password.", field="join_password")
        self._secrets.set(pool_secret_key(pool.id), password, persist=persist)
