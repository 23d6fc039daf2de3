"""Pools in the farm file: round trip, names unique in any case, clones, one-transaction name
reservation (threads and separate connections), history, cascade, migration from v2."""
import sqlite3
import threading

import pytest

from console.domain.errors import CapacityError, ConflictError, NotFoundError
from console.domain.templates import (Clone, CloneState, ImagePreparation, Pool, PoolVersionChange,
                                      Preparation, ProvisioningMethod, Template, TemplateState)
from console.store import SCHEMA_VERSION, Farm
from console.store.migrations import MIGRATION_1, MIGRATION_2

NAMES = [f"VDI-{i:03d}" for i in range(1, 1000)]


@pytest.fixture
def farm(tmp_path):
    with Farm(tmp_path / "farm.sqlite") as f:
        yield f


@pytest.fixture
def template_id(farm):
    return farm.templates.add(Template(None, "Win11-Gold", 1, "vm-1",
                                       state=TemplateState.READY)).id


def _pool(template_id, name="Sales", **kw) -> Pool:
    return Pool(None, name, template_id, 1, **kw)


def test_round_trip_of_every_field(farm, template_id):
    override = Preparation(method=ImagePreparation.RENAME_AND_JOIN, domain="corp.example.com",
                           organizational_unit="OU=Sales\\, East,DC=corp,DC=example,DC=com",
                           join_account="CORP\\svc-join")
    p = _pool(template_id, method=ProvisioningMethod.QUICK, naming_pattern="SAL-%ID:4:10%",
              initial_count=5, keep_available=3, maximum=200, target_provider_ids=[3, 2],
              description="Sales desks", enabled=False, follow_tag="production",
              delete_unused_after_minutes=90, per_host_cap=40, preparation_override=override)
    assert farm.pools.add(p) is p and p.id and p.created
    got = farm.pools.get(p.id)
    assert got == p
    assert got.preparation_override == override and got.target_provider_ids == [3, 2]
    got.preparation_override, got.enabled, got.maximum, got.version = None, True, 300, 2
    farm.pools.update(got)
    again = farm.pools.get(p.id)
    assert again.preparation_override is None and again.enabled and again.maximum == 300
    assert again.version == 2 and again.created == p.created
    assert farm.templates.pool_names_using(template_id) == ["Sales"]
    assert farm.templates.pool_names_using(template_id, 2) == ["Sales"]
    assert farm.templates.pool_names_using(template_id, 1) == []


@pytest.mark.parametrize("other", ["Sales", "SALES", " sales "])
def test_names_are_unique_in_any_case(farm, template_id, other):
    farm.pools.add(_pool(template_id))
    with pytest.raises(ConflictError, match="already exists"):
        farm.pools.add(_pool(template_id, other.strip()))
    with pytest.raises(sqlite3.IntegrityError):     # the index holds even past the repository
        farm.execute("INSERT INTO pools (name, template_id, version, method, naming_pattern, "
                     "initial_count, keep_available, maximum, preparation) "
                     "VALUES ('SALES', ?, 1, 'linked', 'X%ID%', 1, 0, 1, 'sysprep')", (template_id,))


def test_unicode_names_clash_case_folded_and_rename_checks_others(farm, template_id):
    farm.pools.add(_pool(template_id, "Über"))
    with pytest.raises(ConflictError):
        farm.pools.add(_pool(template_id, "ÜBER"))
    b = farm.pools.add(_pool(template_id, "Other"))
    b.name = "über"
    with pytest.raises(ConflictError):
        farm.pools.update(b)
    b.name = "Other"                     # its own name is no conflict
    farm.pools.update(b)
    assert farm.pools.find_by_name(" üBER ").name == "Über"
    assert farm.pools.find_by_name("nobody") is None
    assert [p.name for p in farm.pools.list()] == ["Other", "Über"]


