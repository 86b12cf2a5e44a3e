"""constraints.txt: the versions the suite was last green with, which dev.py and .ci/run install.

A fresh machine must install what was tested (moto 5.2.6, resolved freely one morning, turned every flat-file
test red); these checks keep the file complete and in use.
"""

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if not spec:
            continue
        requirement, _, marker = spec.partition(";")
        name, sep, version = requirement.partition("==")
        assert sep and version.strip(), "constraints.txt pins exact versions (name==version): %r" % line
        assert not marker or "python_version" in marker, "only python_version markers: %r" % line
        pins[_norm(name)] = version.strip()
    return pins


def _declared() -> set:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    texts = [cfg["options"]["install_requires"]] + [cfg["options.extras_require"][k]
                                                   for k in cfg["options.extras_require"]]
    names = set()
    for text in texts:
        for line in text.splitlines():
            match = NAME.match(line)
            if match:
                names.add(_norm(match.group(1)))
    return names


def test_every_declared_dependency_is_pinned():
    missing = sorted(_declared() - set(_pins()))
    assert not missing, "setup.cfg names %s but constraints.txt pins no version: run `python3 dev.py pin`" % missing


def test_the_pinned_versions_are_the_installed_ones():
    """The suite runs on what constraints.txt says (dev.py installs with -c); a drift means an unpinned run.

    ``POLYGON_KIT_UNPINNED`` names packages a run changes on purpose: tox's pandas matrix sets
    ``pandas numpy pyarrow``, ``dev.py test --latest`` sets ``*``.
    """
    import os
    from importlib import metadata

    unpinned = set(os.environ.get("POLYGON_KIT_UNPINNED", "").split())
    drift = []
    for name in sorted(_declared()):
        if "*" in unpinned or name in unpinned:
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # an extra this environment did not install (tox envs, the demo)
        pinned = _pins().get(name)
        if pinned is not None and pinned != installed:
            drift.append("%s %s (pinned %s)" % (name, installed, pinned))
    assert not drift, "installed versions differ from constraints.txt: %s" % "; ".join(drift)


def test_dev_py_and_ci_install_with_the_constraints():
    dev = (ROOT / "dev.py").read_text()
    assert '"-c", CONSTRAINTS' in dev and 'os.path.join(ROOT, "constraints.txt")' in dev
    assert "dev.py test" in (ROOT / ".ci" / "run").read_text()
