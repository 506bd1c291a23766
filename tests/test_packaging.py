"""The wheel carries the SQL and the templates, and an installed copy finds them.

An editable install or a checkout would find ``sql/`` beside the package and
prove nothing, so the wheel is built, its contents are read with zipfile, and
it is installed into a fresh venv (with the machine's site-packages for the
dependencies, ``--no-deps --no-index`` so nothing is downloaded for it) and run
from another folder.
"""

from __future__ import annotations

import configparser
import importlib.util
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import lgs_reports

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), "."]
    if importlib.util.find_spec("hatchling") is not None:
        command.insert(-1, "--no-build-isolation")  # else pip fetches the build backend
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, timeout=300)
    (built,) = out.glob("lgs_reports-*.whl")
    return built


def test_the_wheel_carries_sql_templates_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    sql = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "sql").rglob("*.sql"))
    for folder in ("sql/schema/", "sql/load/", "sql/warehouse/"):  # subfolders too
        assert any(name.startswith(folder) for name in sql), folder
    for statement in sql:
        assert f"lgs_reports/{statement}" in names
    templates = sorted(
        p.relative_to(REPO).as_posix() for p in (REPO / "templates").rglob("*") if p.is_file()
    )
    assert templates, "templates/ is empty"
    for template in templates:
        assert f"lgs_reports/{template}" in names
    assert not any(n.startswith(("tests/", "sql/", "templates/")) for n in names)
    parser = configparser.ConfigParser()
    parser.read_string(entry_points)
    assert parser["console_scripts"]["lgs-reports"] == "lgs_reports.cli:main"
    assert wheel.name.startswith(f"lgs_reports-{lgs_reports.__version__}-")


def test_the_installed_wheel_finds_its_files(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -I: no current folder or user site on sys.path, no PYTHON* variables
    found = subprocess.run(
        [
            str(python),
            "-I",
            "-c",
            "import lgs_reports; from lgs_reports.resources import resource_dir; "
            "print(resource_dir('sql')); print(resource_dir('templates')); "
            "print(lgs_reports.__file__)",
        ],
        cwd=elsewhere,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split()
    sql, templates, package = (Path(p) for p in found)
    for path in (sql, templates, package):
        assert path.is_relative_to(env_dir), f"{path} is not in the venv: the checkout leaked"
    assert (sql / "schema" / "tables.sql").is_file()
    assert (sql / "load" / "register_load.sql").is_file()
    assert (sql / "warehouse" / "table_exists.sql").is_file()
    version = subprocess.run(
        [str(env_dir / "bin" / "lgs-reports"), "--version"],
        cwd=elsewhere,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.stdout == f"lgs-reports {lgs_reports.__version__}\n"
