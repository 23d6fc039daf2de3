"""The endpoints' TLS certificates (kept across restarts, replaced or expired by the faults) and HTTP
Basic authentication, including the ``x-ntnx-env`` header that tells Prism Element from Prism Central."""
from __future__ import annotations

import datetime as dt
import re
import socket
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from prismkit import V2, V3, client, trusting

from console.lab.prism import PrismLab, fingerprint_of


def served_der(url: str) -> bytes:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE      # only to read what is served
    with socket.create_connection((host, int(port)), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
        return tls.getpeercert(binary_form=True)


def test_fingerprint_is_the_sha256_of_the_served_certificate(prism):
    for ep in prism.endpoints:
        assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", ep.fingerprint)
        assert fingerprint_of(served_der(ep.url)) == ep.fingerprint
    pe, pc = prism.endpoints
    assert pe.fingerprint != pc.fingerprint and pe.port != pc.port
    assert (pe.kind, pc.kind) == ("nutanix-pe", "nutanix-pc") and pe.address == "127.0.0.1"


def test_certificate_names_loopback_and_verifies_as_trusted_bundle(prism):
    ep = prism.endpoint("NTNX-PE-01")
    cert = x509.load_pem_x509_certificate(prism.cert_pem(ep.name).encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    with httpx.Client(verify=trusting(prism, ep.name), auth=(ep.username, ep.password)) as c:
        assert c.get(f"https://localhost:{ep.port}{V2}/cluster/").status_code == 200
    with httpx.Client(verify=True) as c, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        c.get(f"{ep.url}{V2}/cluster/")


def test_certificate_is_kept_across_restarts(tmp_path):
    first = PrismLab(tmp_path, speed=100)
    before = {p.name: p.fingerprint for p in first.start()}
    first.stop()
    second = PrismLab(tmp_path, speed=100)
    try:
        after = {p.name: p.fingerprint for p in second.start()}
        assert after == before
        assert fingerprint_of(served_der(second.endpoint("NTNX-PC-01").url)) == before["NTNX-PC-01"]
    finally:
        second.stop()


def test_cert_replaced_serves_a_new_certificate_that_stays(prism):
    name = "NTNX-PE-01"
    old = prism.endpoint(name)
    old_trust = trusting(prism, name)
    prism.set_fault(name, "cert-replaced")
    new = prism.endpoint(name)
    assert new.fingerprint != old.fingerprint and new.url == old.url
    assert fingerprint_of(served_der(new.url)) == new.fingerprint
    with httpx.Client(verify=old_trust) as c, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        c.get(f"{new.url}{V2}/cluster/")
    prism.set_fault(name, None)                       # a renewal is not undone by clearing the switch
    assert prism.endpoint(name).fingerprint == new.fingerprint
    with client(prism, name) as c:
        assert c.get(f"{V2}/cluster/").status_code == 200


def test_cert_expired_serves_a_certificate_past_its_validity(prism):
    name = "NTNX-PC-01"
    good = prism.endpoint(name).fingerprint
    prism.set_fault(name, "cert-expired")
    served = x509.load_der_x509_certificate(served_der(prism.endpoint(name).url))
    assert served.not_valid_after_utc < dt.datetime.now(dt.UTC)
    assert fingerprint_of(served.public_bytes(Encoding.DER)) == prism.endpoint(name).fingerprint != good
    with client(prism, name) as c, pytest.raises(httpx.ConnectError, match="expired"):
        c.post(f"{V3}/clusters/list", json={"kind": "cluster"})
    prism.set_fault(name, None)
    assert prism.endpoint(name).fingerprint == good
    assert fingerprint_of(served_der(prism.endpoint(name).url)) == good


def test_users_me_names_the_kind_of_endpoint(prism):
    for name, env in (("NTNX-PE-01", "pe"), ("NTNX-PC-01", "pc")):
        with client(prism, name) as c:
            r = c.get(f"{V3}/users/me")
            assert r.status_code == 200 and r.headers["x-ntnx-env"] == env
            body = r.json()
            assert body["status"]["name"] == "admin" and body["metadata"]["kind"] == "user"
            assert "x-ntnx-env" not in c.post(f"{V3}/clusters/list", json={}).headers


@pytest.mark.parametrize("auth", [("admin", "wrong"), ("Admin", "Nutanix/4u-Lab"), None])
def test_wrong_credentials_get_a_prism_like_401(prism, auth):
    with client(prism, "NTNX-PC-01", auth=auth) as c:
        r = c.post(f"{V3}/vms/list", json={"kind": "vm"})
        assert r.status_code == 401 and "Basic" in r.headers["www-authenticate"]
        assert r.json()["message_list"][0]["reason"] == "AUTHENTICATION_REQUIRED"
        assert "user name or password" in r.json()["message_list"][0]["message"]
    with client(prism, "NTNX-PE-01", auth=auth) as c:
        r = c.get(f"{V2}/vms/")
        assert r.status_code == 401 and "Authentication required" in r.json()["message"]


def test_auth_fault_refuses_the_right_password_until_cleared(prism):
    with client(prism, "NTNX-PE-01") as c:
        prism.set_fault("NTNX-PE-01", "auth")
        assert c.get(f"{V2}/cluster/").status_code == 401
        assert c.get(f"{V3}/users/me").status_code == 401
        prism.set_fault("NTNX-PE-01", None)
        assert c.get(f"{V2}/cluster/").status_code == 200
    with client(prism, "NTNX-PC-01") as c:       # the other endpoint was never affected
        assert c.get(f"{V3}/users/me").status_code == 200