def test_missing_pool_and_template(farm, template_id):
    with pytest.raises(NotFoundError):
        farm.pools.get(99)
    with pytest.raises(NotFoundError):
        farm.pools.update(Pool(99, "Ghost", template_id, 1))
    with pytest.raises(NotFoundError, match="Template 42"):
        farm.pools.add(_pool(42))
    with pytest.raises(NotFoundError):
        farm.pools.save_clone(Clone(99, "VDI-001", 1))
    with pytest.raises(NotFoundError):
        farm.pools.reserve_clone_name(99, NAMES)
    with pytest.raises(NotFoundError):
        farm.pools.add_history(PoolVersionChange(99, 1, ""))
    assert farm.pools.remove(99) is False


def test_clones_upsert_and_remove(farm, template_id):
    pid = farm.pools.add(_pool(template_id)).id
    c = Clone(pid, "VDI-002", 3, vm_id="vm-9", version=1, state=CloneState.MERGING, host="HV03",
              method=ProvisioningMethod.QUICK, usable_seconds=12.5, request_id="req-1",
              folder="D:\\VMs\\VDI-Pools\\Sales\\VDI-002")
    farm.pools.save_clone(c)
    farm.pools.save_clone(Clone(pid, "VDI-001", 2))
    assert [x.name for x in farm.pools.clones(pid)] == ["VDI-001", "VDI-002"]
    got = farm.pools.clone(pid, "VDI-002")
    assert got == c and got.independent_seconds is None and got.created
    c.state, c.independent_seconds, c.assigned_user = CloneState.ASSIGNED, 80.0, "CORP\\user042"
    farm.pools.save_clone(c)
    again = farm.pools.clone(pid, "VDI-002")
    assert again.state is CloneState.ASSIGNED and again.independent_seconds == 80.0
    assert again.assigned_user == "CORP\\user042" and again.created == got.created
    assert farm.pools.clone_counts() == {pid: 2}
    assert farm.pools.remove_clone(pid, "VDI-002") and not farm.pools.remove_clone(pid, "VDI-002")
    assert farm.pools.clone(pid, "VDI-002") is None


def test_reserve_takes_the_lowest_free_name_across_pools_in_any_case(farm, template_id):
    a = farm.pools.add(_pool(template_id)).id
    b = farm.pools.add(_pool(template_id, "Other")).id
    farm.pools.save_clone(Clone(a, "vdi-001", 1))
    farm.pools.save_clone(Clone(b, "VDI-003", 1))
    assert farm.pools.reserve_clone_name(a, NAMES, provider_id=2, host="HV02",
                                         method=ProvisioningMethod.FULL, version=1,
                                         request_id="r-1") == "VDI-002"
    row = farm.pools.clone(a, "VDI-002")
    assert row.state is CloneState.PROVISIONING and row.host == "HV02" and row.provider_id == 2
    assert row.method is ProvisioningMethod.FULL and row.request_id == "r-1" and row.created
    assert farm.pools.reserve_clone_name(b, NAMES) == "VDI-004"
    with pytest.raises(CapacityError, match="no free clone name"):
        farm.pools.reserve_clone_name(a, ["VDI-001", "VDI-002"])


def _race(farms, pool_id, per_worker):
    """Every worker reserves ``per_worker`` names at once, starting together."""
    barrier = threading.Barrier(len(farms))
    got: list[list[str]] = [[] for _ in farms]
    errors: list[BaseException] = []

    def work(i):
        try:
            barrier.wait()
            for _ in range(per_worker):
                got[i].append(farms[i].pools.reserve_clone_name(pool_id, NAMES))
        except BaseException as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(farms))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return got


def test_two_connections_reserving_at_once_never_get_the_same_name(tmp_path, template_id, farm):
    pid = farm.pools.add(_pool(template_id)).id
    farm.close()
    with Farm(tmp_path / "farm.sqlite") as one, Farm(tmp_path / "farm.sqlite") as two:
        got = _race([one, two], pid, 40)
        names = got[0] + got[1]
        assert len(set(names)) == len(names) == 80
        assert sorted(names) == NAMES[:80]           # the lowest names, none skipped
        assert len(one.pools.clones(pid)) == 80


