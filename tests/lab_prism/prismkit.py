"""Helpers for the Prism lab tests: httpx clients that trust the lab's certificate (the PEM kept in the
lab state, used as the CA bundle), bounded task polling, paging, the reference bodies."""
from __future__ import annotations

import json
import ssl
import time
from pathlib import Path

import httpx

from console.lab.prism import PrismLab

REFERENCE = Path("/work/shared/reference/nutanix")
V2 = "/PrismGateway/services/rest/v2.0"
V2_ALT = "/api/nutanix/v2.0"
V3 = "/api/nutanix/v3"


def trusting(lab: PrismLab, name: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(lab.cert_path(name)))


def client(lab: PrismLab, name: str, **kwargs) -> httpx.Client:
    ep = lab.endpoint(name)
    kwargs.setdefault("auth", (ep.username, ep.password))
    kwargs.setdefault("verify", trusting(lab, name))
    return httpx.Client(base_url=ep.url, timeout=10, **kwargs)


def wait_v2(c: httpx.Client, task_uuid: str, deadline: float = 15.0) -> dict:
    """Poll a v2.0 task until it ends (bounded); returns its last body."""
    end = time.monotonic() + deadline
    while True:
        r = c.get(f"{V2}/tasks/{task_uuid}")
        assert r.status_code == 200, r.text
        t = r.json()
        if t["progress_status"] in ("Succeeded", "Failed"):
            return t
        assert time.monotonic() < end, f"task {task_uuid} still {t['progress_status']}"
        time.sleep(0.02)


def wait_v3(c: httpx.Client, task_uuid: str, deadline: float = 15.0) -> dict:
    end = time.monotonic() + deadline
    while True:
        r = c.get(f"{V3}/tasks/{task_uuid}")
        assert r.status_code == 200, r.text
        t = r.json()
        if t["status"] in ("SUCCEEDED", "FAILED"):
            return t
        assert time.monotonic() < end, f"task {task_uuid} still {t['status']}"
        time.sleep(0.02)


def v2_vms(c: httpx.Client) -> list[dict]:
    r = c.get(f"{V2}/vms/", params={"include_vm_disk_config": "true", "include_vm_nic_config": "true"})
    assert r.status_code == 200, r.text
    return r.json()["entities"]


def v3_all_vms(c: httpx.Client, page: int = 500) -> list[dict]:
    out, offset = [], 0
    while True:
        r = c.post(f"{V3}/vms/list", json={"kind": "vm", "offset": offset, "length": page})
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["entities"]
        offset += len(body["entities"])
        if offset >= body["metadata"]["total_matches"] or not body["entities"]:
            return out


def reference(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))
