"""schema/ -> polygon/_generated: ``python -m codegen [--check]`` and ``python -m codegen import-openapi``."""
