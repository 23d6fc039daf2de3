"""Templates in the farm file: round trip, names unique in any case, cascade, migration from v1."""
import sqlite3

import pytest

from console.domain.errors import ConflictError, NotFoundError
from console.domain.inventory import ConnectionSettings, Provider, ProviderKind, WinRMTransport
from console.domain.tasks import Task, TaskState
from console.domain.templates import (DistributionTarget, ImagePreparation, Preparation,
                                      TargetProgress, TargetState, Template, TemplateState,
                                      TemplateVersion)
from console.store import SCHEMA_VERSION, Farm
from console.store.migrations import MIGRATION_1


def _template(name="Win11-Gold", **kw) -> Template:
    prep = Preparation(method=ImagePreparation.RENAME_AND_JOIN, domain="corp.example.com",
                       organizational_unit="OU=Sales\\, East,DC=corp,DC=example,DC=com",
                       join_account="CORP\\svc-join", owner="IT", organization="Example")
    return Template(None, name, 1, "vm-1", description="Golden image", state=TemplateState.CREATING,
                    distribution_enabled=True, concurrent_distribution=4, source_vm_name="Win11-Gold",
                    source_host="HV01", preparation=prep, **kw)


@pytest.fixture
def farm(tmp_path):
    with Farm(tmp_path / "farm.sqlite") as f:
        yield f


def test_round_trip_with_versions_targets_and_preparation(farm):
    t = _template(versions=[TemplateVersion(0, 1, "", notes="first", snapshot_id="cp-1",
                                            size_bytes=26_413_678_592)],
                  targets=[DistributionTarget(0, 2), DistributionTarget(0, 3)])
    added = farm.templates.add(t)
    assert added is t and t.id and t.created
    got = farm.templates.get(t.id)
    assert got.name == "Win11-Gold" and got.state is TemplateState.CREATING
    assert got.distribution_enabled and got.concurrent_distribution == 4
    assert got.source_vm_name == "Win11-Gold" and got.source_host == "HV01"
    assert got.preparation == t.preparation and got.maintenance_from is None
    assert [(v.number, v.notes, v.snapshot_id, v.size_bytes) for v in got.versions] == \
        [(1, "first", "cp-1", 26_413_678_592)]
    assert [d.provider_id for d in got.targets] == [2, 3]
    assert all(d.template_id == t.id for d in got.targets + got.versions)
    # scalar update
    got.state, got.maintenance_from, got.description = TemplateState.MAINTENANCE, 1, "changed"
    farm.templates.update(got)
    again = farm.templates.get(t.id)
    assert again.state is TemplateState.MAINTENANCE and again.maintenance_from == 1
    assert again.description == "changed" and len(again.versions) == 1


def test_the_join_password_is_never_in_the_farm(farm):
    farm.templates.add(_template())
    raw = " ".join(str(c) for row in farm.query("SELECT * FROM templates") for c in row)
    assert "password" not in raw.lower() and "svc-join" in raw


@pytest.mark.parametrize("other", ["Win11-Gold", "WIN11-gold", " win11-GOLD "])
def test_same_name_in_any_case_is_a_conflict(farm, other):
    farm.templates.add(_template())
    with pytest.raises(ConflictError) as info:
        farm.templates.add(_template(name=other.strip()))
    assert info.value.message == f"A template named '{other.strip()}' already exists."
    assert len(farm.templates.list()) == 1


def test_unicode_names_conflict_in_any_case_too(farm):
    farm.templates.add(_template(name="Überwachung-東京"))
    with pytest.raises(ConflictError):
        farm.templates.add(_template(name="üBERWACHUNG-東京"))
    assert farm.templates.find_by_name("ÜBERWACHUNG-東京").name == "Überwachung-東京"


def test_rename_to_another_templates_name_is_a_conflict(farm):
    farm.templates.add(_template())
    b = farm.templates.add(_template(name="Win10-Office"))
    b.name = "win11-gold"
    with pytest.raises(ConflictError):
        farm.templates.update(b)
    b.name = "Win10-Office-2"
    farm.templates.update(b)
    assert farm.templates.get(b.id).name == "Win10-Office-2"


