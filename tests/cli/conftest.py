"""Fixtures of the console-script tests: ``cli`` (the session sandbox) and ``cli_for`` (another sandbox)."""

import pytest
from cli_helpers import cli_env, runner


@pytest.fixture
def cli(sandbox, tmp_path):
    """``cli(*args, code=0)``: ``python -m polygon ARGS`` against the session sandbox, a fresh cache."""
    return runner(cli_env(sandbox, tmp_path), tmp_path)


@pytest.fixture
def cli_for(tmp_path):
    """``cli_for(sb, **env)``: a ``cli`` runner against another sandbox (from ``make_sandbox``)."""
    return lambda sb, **extra: runner(cli_env(sb, tmp_path, **extra), tmp_path)
