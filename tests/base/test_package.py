import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, **kw):
    return subprocess.run([sys.executable] + list(args), cwd=ROOT, capture_output=True, text=True, timeout=120, **kw)


def test_import_polygon_is_light():
    code = (
        "import sys, polygon\n"
        "heavy = [m for m in ('requests', 'jsonschema', 'werkzeug', 'websocket', 'pyarrow', 'exchange_calendars',"
        " 'jinja2', 'simple_websocket', 'tqdm') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = _run("-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_cli_version_and_help():
    out = _run("-m", "polygon", "--version")
    assert out.returncode == 0 and "polygon-kit" in out.stdout
    out = _run("-m", "polygon", "--help")
    assert out.returncode == 0
    for word in ("endpoints", "sandbox", "demo", "fetch", "cache", "validate"):
        assert word in out.stdout


def test_cli_bad_timeframe_is_clear_error(tmp_path):
    env = {"POLYGON_API_KEY": "x", "POLYGON_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = _run("-m", "polygon", "fetch", "AAPL", "3fortnights", env=env)
    assert out.returncode == 2
    assert "invalid timeframe" in out.stderr and "Traceback" not in out.stderr


def test_python39_syntax_everywhere():
    import pytest

    vermin = Path(sys.executable).with_name("vermin")
    if not vermin.exists():
        pytest.skip("vermin not installed")
    out = subprocess.run(
        [str(vermin), "--target=3.9-", "--no-tips", "--violations", "--eval-annotations", "polygon", "codegen",
         "bench", "examples", "tests", "dev.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_clean_everywhere():
    import pytest

    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff not installed")
    out = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_every_public_name_resolves():
    import polygon

    for name in polygon.__all__:
        assert getattr(polygon, name) is not None, name
