"""Whether the generated endpoint table routes a sample path to its own template (for tests that wait for it)."""

from polygon.sandbox.router import Router

ROUTER = Router()


def routed(path):
    """``True`` when the endpoint table has this path's own template: a lower-case word standing for a
    variable must be one of its allowed values (``/tickers/types`` is not a ticker called 'types')."""
    found = ROUTER.match(path.split("?")[0])
    if found is None:
        return False
    spec, values = found
    for param in spec.params:
        value = values.get(param.wire_name)
        if value is not None and value.isalpha() and value.islower() and value not in (param.enum or ()):
            return False
    return True
