#!/usr/bin/env python3
"""Bootstrap for the README quick start: needs only python3 >= 3.9 and the package index.

    python3 dev.py demo             # create/refresh .venv, install, run the demo against the offline sandbox
    python3 dev.py test             # create/refresh .venv, install with test extras, run the full test suite
    python3 dev.py test --latest    # the same suite against the newest releases (in .venv-latest)
    python3 dev.py pin              # after a green run: write constraints.txt from .venv's versions

Installs are pinned by ``constraints.txt``: the exact versions the suite was last green with, so a fresh
machine installs what was tested. ``--latest`` installs without it and says which versions differ, to
see what tomorrow's fresh machine will get. The virtualenv lives in ``.venv`` next to this file and is
reinstalled only when setup.cfg, pyproject.toml or constraints.txt changes. Set ``POLYGON_KIT_VENV`` to use
another location, ``POLYGON_KIT_VERBOSE=1`` to see pip's full output.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.environ.get("POLYGON_KIT_VENV") or os.path.join(ROOT, ".venv")
CONSTRAINTS = os.path.join(ROOT, "constraints.txt")
EXTRAS = {"demo": "calendar,progress", "test": "test,calendar,parquet,progress,codegen"}


def _python(venv_dir: str = VENV) -> str:
    sub = "Scripts" if os.name == "nt" else "bin"
    exe = "python.exe" if os.name == "nt" else "python"
    return os.path.join(venv_dir, sub, exe)


def _run(cmd: list) -> None:
    env = dict(os.environ)
    # setuptools' notice that an editable install maps the package folder (it is the point of one)
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), "ignore:Editable installation"]))
    if os.environ.get("POLYGON_KIT_VERBOSE"):
        print("+ " + " ".join(cmd), flush=True)
    subprocess.check_call(cmd, cwd=ROOT, env=env)


def ensure_env(extras: str, venv_dir: str = VENV, latest: bool = False) -> str:
    """Create the venv if needed and install the project with ``extras`` when its metadata changed.

    Versions come from ``constraints.txt`` unless ``latest`` (then the newest releases, upgraded).
    """
    if sys.version_info < (3, 9):
        sys.exit("polygon-kit needs Python >= 3.9 (this is %s)" % sys.version.split()[0])
    py = _python(venv_dir)
    if not os.path.exists(py):
        print("creating virtualenv in %s" % venv_dir, flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(venv_dir)
        except Exception as exc:  # e.g. Debian without python3-venv
            sys.exit("could not create a virtualenv (%s); install the venv module (python3-venv)" % exc)
    digest = hashlib.sha256(extras.encode())
    names = ("setup.cfg", "pyproject.toml") + (() if latest else ("constraints.txt",))
    for name in names:
        path = os.path.join(ROOT, name)
        if os.path.exists(path):
            with open(path, "rb") as fh:
                digest.update(fh.read())
    digest = digest.hexdigest()
    stamp = os.path.join(venv_dir, ".polygon-kit-installed")
    installed = open(stamp).read().split() if os.path.exists(stamp) else []
    if latest or digest not in installed:
        quiet = [] if os.environ.get("POLYGON_KIT_VERBOSE") else ["-q"]
        pins = ["--upgrade", "--upgrade-strategy", "eager"] if latest else _constraints()
        print("installing polygon-kit[%s] and its dependencies into %s (%s; about a minute)"
              % (extras, venv_dir, "newest releases" if latest else "tested versions, constraints.txt"), flush=True)
        _run([py, "-m", "pip", "install", "--disable-pip-version-check"] + quiet + ["--upgrade", "pip"])
        _run([py, "-m", "pip", "install", "--disable-pip-version-check"] + quiet + pins
             + ["-e", ".[%s]" % extras])
        with open(stamp, "w") as fh:
            fh.write("\n".join(installed + [digest]))
    return py


def _constraints() -> list:
    return ["-c", CONSTRAINTS] if os.path.exists(CONSTRAINTS) else []


def _frozen(py: str) -> dict:
    """``{normalised name: version}`` of what ``py``'s environment has installed (the project excluded)."""
    out = subprocess.run([py, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check",
                          "--exclude-editable"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    pins = {}
    for line in out.splitlines():
        name, sep, version = line.partition("==")
        if sep and name.lower().replace("_", "-") not in ("polygon-kit", "pip", "setuptools", "wheel"):
            pins[name.lower().replace("_", "-")] = version
    return pins


def _pinned() -> dict:
    pins = {}
    if os.path.exists(CONSTRAINTS):
        for line in open(CONSTRAINTS):
            line = line.split("#", 1)[0].split(";", 1)[0].strip()
            name, sep, version = line.partition("==")
            if sep:
                pins[name.strip().lower()] = version.strip()
    return pins


def report_drift(py: str) -> None:
    """Print the packages whose installed version differs from constraints.txt."""
    pinned, now = _pinned(), _frozen(py)
    drift = ["%s %s -> %s" % (n, pinned.get(n, "(not pinned)"), v) for n, v in sorted(now.items())
             if pinned.get(n) != v]
    print("versions newer than constraints.txt: %s" % ("; ".join(drift) if drift else "none"), flush=True)


def pin() -> int:
    """Write constraints.txt from .venv (run after a green ``dev.py test``)."""
    py = _python()
    if not os.path.exists(py):
        print("no %s yet: run python3 dev.py test first" % VENV)
        return 2
    tag = "%d.%d" % sys.version_info[:2]
    lines = ["# The exact versions `python3 dev.py test` was last green with (written by `python3 dev.py pin`).",
             "# dev.py and .ci/run install with `-c constraints.txt`; `python3 dev.py test --latest` tries the newest.",
             "# Pinned for the Python the suite ran on; other Pythons resolve freely within setup.cfg's ranges."]
    lines += ['%s==%s; python_version == "%s"' % (n, v, tag) for n, v in sorted(_frozen(py).items())]
    with open(CONSTRAINTS, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote %s (%d pins, Python %s)" % (CONSTRAINTS, len(lines) - 3, tag))
    return 0


def main(argv: list) -> int:
    if not argv or argv[0] not in ("demo", "test", "pin"):
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    if task == "pin":
        return pin()
    latest = "--latest" in rest
    rest = [a for a in rest if a != "--latest"]
    extras = EXTRAS["test"] if task == "test" else EXTRAS["demo"]
    py = ensure_env(extras, VENV + "-latest" if latest else VENV, latest)
    if latest:
        report_drift(py)
    if task == "demo":
        return subprocess.call([py, "-m", "polygon", "demo"] + rest, cwd=ROOT)
    if not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        print("note: no chromium found: the dashboard's browser test will skip (Debian: apt-get install chromium)",
              flush=True)
    env = dict(os.environ)
    if latest:
        env["POLYGON_KIT_UNPINNED"] = "*"  # tests/base/test_constraints.py: newer than the pins on purpose
    return subprocess.call([py, "-m", "pytest"] + (rest or ["-q"]), cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
