"""The official client's model classes (``massive.rest.models`` names and attributes), generated."""

from polygon._generated.official import *  # noqa: F401,F403
from polygon._generated.official import __all__ as _generated_names
from polygon.official.response import RequestOptionBuilder  # noqa: F401 (re-exported, as massive.rest.models has it)

__all__ = sorted([name for name in _generated_names if not name.startswith(("OFFICIAL_", "Official"))]
                 + ["RequestOptionBuilder"])
