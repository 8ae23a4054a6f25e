"""The wheel as users install it: one import name, every module, a working `ccf`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# folder in the repository -> its import name in the installed product
FOLDERS = {"ccdsl": "ccdsl", "compiler": "ccdsl/compiler", "runtime": "ccdsl/runtime",
           "cli": "ccdsl/cli", "stdlib_flows": "ccdsl/stdlib_flows"}
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, src / folder, ignore=IGNORE)
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                           "--no-build-isolation", "-w", str(dist), str(src)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (built,) = dist.glob("ccdsl-*.whl")
    return built


def test_the_wheel_has_one_top_level_import_name(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
        (info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    assert top == {"ccdsl"}
    assert "ccf = ccdsl.cli.main:main" in entry_points


def shipped_files() -> set[str]:
    """The files of the tree's shipped folders, named as the wheel names them."""
    wanted = set()
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                wanted.add(f"{package}/{path.relative_to(ROOT / folder).as_posix()}")
    return wanted


def test_the_wheel_carries_exactly_the_files_of_the_shipped_folders(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = {n for n in zf.namelist() if ".dist-info/" not in n}
    wanted = shipped_files()
    assert not wanted - names, f"missing from the wheel: {sorted(wanted - names)}"
    assert not names - wanted, f"in the wheel but not in the tree: {sorted(names - wanted)}"


def test_no_test_double_ships_in_the_wheel(wheel: Path) -> None:
    doubles = {p.name for p in (ROOT / "tests" / "doubles").glob("*.py")} - {"__init__.py"}
    assert {"ami_server.py", "transcript.py"} <= doubles
    with zipfile.ZipFile(wheel) as zf:
        shipped = {Path(n).name for n in zf.namelist()}
    assert not doubles & shipped, f"test doubles in the wheel: {sorted(doubles & shipped)}"


def test_ccf_validate_runs_from_a_plain_install(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--target", str(site), str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    # run outside the repository, so nothing is found through the work tree
    where = subprocess.run([sys.executable, "-c", "import ccdsl.cli.main as m; print(m.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr
    shutil.copytree(ROOT / "examples" / "iws", tmp_path / "iws")
    ccf = site / "bin" / "ccf"
    result = subprocess.run([str(ccf), "validate", str(tmp_path / "iws")],
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no errors or warnings in" in result.stdout
    broken = tmp_path / "broken.ccf"
    broken.write_text("flow {\n", encoding="utf-8")
    bad = subprocess.run([str(ccf), "validate", str(broken)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "error[E001]" in bad.stdout and "Traceback" not in bad.stdout + bad.stderr
