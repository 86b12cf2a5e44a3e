"""Where the provider's published API documents are found (rest.json, websocket.json).

The project pins a structural snapshot of them under schema/provider/ (examples, types and ``required`` kept);
a full copy can be pointed at with ``POLYGON_PROVIDER_OPENAPI=<folder>``; the reference copy beside a
checkout is the last resort. Tests that need a document skip when none is found.
"""

import json
import os
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = (
    os.environ.get("POLYGON_PROVIDER_OPENAPI", ""),
    str(ROOT / "schema" / "provider"),
)


def provider_path(name: str = "rest.json") -> Optional[Path]:
    """The first existing ``<folder>/<name>`` of :data:`CANDIDATES`, or None."""
    for folder in CANDIDATES:
        if folder and (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def provider_document(name: str = "rest.json") -> Any:
    path = provider_path(name)
    return None if path is None else json.loads(path.read_text(encoding="utf-8"))
