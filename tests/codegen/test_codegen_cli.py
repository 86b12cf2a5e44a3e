"""``python -m codegen`` and ``--check`` as a user (and CI) runs them: real subprocesses."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INPUT = os.path.join(ROOT, "tests", "codegen", "data", "input")


def run(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "codegen"] + list(args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_committed_generated_code_is_fresh():
    """A hand edit under polygon/_generated or a schema change without regenerating fails here."""
    result = run("--check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_check_names_stale_missing_and_extra_files(tmp_path):
    out = tmp_path / "gen"
    first = run("--schema", INPUT, "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "__init__.py", "_helpers.py", "_official_runtime.py", "_runtime.py", "client.py", "endpoints.py", "models.py",
        "official.py", "response_schemas.py", "server_messages.py", "stream.py",
    ]
    assert run("--schema", INPUT, "--out", str(out), "--check").returncode == 0

    again = run("--schema", INPUT, "--out", str(out))
    assert "0 changed" in again.stdout

    with open(out / "models.py", "a") as fh:
        fh.write("# hand edit\n")
    (out / "stream.py").unlink()
    (out / "extra.py").write_text("x = 1\n")
    result = run("--schema", INPUT, "--out", str(out), "--check")
    assert result.returncode == 1
    assert "models.py: stale" in result.stderr
    assert "stream.py: missing" in result.stderr
    assert "extra.py: extra" in result.stderr

    fixed = run("--schema", INPUT, "--out", str(out))
    assert fixed.returncode == 0 and "3 changed" in fixed.stdout
    assert not (out / "extra.py").exists()
    assert run("--schema", INPUT, "--out", str(out), "--check").returncode == 0


def test_bad_schema_exits_2_with_the_file_named(tmp_path):
    schema = tmp_path / "schema"
    (schema / "rest").mkdir(parents=True)
    (schema / "rest" / "broken.json").write_text("{not json")
    result = run("--schema", str(schema), "--out", str(tmp_path / "gen"))
    assert result.returncode == 2
    assert "broken.json" in result.stderr


@pytest.mark.parametrize("path", ["polygon/_generated", "codegen"])
def test_ruff_and_vermin_clean(path):
    bindir = os.path.dirname(sys.executable)
    ruff, vermin = os.path.join(bindir, "ruff"), os.path.join(bindir, "vermin")
    if not (os.path.exists(ruff) and os.path.exists(vermin)):
        pytest.skip("ruff/vermin not installed next to the interpreter")
    lint = subprocess.run([ruff, "check", "--no-cache", path], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    compat = subprocess.run(
        [vermin, "--target=3.9-", "--no-tips", "--violations", path],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert compat.returncode == 0, compat.stdout + compat.stderr
