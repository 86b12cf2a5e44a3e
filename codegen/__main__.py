"""Command line of the generator.

``python -m codegen``                      write polygon/_generated/ from schema/
``python -m codegen --check``              exit 1 naming each stale, missing or extra file; 0 when fresh
``python -m codegen import-openapi PATH [ENDPOINT...] [--all]``
                                           create/refresh schema/rest/ files from an OpenAPI document
                                           (ENDPOINT: ``/v2/last/trade/{stocksTicker}`` or ``name=path``;
                                           ``--all``: every path of the document)
``python -m codegen import-official [METHOD...] [--all] [--force]``
                                           write schema/official/ entries from the installed official client
"""

import argparse
import logging
import os
import sys

from codegen.loader import SchemaError, load
from codegen.official_import import OfficialImportError, run_import
from codegen.openapi import ImportError_, import_openapi
from codegen.render import OUTPUT_FILES, TEMPLATE_DIR, Renderer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCHEMA = os.path.join(ROOT, "schema")
DEFAULT_OUT = os.path.join(ROOT, "polygon", "_generated")


def generate(schema_dir, template_dir=TEMPLATE_DIR):
    """``{file name: source}`` for the schema tree at ``schema_dir``."""
    return Renderer(load(schema_dir, template_dir), template_dir).render_all()


def compare(files, out_dir):
    """Problems between rendered ``files`` and ``out_dir``: ``[(path, 'stale'|'missing'|'extra')]``."""
    problems = []
    for name in sorted(files):
        path = os.path.join(out_dir, name)
        if not os.path.exists(path):
            problems.append((path, "missing"))
            continue
        with open(path, encoding="utf-8", newline="") as fh:
            if fh.read() != files[name]:
                problems.append((path, "stale"))
    if os.path.isdir(out_dir):
        for name in sorted(os.listdir(out_dir)):
            if name.endswith(".py") and name not in files:
                problems.append((os.path.join(out_dir, name), "extra"))
    return problems


def write(files, out_dir):
    """Write changed files, delete extra modules; returns the paths touched."""
    os.makedirs(out_dir, exist_ok=True)
    touched = []
    for path, problem in compare(files, out_dir):
        if problem == "extra":
            os.remove(path)
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(files[os.path.basename(path)])
        touched.append(path)
    return touched


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default=DEFAULT_SCHEMA, help="schema directory (default: %(default)s)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    parser.add_argument("--templates", default=TEMPLATE_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help="exit 1 when the output is not up to date")
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import-openapi", help="create/refresh schema/rest/*.json from an OpenAPI document")
    imp.add_argument("path", help="OpenAPI 3 JSON document")
    imp.add_argument("endpoints", nargs="*", metavar="ENDPOINT", help="path template or name=path")
    imp.add_argument("--all", action="store_true", dest="all_paths",
                     help="import every path of the document (known paths keep their names)")
    off = sub.add_parser("import-official", help="write schema/official/ entries from the official client")
    off.add_argument("methods", nargs="*", metavar="METHOD")
    off.add_argument("--all", action="store_true", dest="all_methods")
    off.add_argument("--force", action="store_true", help="rewrite existing entries")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    try:
        if args.command == "import-openapi":
            if not args.endpoints and not args.all_paths:
                parser.error("import-openapi needs ENDPOINT... or --all")
            notes = []
            for path in import_openapi(args.path, args.endpoints, args.schema, args.all_paths, notes):
                print("wrote %s" % os.path.relpath(path))
            for note in notes:
                print("note: %s" % note)
            print("now run: python -m codegen")
            return 0
        if args.command == "import-official":
            return run_import(args.methods, args.schema, args.all_methods, args.force)
        files = generate(args.schema, args.templates)
    except (SchemaError, ImportError_, OfficialImportError, OSError) as exc:
        print("codegen: error: %s" % exc, file=sys.stderr)
        return 2
    assert set(files) == set(OUTPUT_FILES)
    if args.check:
        problems = compare(files, args.out)
        for path, problem in problems:
            print("%s: %s (run: python -m codegen)" % (os.path.relpath(path), problem), file=sys.stderr)
        if not problems:
            print("codegen: %d files up to date" % len(files))
        return 1 if problems else 0
    touched = write(files, args.out)
    for path in touched:
        print("wrote %s" % os.path.relpath(path))
    print("codegen: %d files, %d changed" % (len(files), len(touched)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
