"""Refresh the corpus of the provider's recorded responses (run by hand; the tests read only what it wrote).

    python tests/recorded/collect.py --client-repo PATH/client-python.git [--openapi-dir schema/provider]

Sources (both MIT, see NOTICE.md):

* the official client's repository: ``test_rest/mocks/**`` (REST bodies the client's tests replay) and the
  frames of ``test_websocket/mock_server.py``; ``--client-repo`` is a git directory (bare is fine), read at HEAD;
* the provider's API documents ``rest.json`` / ``websocket.json``: the ``example`` of every 200
  ``application/json`` response.

Each REST body lands in ``rest/<endpoint>/<name>.json`` (the endpoint is the python method name of schema/rest,
found by matching the request path against the endpoint table), each stream example in
``stream/<market>/<ev>/<name>.json`` (a list of wire events: one frame). ``SOURCES.json`` maps every file to its
source repository, commit, path, licence and the request it answers. Files are written only when their content
changed, so a refresh shows up as a plain diff.
"""

import argparse
import ast
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLIENT_REPO = "massive-com/client-python"
#: websocket.json path prefix -> market (``/business/crypto/FMV`` -> crypto)
_MARKETS = ("stocks", "options", "forex", "crypto", "indices")


def _git(repo, *args):
    return subprocess.run(["git", "-C", repo] + list(args), check=True, capture_output=True, text=True).stdout


def _templates():
    """[(compiled regex of a provider path, endpoint name)] for every path and variant of the endpoint table."""
    sys.path.insert(0, ROOT)
    from polygon._generated.endpoints import ENDPOINTS

    out = []
    for name, spec in sorted(ENDPOINTS.items()):
        for path in (spec.path,) + tuple(spec.variants or ()):
            pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path))
            out.append((re.compile("^%s$" % pattern), path, name))
    # literal segments first: /v3/snapshot/options/{a}/{b} must not be taken for a longer template
    return sorted(out, key=lambda item: (item[1].count("{"), -len(item[1])))


def endpoint_of(path, templates):
    for regex, template, name in templates:
        if regex.match(path):
            return name, template
    return None, None


def _write(rel, data, sources, meta):
    full = os.path.join(HERE, rel)
    text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    os.makedirs(os.path.dirname(full), exist_ok=True)
    old = open(full, encoding="utf-8").read() if os.path.exists(full) else None
    if old != text:
        with open(full, "w", encoding="utf-8") as fh:
            fh.write(text)
    sources[rel] = meta


def _safe(text):
    return re.sub(r"[^0-9A-Za-z.=_-]+", "_", text).strip("_")[:120] or "body"


def collect_client(repo, templates, sources):
    commit = _git(repo, "rev-parse", "HEAD").strip()
    files = [f for f in _git(repo, "ls-tree", "-r", "--name-only", "HEAD", "test_rest/mocks").splitlines()
             if f.endswith(".json")]
    unmatched = []
    for name in files:
        rel = name[len("test_rest/mocks"):-len(".json")]
        path, _, query = rel.partition("&")
        path = path.replace(";", ":")
        if path.endswith("/index"):  # the mock of a path that is also a folder
            path = path[:-len("/index")]
        endpoint, template = endpoint_of(path, templates)
        if endpoint is None:
            unmatched.append(name)
            continue
        body = json.loads(_git(repo, "show", "HEAD:" + name))
        query = urllib.parse.unquote(query)
        tail = query if len(query) <= 40 else "q" + hashlib.sha1(query.encode()).hexdigest()[:10]
        label = _safe("client-" + path.strip("/").replace("/", "-") + ("-" + tail if query else ""))
        _write("rest/%s/%s.json" % (endpoint, label), body, sources, {
            "source": CLIENT_REPO, "commit": commit, "path": name, "licence": "MIT", "endpoint": endpoint,
            "template": template, "request": path + ("?" + query if query else "")})
    frames = _mock_server_frames(_git(repo, "show", "HEAD:test_websocket/mock_server.py"))
    for i, frame in enumerate(frames):
        ev = frame[0]["ev"]
        _write("stream/stocks/%s/client-mock-server-%d.json" % (ev, i + 1), frame, sources, {
            "source": CLIENT_REPO, "commit": commit, "path": "test_websocket/mock_server.py", "licence": "MIT",
            "market": "stocks", "ev": ev})
    return unmatched


def _mock_server_frames(source):
    """The literal event lists the official client's mock socket server sends (status messages left out)."""
    frames = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.List) and node.elts and all(isinstance(e, ast.Dict) for e in node.elts):
            try:
                frame = ast.literal_eval(node)
            except ValueError:
                continue
            if all(isinstance(e, dict) and e.get("ev") not in (None, "status") for e in frame):
                frames.append(frame)
    return frames


def collect_documents(directory, templates, sources):
    unmatched = []
    with open(os.path.join(directory, "rest.json"), encoding="utf-8") as fh:
        rest = json.load(fh)
    for path, ops in sorted(rest["paths"].items()):
        op = ops.get("get") or {}
        content = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        example = content.get("example", content.get("schema", {}).get("example"))
        if example is None:
            continue
        endpoint, template = endpoint_of(path, templates)
        if endpoint is None:
            unmatched.append(path)
            continue
        label = _safe("doc-" + path.strip("/").replace("{", "").replace("}", "").replace("/", "-"))
        _write("rest/%s/%s.json" % (endpoint, label), example, sources, {
            "source": CLIENT_REPO, "document": "rest.json (.massive/rest.json)", "licence": "MIT",
            "endpoint": endpoint, "template": template,
            "pointer": "/paths/%s/get/responses/200/content/application~1json/example" % path.replace("/", "~1")})
    with open(os.path.join(directory, "websocket.json"), encoding="utf-8") as fh:
        ws = json.load(fh)
    for path, ops in sorted(ws["paths"].items()):
        example = ops.get("get", {}).get("responses", {}).get("200", {}).get("content", {}).get(
            "application/json", {}).get("example")
        if example is None:
            continue
        parts = path.strip("/").split("/")
        market = next(p for p in parts if p in _MARKETS)
        ev = example["ev"] if isinstance(example, dict) else example[0]["ev"]
        feed = parts[0] if parts[0] not in _MARKETS else "realtime"
        frame = example if isinstance(example, list) else [example]
        _write("stream/%s/%s/doc-%s-%s.json" % (market, ev, feed, parts[-1]), frame, sources, {
            "source": CLIENT_REPO, "document": "websocket.json (.massive/websocket.json)", "licence": "MIT",
            "market": market, "ev": ev,
            "pointer": "/paths/%s/get/responses/200/content/application~1json/example" % path.replace("/", "~1")})
    return unmatched


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client-repo", required=True, help="git dir of %s" % CLIENT_REPO)
    parser.add_argument("--openapi-dir", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "schema",
                                                             "provider"),
                        help="folder with rest.json and websocket.json (default: the pinned snapshot, schema/provider)")
    args = parser.parse_args(argv)
    templates = _templates()
    sources = {}
    unmatched = collect_client(args.client_repo, templates, sources)
    unmatched += collect_documents(args.openapi_dir, templates, sources)
    with open(os.path.join(HERE, "SOURCES.json"), "w", encoding="utf-8") as fh:
        json.dump(dict(sorted(sources.items())), fh, indent=1, sort_keys=True)
        fh.write("\n")
    rest = sum(1 for k in sources if k.startswith("rest/"))
    print("%d REST bodies, %d stream frames; no endpoint for: %s" % (rest, len(sources) - rest, unmatched or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
