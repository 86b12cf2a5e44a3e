import inspect

import polygon
from polygon import exceptions as exc


def test_one_tree_rooted_at_polygon_error():
    classes = [c for _, c in inspect.getmembers(exc, inspect.isclass) if issubclass(c, Exception)]
    assert len(classes) >= 20
    for cls in classes:
        assert issubclass(cls, exc.PolygonError), cls


def test_stdlib_compatibility_mixins():
    assert issubclass(exc.InvalidSymbolError, ValueError)
    assert issubclass(exc.InvalidTimeframeError, ValueError)
    assert issubclass(exc.InvalidDateRangeError, ValueError)
    assert issubclass(exc.SubscriptionError, ValueError)
    assert issubclass(exc.PolygonConnectionError, ConnectionError)
    assert issubclass(exc.PolygonNotEntitledError, exc.PolygonAuthenticationError)


def test_error_for_status_mapping():
    assert exc.error_for_status(400) is exc.PolygonBadRequestError
    assert exc.error_for_status(401) is exc.PolygonAuthenticationError
    assert exc.error_for_status(404) is exc.PolygonNotFoundError
    assert exc.error_for_status(429) is exc.PolygonRateLimitError
    assert exc.error_for_status(503) is exc.PolygonServerError
    assert exc.error_for_status(418) is exc.PolygonAPIError


def test_api_error_text_carries_context():
    err = exc.PolygonRateLimitError("too many", retry_after=3.0, status_code=429, url="http://h/p", request_id="r1",
                                     attempts=4)
    text = str(err)
    assert "429" in text and "http://h/p" in text and "r1" in text and "4 attempts" in text
    assert err.retry_after == 3.0


def test_package_exports_sorted_and_resolvable():
    assert polygon.__all__ == sorted(polygon.__all__)
    assert polygon.PolygonAuthenticationError is exc.PolygonAuthenticationError