def test_threads_sharing_one_farm_never_get_the_same_name(farm, template_id):
    pid = farm.pools.add(_pool(template_id)).id
    got = _race([farm] * 4, pid, 25)
    names = [n for g in got for n in g]
    assert sorted(names) == NAMES[:100]


def test_history_in_order_and_cascade_on_remove(farm, template_id):
    pid = farm.pools.add(_pool(template_id)).id
    farm.pools.add_history(PoolVersionChange(pid, 1, "", "create"))
    farm.pools.add_history(PoolVersionChange(pid, 2, "", "update", task_id=7))
    farm.pools.add_history(PoolVersionChange(pid, 1, "", "rollback", task_id=8))
    hist = farm.pools.history(pid)
    assert [(h.version, h.kind, h.task_id) for h in hist] == [(1, "create", None), (2, "update", 7),
                                                             (1, "rollback", 8)]
    assert all(h.changed for h in hist)
    with pytest.raises(ValueError):
        farm.pools.add_history(PoolVersionChange(pid, 3, "", "bogus"))
    farm.pools.save_clone(Clone(pid, "VDI-001", 1))
    assert farm.pools.remove(pid)
    assert farm.query("SELECT count(*) FROM clones")[0][0] == 0
    assert farm.query("SELECT count(*) FROM pool_versions")[0][0] == 0
    assert farm.pools.history(pid) == [] and farm.pools.list() == []


def test_interrupted_clones_become_incomplete(farm, template_id):
    pid = farm.pools.add(_pool(template_id)).id
    for name, state in [("A1", CloneState.PROVISIONING), ("A2", CloneState.READY),
                        ("A3", CloneState.UPDATING), ("A4", CloneState.DELETING),
                        ("A5", CloneState.FAILED)]:
        farm.pools.save_clone(Clone(pid, name, 1, state=state))
    assert farm.pools.interrupt_clones("Interrupted.") == [(pid, "A1"), (pid, "A3"), (pid, "A4")]
    states = {c.name: (c.state, c.error) for c in farm.pools.clones(pid)}
    assert states["A1"] == (CloneState.INCOMPLETE, "Interrupted.")
    assert states["A2"] == (CloneState.READY, "") and states["A5"][0] is CloneState.FAILED
    assert farm.pools.interrupt_clones("again") == []


def test_no_password_in_the_pool_rows(farm, template_id):
    farm.pools.add(_pool(template_id, preparation_override=Preparation(join_account="CORP\\svc")))
    raw = " ".join(str(c) for row in farm.query("SELECT * FROM pools") for c in row)
    assert "password" not in raw.lower() and "CORP\\\\svc" in raw


def test_migration_from_v2_keeps_pool_and_clone_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("BEGIN;" + MIGRATION_1 + MIGRATION_2 + "PRAGMA user_version = 2; COMMIT;")
    conn.execute("INSERT INTO templates (name, provider_id, source_vm_id, state) "
                 "VALUES ('T', 1, 'vm', 'ready')")
    conn.execute("INSERT INTO pools (name, template_id, version, method, naming_pattern, "
                 "initial_count, keep_available, maximum, preparation) "
                 "VALUES ('Old', 1, 1, 'full', 'OLD-%ID:2%', 1, 0, 5, 'sysprep')")
    conn.execute("INSERT INTO clones (pool_id, name, provider_id, state) VALUES (1, 'OLD-01', 1, 'ready')")
    conn.close()
    with Farm(path) as farm:
        assert farm.schema_version == SCHEMA_VERSION >= 3
        p = farm.pools.get(1)
        assert (p.name, p.method, p.enabled, p.follow_tag, p.preparation_override, p.per_host_cap) == \
            ("Old", ProvisioningMethod.FULL, True, "", None, 0)
        (c,) = farm.pools.clones(1)
        assert c.state is CloneState.READY and c.method is ProvisioningMethod.LINKED and c.host == ""
        assert farm.integrity_check() == "ok"
