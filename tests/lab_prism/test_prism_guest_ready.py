"""A Nutanix clone is usable once powered on and its guest reports an IP address: the lab's VMs get
their NICs' addresses a boot delay after power on (v2.0 ``vm_nics[].ip_address``, v3
``status.resources.nic_list[].ip_endpoint_list``), lose them when powered off, and a guest still
booting when the lab stops boots on after a restart."""
from __future__ import annotations

import time

from prismkit import V2, V3, client, v2_vms, wait_v2

from console.lab.prism import DURATIONS, PrismLab


def nic_ips(pe, vm_uuid: str) -> list[str]:
    body = pe.get(f"{V2}/vms/{vm_uuid}", params={"include_vm_nic_config": "true"}).json()
    return [n["ip_address"] for n in body["vm_nics"] if n.get("ip_address")]


def power(pe, vm_uuid: str, transition: str) -> None:
    t = wait_v2(pe, pe.post(f"{V2}/vms/{vm_uuid}/set_power_state", json={"transition": transition}).json()["task_uuid"])
    assert t["progress_status"] == "Succeeded", t


def wait_for(predicate, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while not (got := predicate()):
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.02)
    return got


def test_boot_delay_is_the_lab_figure():
    assert DURATIONS["boot"] == 20.0


def test_ip_appears_after_the_boot_delay_and_goes_with_power_off(prism_factory):
    lab = prism_factory(speed=20)                 # power 0.25 s, boot 1 s
    with client(lab, "NTNX-PE-01") as pe, client(lab, "NTNX-PC-01") as pc:
        vm = next(v for v in v2_vms(pe) if v["name"] == "Win11-VDI-003")      # off, on VDI-VLAN120
        assert nic_ips(pe, vm["uuid"]) == []
        t0 = time.monotonic()
        power(pe, vm["uuid"], "ON")
        assert pe.get(f"{V2}/vms/{vm['uuid']}").json()["power_state"] == "on"
        assert nic_ips(pe, vm["uuid"]) == []                                   # still booting
        ips = wait_for(lambda: nic_ips(pe, vm["uuid"]))
        assert time.monotonic() - t0 >= DURATIONS["boot"] / 20 * 0.9
        assert len(ips) == 1 and ips[0].startswith("10.120.")
        v3 = pc.get(f"{V3}/vms/{vm['uuid']}").json()["status"]["resources"]["nic_list"][0]
        assert v3["ip_endpoint_list"] == [{"ip": ips[0], "type": "ASSIGNED"}]
        power(pe, vm["uuid"], "OFF")
        assert nic_ips(pe, vm["uuid"]) == []
        assert pc.get(f"{V3}/vms/{vm['uuid']}").json()["status"]["resources"]["nic_list"][0]["ip_endpoint_list"] == []


def test_a_clone_powered_on_gets_its_own_address_and_a_learned_one_off_ipam(prism):
    with client(prism, "NTNX-PE-01") as pe, client(prism, "NTNX-PC-01") as pc:
        vms = {v["name"]: v for v in v2_vms(pe)}
        t = wait_v2(pe, pe.post(f"{V2}/vms/{vms['Win11-VDI-001']['uuid']}/clone",
                                json={"spec_list": [{"name": "VDI-777"}]}).json()["task_uuid"])
        clone = t["entity_list"][0]["entity_id"]
        assert nic_ips(pe, clone) == []
        power(pe, clone, "ON")
        ips = wait_for(lambda: nic_ips(pe, clone))
        assert ips != nic_ips(pe, vms["Win11-VDI-001"]["uuid"])
        fs = pc.get(f"{V3}/vms/{vms['FS-Profiles']['uuid']}").json()      # Servers-VLAN30: no IPAM
        assert fs["status"]["resources"]["nic_list"][0]["ip_endpoint_list"][0]["type"] == "LEARNED"


def test_a_guest_booting_when_the_lab_stops_boots_on_after_a_restart(tmp_path):
    state = tmp_path / "prism-state"
    lab = PrismLab(state, speed=10)              # power 0.5 s, boot 2 s
    lab.start()
    try:
        with client(lab, "NTNX-PE-01") as pe:
            vm = next(v for v in v2_vms(pe) if v["name"] == "Win11-VDI-003")
            power(pe, vm["uuid"], "ON")
    finally:
        lab.stop()
    lab = PrismLab(state, speed=10)
    lab.start()
    try:
        with client(lab, "NTNX-PE-01") as pe:
            assert pe.get(f"{V2}/vms/{vm['uuid']}").json()["power_state"] == "on"
            assert nic_ips(pe, vm["uuid"]) == []
            assert wait_for(lambda: nic_ips(pe, vm["uuid"]))
    finally:
        lab.stop()