def test_a_failed_add_leaves_nothing_half_made(farm):
    t = _template(versions=[TemplateVersion(0, 1, ""), TemplateVersion(0, 1, "")])  # same number
    with pytest.raises(ConflictError):
        farm.templates.add(t)
    assert farm.templates.list() == []
    assert farm.query("SELECT count(*) FROM template_versions")[0][0] == 0


def test_get_missing_and_find_and_list_by_name(farm):
    with pytest.raises(NotFoundError):
        farm.templates.get(42)
    b = farm.templates.add(_template(name="beta"))
    a = farm.templates.add(_template(name="Alpha"))
    assert [t.name for t in farm.templates.list()] == ["Alpha", "beta"]
    assert farm.templates.find_by_name("BETA").id == b.id
    assert farm.templates.find_by_name("gamma") is None
    a.id, a.name = 999, "Ghost"
    with pytest.raises(NotFoundError):
        farm.templates.update(a)


def test_versions_add_update_tag_remove(farm):
    t = farm.templates.add(_template())
    v1 = farm.templates.add_version(TemplateVersion(t.id, 1, "", snapshot_id="cp-1"))
    assert v1.created
    farm.templates.add_version(TemplateVersion(t.id, 2, "", snapshot_id="cp-2"))
    with pytest.raises(ConflictError):
        farm.templates.add_version(TemplateVersion(t.id, 2, ""))
    with pytest.raises(NotFoundError):
        farm.templates.add_version(TemplateVersion(777, 1, ""))
    v1.notes, v1.size_bytes = "Office 2024", 123
    farm.templates.update_version(v1)
    farm.templates.set_tag(t.id, 1, "production")
    farm.templates.set_tag(t.id, 2, "production")       # moves it
    vs = farm.templates.versions(t.id)
    assert [(v.number, v.tag) for v in vs] == [(1, ""), (2, "production")]
    assert vs[0].notes == "Office 2024" and vs[0].size_bytes == 123
    with pytest.raises(NotFoundError):
        farm.templates.set_tag(t.id, 9, "x")
    assert farm.templates.versions(t.id)[1].tag == "production"   # rolled back
    with pytest.raises(NotFoundError):
        farm.templates.update_version(TemplateVersion(t.id, 9, ""))
    assert farm.templates.remove_version(t.id, 1)
    assert not farm.templates.remove_version(t.id, 1)
    assert [v.number for v in farm.templates.get(t.id).versions] == [2]


def test_targets_upsert_and_remove(farm):
    t = farm.templates.add(_template())
    d = DistributionTarget(t.id, 5)
    farm.templates.save_target(d)
    first = d.updated
    assert first
    d.state, d.progress, d.fraction, d.version = (TargetState.READY, TargetProgress.OK, 1.0, 1)
    d.vm_id, d.folder, d.last_error = "vm-9", "D:\\Hyper-V\\VDI-Templates\\Win11-Gold-v1", ""
    farm.templates.save_target(d)
    [got] = farm.templates.targets(t.id)
    assert (got.state, got.progress, got.fraction, got.version, got.vm_id, got.folder) == \
        (TargetState.READY, TargetProgress.OK, 1.0, 1, "vm-9", "D:\\Hyper-V\\VDI-Templates\\Win11-Gold-v1")
    assert got.updated >= first
    with pytest.raises(NotFoundError):
        farm.templates.save_target(DistributionTarget(999, 5))
    assert farm.templates.remove_target(t.id, 5)
    assert not farm.templates.remove_target(t.id, 5)
    assert farm.templates.get(t.id).targets == []


