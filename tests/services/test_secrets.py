import logging

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked

from console.secrets import MEMORY_BACKEND_NAME, SecretStore


class DictKeyring(KeyringBackend):
    """A real keyring backend class kept in a dict: the persistent path without a desktop."""

    priority = 5
    name = "Test dict keyring"

    def __init__(self):
        super().__init__()
        self.data = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        del self.data[(service, username)]


class LockedKeyring(DictKeyring):
    def get_password(self, service, username):
        raise KeyringLocked("locked")


class BrokenSecretService(DictKeyring):
    def get_password(self, service, username):
        raise RuntimeError("no D-Bus session")


def test_null_keyring_falls_back_to_session_memory():
    store = SecretStore()    # the test environment forces keyring.backends.null.Keyring
    assert not store.persistent
    assert store.backend_name == MEMORY_BACKEND_NAME
    assert store.get("provider:1") is None
    store.set("provider:1", "s3cret")
    assert store.get("provider:1") == "s3cret"
    assert SecretStore().get("provider:1") is None      # nothing outlives the session
    store.delete("provider:1")
    assert store.get("provider:1") is None


def test_usable_keyring_is_persistent():
    backend = DictKeyring()
    store = SecretStore(backend=backend)
    assert store.persistent and store.backend_name == "Test dict keyring"
    store.set("provider:7", "pw")
    assert backend.data == {("vdi-console", "provider:7"): "pw"}
    assert SecretStore(backend=backend).get("provider:7") == "pw"   # a later session reads it
    store.set("provider:8", "lab-pw", persist=False)
    assert store.get("provider:8") == "lab-pw" and ("vdi-console", "provider:8") not in backend.data
    store.delete("provider:7")
    assert backend.data == {}
    store.delete("provider:7")      # deleting what is gone is fine


@pytest.mark.parametrize("backend", [LockedKeyring(), BrokenSecretService()])
def test_keyring_failing_its_probe_falls_back(backend):
    store = SecretStore(backend=backend)
    assert not store.persistent and store.backend_name == MEMORY_BACKEND_NAME
    store.set("k", "v")
    assert store.get("k") == "v"


def test_low_priority_backend_is_not_used():
    backend = DictKeyring()
    backend.priority = 0.5
    assert not SecretStore(backend=backend).persistent


def test_write_failure_after_start_keeps_secret_in_memory_and_never_logs_it(caplog):
    class LocksLater(DictKeyring):
        def set_password(self, service, username, password):
            raise KeyringLocked("locked now")
    caplog.set_level(logging.DEBUG)
    store = SecretStore(backend=LocksLater())
    store.set("provider:3", "TopSecretValue")
    assert store.get("provider:3") == "TopSecretValue"
    assert "TopSecretValue" not in caplog.text
    assert "provider:3" in caplog.text
