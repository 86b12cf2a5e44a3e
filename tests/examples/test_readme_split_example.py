"""README's sandbox-clock split example prints what the sandbox gives (issue 21: it printed 43.02 where the
sandbox's adjusted bars were 430.2, and carried float noise)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _block():
    text = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if 'sb.configure(clock="2024-06-07' in b]
    assert len(blocks) == 1, "README's split example is gone or doubled"
    return blocks[0]


def test_readme_split_example_prints_the_sandboxs_values(make_sandbox, tmp_path, monkeypatch):
    sb = make_sandbox()
    monkeypatch.setenv("POLYGON_API_KEY", sb.api_key)
    monkeypatch.setenv("POLYGON_BASE_URL", sb.base_url)
    monkeypatch.setenv("POLYGON_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("POLYGON_CONFIG_FILE", str(tmp_path / "none.ini"))
    lines = _block().splitlines()
    namespace = {"sb": sb}
    checked = 0
    for i, line in enumerate(lines):
        code = line.split("#", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
        if not code:
            continue
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if following.startswith("# ["):
            expected = ast.literal_eval(following[2:].split("#", 1)[0].strip())
            got = eval(code, namespace)  # noqa: S307 (the README's own line)
            assert got == expected, (code, got, expected)
            checked += 1
        else:
            exec(code, namespace)  # noqa: S102
    assert checked == 2