def test_remove_cascades_to_versions_and_targets(farm):
    t = farm.templates.add(_template(versions=[TemplateVersion(0, 1, "")],
                                     targets=[DistributionTarget(0, 2)]))
    keep = farm.templates.add(_template(name="Other", versions=[TemplateVersion(0, 1, "")],
                                        targets=[DistributionTarget(0, 2)]))
    assert farm.templates.remove(t.id)
    assert not farm.templates.remove(t.id)
    assert farm.query("SELECT template_id FROM template_versions") == [(keep.id,)]
    assert farm.query("SELECT template_id FROM distribution_targets") == [(keep.id,)]
    # the name is free again
    farm.templates.add(_template())


def _pool(farm, name, template_id, version):
    farm.execute("INSERT INTO pools (name, template_id, version, method, naming_pattern, "
                 "initial_count, keep_available, maximum, preparation) "
                 "VALUES (?, ?, ?, 'linked', 'VDI-%ID:3%', 1, 0, 10, 'rename-join')",
                 (name, template_id, version))


def test_pools_using_a_template_are_named_and_block_its_removal(farm):
    t = farm.templates.add(_template(versions=[TemplateVersion(0, 1, ""), TemplateVersion(0, 2, "")]))
    _pool(farm, "Sales", t.id, 1)
    _pool(farm, "accounting", t.id, 2)
    assert farm.templates.pool_names_using(t.id) == ["accounting", "Sales"]
    assert farm.templates.pool_names_using(t.id, version=2) == ["accounting"]
    assert farm.templates.pool_names_using(t.id, version=3) == []
    with pytest.raises(ConflictError) as info:
        farm.templates.remove(t.id)
    assert "accounting, Sales" in info.value.message
    assert farm.templates.get(t.id)


def test_migration_from_a_version_1_farm_keeps_providers_and_tasks(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATION_1 + "\nPRAGMA user_version = 1;")
    conn.execute("INSERT INTO providers (name, kind, settings, lab, created) VALUES (?, ?, ?, ?, ?)",
                 ("HV01", "hyperv", ('{"kind": "hyperv", "address": "hv01.corp.example.com", '
                                     '"port": 5986, "use_https": true, "transport": "ntlm", '
                                     '"username": "CORP\\\\admin"}'),
                  0, "2024-01-01T00:00:00.000+00:00"))
    conn.execute("INSERT INTO tasks (name, kind, state, created) VALUES ('Start VM', 'vm-power', "
                 "'succeeded', '2024-01-01T00:00:00.000+00:00')")
    conn.execute("INSERT INTO templates (name, provider_id, source_vm_id, state) "
                 "VALUES ('Old', 1, 'vm-0', 'ready')")
    conn.execute("INSERT INTO template_versions (template_id, number, created) VALUES (1, 1, 't')")
    conn.commit()
    conn.close()
    with Farm(path) as farm:
        assert farm.schema_version == SCHEMA_VERSION >= 2
        [p] = farm.providers.list()
        assert p.name == "HV01" and p.settings.address == "hv01.corp.example.com"
        [task] = farm.tasks.recent()
        assert task.name == "Start VM" and task.state is TaskState.SUCCEEDED
        old = farm.templates.find_by_name("old")
        assert old.state is TemplateState.READY and old.source_vm_name == ""
        assert old.preparation == Preparation() and old.versions[0].snapshot_id == ""
        farm.templates.add(_template())
        farm.tasks.save(Task(None, "Create template 'Win11-Gold'", "HV01 / Win11-Gold", "template-create"))
    with Farm(path) as farm:   # reopened: not migrated again, everything still there
        assert [t.name for t in farm.templates.list()] == ["Old", "Win11-Gold"]
        assert len(farm.tasks.recent()) == 2


def test_provider_name_settings_are_independent_of_templates(farm):
    # a provider removed keeps its templates' rows readable (no foreign key to providers)
    pid = farm.providers.add(Provider(None, "HV01", ConnectionSettings(
        ProviderKind.HYPERV, "hv01", 5986, True, WinRMTransport.NTLM, "CORP\\admin"))).id
    t = _template()
    t.provider_id = pid
    farm.templates.add(t)
    farm.providers.remove(pid)
    assert farm.templates.get(t.id).provider_id == pid
