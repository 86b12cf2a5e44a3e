"""Packaging metadata a first install depends on: requirements.txt, the SPDX licence, package data."""

import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _setup_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def _lines(text: str):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _pyproject():
    try:
        import tomllib  # novermin (3.11+; tomli below for older Pythons)
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml needs tomllib (3.11+) or tomli")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


def test_requirements_txt_matches_install_requires():
    """The guide's ``pip install -r requirements.txt`` installs exactly what ``pip install .`` does."""
    declared = _lines(_setup_cfg()["options"]["install_requires"])
    listed = _lines((ROOT / "requirements.txt").read_text())
    assert listed == declared, "requirements.txt and setup.cfg install_requires differ: update requirements.txt"


def test_metadata_has_spdx_licence_and_no_licence_classifier():
    project = _pyproject()["project"]
    assert project["license"] == "MIT"  # an SPDX expression, not a table
    assert project["license-files"] == ["LICENSE"] and (ROOT / "LICENSE").is_file()
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    assert not _setup_cfg().has_section("metadata"), "metadata belongs in pyproject.toml only"
    assert project["scripts"]["polygon"] == "polygon.cli:main"


def test_static_files_are_package_data():
    """Every static file ships: ``polygon_server/static/*`` does not recurse, so static/ stays flat, and
    include-package-data is off (else setuptools warns that static/ is an unlisted package)."""
    patterns = [p.strip() for p in _setup_cfg()["options.package_data"]["polygon"].split(",")]
    assert "polygon_server/static/*" in patterns
    static = ROOT / "polygon" / "polygon_server" / "static"
    assert [p.name for p in static.iterdir() if p.is_dir()] == []
    assert {"dashboard.html", "favicon.svg"} <= {p.name for p in static.iterdir()}
    assert _pyproject()["tool"]["setuptools"]["include-package-data"] is False


def test_docs_stand_alone():
    """No document points outside the repository (``../shared`` is not part of a clone)."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").glob("*.md"))]
    offenders = [str(p.relative_to(ROOT)) for p in docs if re.search(r"\.\./shared|/work/", p.read_text())]
    assert offenders == []
