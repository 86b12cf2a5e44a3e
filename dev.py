#!/usr/bin/env python3
"""Bootstrap for the README quick start: needs only python3 >= 3.9 and the package index.

    python3 dev.py demo     # create/refresh .venv, install, run the demo against the offline sandbox
    python3 dev.py test     # create/refresh .venv, install with test extras, run the full test suite

The virtualenv lives in ``.venv`` next to this file and is reinstalled only when setup.cfg changes.
Set ``POLYGON_KIT_VENV`` to use another location.
"""

import hashlib
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.environ.get("POLYGON_KIT_VENV") or os.path.join(ROOT, ".venv")
EXTRAS = {"demo": "calendar,progress", "test": "test,calendar,parquet,progress,codegen"}


def _python() -> str:
    sub = "Scripts" if os.name == "nt" else "bin"
    exe = "python.exe" if os.name == "nt" else "python"
    return os.path.join(VENV, sub, exe)


def _run(cmd: list) -> None:
    print("+ " + " ".join(cmd), flush=True)
    subprocess.check_call(cmd, cwd=ROOT)


def ensure_env(extras: str) -> str:
    """Create the venv if needed and install the project with ``extras`` when setup.cfg changed."""
    if sys.version_info < (3, 9):
        sys.exit("polygon-kit needs Python >= 3.9 (this is %s)" % sys.version.split()[0])
    py = _python()
    if not os.path.exists(py):
        print("creating virtualenv in %s" % VENV, flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except Exception as exc:  # e.g. Debian without python3-venv
            sys.exit("could not create a virtualenv (%s); install the venv module (python3-venv)" % exc)
    with open(os.path.join(ROOT, "setup.cfg"), "rb") as fh:
        digest = hashlib.sha256(fh.read() + extras.encode()).hexdigest()
    stamp = os.path.join(VENV, ".polygon-kit-installed")
    installed = open(stamp).read().split() if os.path.exists(stamp) else []
    if digest not in installed:
        quiet = ["-q"] if os.environ.get("CI") else []
        _run([py, "-m", "pip", "install", "--disable-pip-version-check"] + quiet + ["--upgrade", "pip"])
        _run([py, "-m", "pip", "install", "--disable-pip-version-check"] + quiet + ["-e", ".[%s]" % extras])
        with open(stamp, "w") as fh:
            fh.write("\n".join(installed + [digest]))
    return py


def main(argv: list) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    extras = EXTRAS["test"] if task == "test" else EXTRAS["demo"]
    py = ensure_env(extras)
    if task == "demo":
        return subprocess.call([py, "-m", "polygon", "demo"] + rest, cwd=ROOT)
    return subprocess.call([py, "-m", "pytest"] + (rest or ["-q"]), cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
