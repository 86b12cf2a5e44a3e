"""``python -m codegen.snapshot SRC DEST``: the structural snapshot of a provider OpenAPI document.

The project keeps, under schema/provider/, the provider's documents its schema/rest files were imported from,
reduced to their structure: paths, operations, parameters, schemas (types, formats, enums, bounds, patterns,
required, ``$ref``), the provider's ``x-*`` keys and every example value, verbatim. Prose is dropped: the
``description``, ``summary`` and ``title`` texts of every node (and of the ``info`` and ``tags`` entries).
Names are never dropped: keys of ``properties``, ``paths``, ``components``, ``responses``, ``content`` and
``examples`` maps are field, path and media names, so a response field called ``description`` stays.

The importer (:mod:`codegen.openapi`) reads a few facts from the prose: whether an integer field is an epoch
time and its unit (``nanosecond``/``millisecond``), and whether a ``timestamp`` filter is in nanoseconds. The
snapshot keeps exactly those words, as ``x-text-words`` beside the node whose text had them, so the importer
derives the same ``x-unit``/``x-kind`` from the snapshot as from the full document.

Output is deterministic: the source's key order, one-space indent, UTF-8, a trailing newline.
"""

import argparse
import hashlib
import json
import sys

from codegen.openapi import TEXT_WORDS, short_description

PROSE = ("description", "summary", "title")
#: Keys whose value is data (an example payload, a default, enum members): kept verbatim.
VALUE_KEYS = ("example", "default", "enum", "const", "value")
#: Keys whose value maps names (fields, paths, status codes, media types, example names) to nodes.
MAP_KEYS = ("properties", "patternProperties", "paths", "responses", "content", "examples", "schemas",
            "securitySchemes", "headers", "$defs", "definitions", "requestBodies", "callbacks", "links")


def _words(text, schema_node):
    """The importer's words found in ``text`` (a schema node's text counts as its first sentence only)."""
    text = (short_description(text) if schema_node else text or "").lower()
    return [word for word in TEXT_WORDS if word in text]


def strip(node, kind="node"):
    """``node`` without prose. ``kind``: ``node`` (an OpenAPI object), ``map`` (names -> nodes),
    ``components`` (names -> maps)."""
    if isinstance(node, list):
        return [strip(item, kind) for item in node]
    if not isinstance(node, dict):
        return node
    if kind == "map":
        return {key: strip(value) for key, value in node.items()}
    if kind == "components":
        return {key: strip(value, "map" if isinstance(value, dict) else "node") for key, value in node.items()}
    out = {}
    for key, value in node.items():
        if key in PROSE:
            continue
        if key in VALUE_KEYS:
            out[key] = value
        elif key == "components":
            out[key] = strip(value, "components")
        elif key in MAP_KEYS and isinstance(value, dict):
            out[key] = strip(value, "map")
        else:
            out[key] = strip(value)
    text = node.get("description")
    if isinstance(text, str):
        words = _words(text, schema_node="in" not in node)
        if words:
            out["x-text-words"] = words
    return out


def dump(document):
    """The one on-disk form of a snapshot."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def snapshot(src, dest):
    """Write the structural snapshot of the OpenAPI document ``src`` to ``dest``.

    :returns: ``(sha256 of src, sha256 of dest)`` as hex strings.
    """
    with open(src, "rb") as fh:
        raw = fh.read()
    text = dump(strip(json.loads(raw.decode("utf-8")))).encode("utf-8")
    with open(dest, "wb") as fh:
        fh.write(text)
    return sha256(raw), sha256(text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m codegen.snapshot", description=__doc__.splitlines()[0])
    parser.add_argument("src", help="the provider's OpenAPI JSON document")
    parser.add_argument("dest", help="where to write the snapshot")
    args = parser.parse_args(argv)
    try:
        original, written = snapshot(args.src, args.dest)
    except (OSError, ValueError) as exc:
        print("codegen.snapshot: error: %s" % exc, file=sys.stderr)
        return 2
    print("%s  %s (original)" % (original, args.src))
    print("%s  %s (snapshot)" % (written, args.dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
