import io

import pytest


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    """Default farm and lab state go under tmp_path, never the user's folders."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def lab_args(tmp_path):
    return ["--farm", str(tmp_path / "lab-farm.sqlite"), "--lab", "--lab-speed", "50",
            "--lab-state", str(tmp_path / "lab-state")]


@pytest.fixture
def stdin(monkeypatch):
    def feed(text):
        monkeypatch.setattr("sys.stdin", io.StringIO(text))
    feed("")
    return feed


@pytest.fixture
def lab_prism_faults(tmp_path):
    """Set a fault of the --lab run's Prism (persisted in its state folder) between vdictl commands."""
    from console.lab.prism import PrismLab

    def set_fault(name, fault):
        PrismLab(tmp_path / "lab-state").set_fault(name, fault)
    return set_fault
