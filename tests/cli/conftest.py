import io

import pytest

from console.lab import Lab


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    """Default farm and lab state go under tmp_path, never the user's folders."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def lab_args(tmp_path):
    return ["--farm", str(tmp_path / "lab-farm.sqlite"), "--lab", "--lab-speed", "50",
            "--lab-state", str(tmp_path / "lab-state")]


@pytest.fixture
def lab_world(tmp_path):
    lab = Lab(tmp_path / "own-lab", speed=50)
    hosts = lab.start()
    yield lab, hosts
    lab.stop()


@pytest.fixture
def stdin(monkeypatch):
    def feed(text):
        monkeypatch.setattr("sys.stdin", io.StringIO(text))
    feed("")
    return feed


@pytest.fixture
def prism(tmp_path):
    """A Prism lab of its own (HTTPS on loopback), for adding Nutanix providers by hand."""
    from console.lab.prism import PrismLab
    lab = PrismLab(tmp_path / "own-prism", speed=50)
    lab.start()
    yield lab
    lab.stop()


@pytest.fixture
def lab_prism_faults(tmp_path):
    """Set a fault of the --lab run's Prism (persisted in its state folder) between vdictl commands."""
    from console.lab.prism import PrismLab

    def set_fault(name, fault):
        PrismLab(tmp_path / "lab-state").set_fault(name, fault)
    return set_fault
