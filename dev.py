#!/usr/bin/env python3
"""Bootstrap for the README quick start: needs only python3 >= 3.9 and the package index.

    python3 dev.py demo     # create/refresh .venv, install, run the demo against the offline sandbox
    python3 dev.py test     # create/refresh .venv, install with test extras, run the full test suite

The virtualenv lives in ``.venv`` next to this file and is reinstalled only when setup.cfg or pyproject.toml
changes. Set ``POLYGON_KIT_VENV`` to use another location, ``POLYGON_KIT_VERBOSE=1`` to see pip's full output.
"""

import hashlib
import os
import shutil
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
    env = dict(os.environ)
    # setuptools' notice that an editable install maps the package folder (it is the point of one)
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), "ignore:Editable installation"]))
    if os.environ.get("POLYGON_KIT_VERBOSE"):
        print("+ " + " ".join(cmd), flush=True)
    subprocess.check_call(cmd, cwd=ROOT, env=env)


def ensure_env(extras: str) -> str:
    """Create the venv if needed and install the project with ``extras`` when its metadata changed."""
    if sys.version_info < (3, 9):
        sys.exit("polygon-kit needs Python >= 3.9 (this is %s)" % sys.version.split()[0])
    py = _python()
    if not os.path.exists(py):
        print("creating virtualenv in %s" % VENV, flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except Exception as exc:  # e.g. Debian without python3-venv
            sys.exit("could not create a virtualenv (%s); install the venv module (python3-venv)" % exc)
    digest = hashlib.sha256(extras.encode())
    for name in ("setup.cfg", "pyproject.toml"):
        with open(os.path.join(ROOT, name), "rb") as fh:
            digest.update(fh.read())
    digest = digest.hexdigest()
    stamp = os.path.join(VENV, ".polygon-kit-installed")
    installed = open(stamp).read().split() if os.path.exists(stamp) else []
    if digest not in installed:
        quiet = [] if os.environ.get("POLYGON_KIT_VERBOSE") else ["-q"]
        print("installing polygon-kit[%s] and its dependencies into %s (once; about a minute)" % (extras, VENV),
              flush=True)
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
    if not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        print("note: no chromium found: the dashboard's browser test will skip (Debian: apt-get install chromium)",
              flush=True)
    return subprocess.call([py, "-m", "pytest"] + (rest or ["-q"]), cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
