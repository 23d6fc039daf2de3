"""The PyInstaller spec, its entry script and the CI script, checked without building."""
from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "vdi-console.spec"


class _Recorder:
    """Stands in for one of PyInstaller's build steps and keeps what the spec passed to it."""

    def __init__(self, calls: dict, name: str):
        self.calls, self.name = calls, name

    def __call__(self, *args, **kwargs):
        self.calls[self.name] = (args, kwargs)
        return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[])


def _collect_submodules(package: str) -> list[str]:
    # Used only when PyInstaller is not installed (it is in the `package` extra, not `test`).
    module = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        names.append(info.name)
    return names



@pytest.fixture(scope="module")
def spec_calls():
    calls: dict = {}
    namespace = {name: _Recorder(calls, name) for name in ("Analysis", "PYZ", "EXE", "COLLECT")}
    namespace["SPECPATH"] = str(SPEC.parent)
    with pytest.MonkeyPatch.context() as patch:
        if importlib.util.find_spec("PyInstaller") is None:
            # Stand-ins only for this exec; removed again so no other test sees a fake PyInstaller.
            hooks = types.ModuleType("PyInstaller.utils.hooks")
            hooks.collect_submodules = _collect_submodules
            patch.setitem(sys.modules, "PyInstaller", types.ModuleType("PyInstaller"))
            patch.setitem(sys.modules, "PyInstaller.utils", types.ModuleType("PyInstaller.utils"))
            patch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return calls


def test_spec_builds_one_folder_from_the_launch_script(spec_calls):
    (scripts,), analysis = spec_calls["Analysis"]
    assert [Path(s) for s in scripts] == [ROOT / "packaging" / "launch.py"]
    exe_kwargs = spec_calls["EXE"][1]
    assert exe_kwargs["exclude_binaries"] is True, "one folder: binaries go to COLLECT, not into the exe"
    assert exe_kwargs["name"] == spec_calls["COLLECT"][1]["name"] == "vdi-console"


def test_spec_data_sources_exist_and_land_where_the_app_looks(spec_calls):
    datas = spec_calls["Analysis"][1]["datas"]
    targets = {dest for _, dest in datas}
    assert "resources/icons" in targets  # console/ui/icons.py: sys._MEIPASS/resources/icons
    assert "console/adapters/hyperv/scripts" in targets  # next to the adapter's __file__
    for source, _ in datas:
        matches = list(Path(source).parent.glob(Path(source).name))
        assert matches, f"the spec packs {source}, which matches nothing"
    packed = {p.name for source, _ in datas for p in Path(source).parent.glob(Path(source).name)}
    scripts = {p.name for p in (ROOT / "console" / "adapters" / "hyperv" / "scripts").glob("*.ps1")}
    assert scripts and scripts <= packed, "every PowerShell script must be in the build"


def test_spec_hidden_imports_are_real_modules(spec_calls):
    hidden = spec_calls["Analysis"][1]["hiddenimports"]
    for required in ("PySide6.QtSvg", "keyring.backends.SecretService", "keyring.backends.Windows", "winrm"):
        assert required in hidden
    unknown = [name for name in hidden if importlib.util.find_spec(name) is None]
    assert not unknown, f"hidden imports that do not exist: {unknown}"


def test_spec_does_not_exclude_a_qt_module_the_console_imports(spec_calls):
    excluded = set(spec_calls["Analysis"][1]["excludes"])
    used = set()
    for source in (ROOT / "console").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("PySide6."):
                used.add(node.module)
            elif isinstance(node, ast.Import):
                used.update(a.name for a in node.names if a.name.startswith("PySide6."))
    assert not used & excluded, f"the spec excludes Qt modules the console uses: {sorted(used & excluded)}"


def test_launch_script_calls_the_console_main():
    tree = ast.parse((ROOT / "packaging" / "launch.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert any(n.module == "console.app" and [a.name for a in n.names] == ["main"] for n in imports)


def test_ci_script_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r"^(QT_QPA_PLATFORM=offscreen .*pytest.*)$", ci, re.M)
    assert command, ".ci/run must end by running pytest"
    assert command.group(1).strip() in readme, "README and .ci/run must give the same test command"
    assert "set -euo pipefail" in ci
    assert "|| true" not in ci and "--exitfirst" not in ci


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_ci_script_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
