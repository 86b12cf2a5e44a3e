"""Sandbox bodies against the provider's own document, as published: every one of its paths, requested with
valid parameters, answers a body that validates against the path's 200 schema (``$ref`` s resolved, ``required``
included) - not only against our corrected schema/rest.

Where the provider's schema contradicts its real data, the sandbox follows the data and :data:`CONTRADICTIONS`
names the published rule, the recorded file that shows the real data, and the validation message it excuses.
"""

import pytest

from polygon._generated.endpoints import ENDPOINTS

from .provider import provider_document, provider_path
from .provider_schema import errors, response_schema
from .test_rest import PATHS as _ALL_PATHS
from .test_rest import _get, _request, identifiers, sb  # noqa: F401  (sb: the strict sandbox fixture)

#: the paths the provider's published document describes (the newer surface, issue 24, has its own sources)
PATHS = [(n, v) for n, v in _ALL_PATHS if (v or ENDPOINTS[n].path) in provider_document("rest.json")["paths"]]

REST = provider_path("rest.json")
pytestmark = pytest.mark.skipif(REST is None, reason="no copy of the provider rest.json (see provider.py)")

#: (provider path, JSON pointer of the body (``*`` = any index), part of the message) -> evidence: the
#: provider's data (its recorded bodies, the examples of its own document) breaks the published rule, and the
#: sandbox sends what the data shows.
_REC = "tests/recorded/rest/"
_OPEN_CLOSE = _REC + "get_daily_open_close/client-v1-open-close-AAPL-2005-04-01-adjusted=true.json"
CONTRADICTIONS = {
    # typed integer; real bodies send prices: preMarket 123.45 (and the document's own examples 324.5, 12001.69)
    ("/v1/open-close/{stocksTicker}/{date}", "/preMarket", "is not of type 'integer'"): _OPEN_CLOSE,
    ("/v1/open-close/{indicesTicker}/{date}", "/preMarket", "is not of type 'integer'"):
        _REC + "get_daily_open_close/doc-v1-open-close-indicesTicker-date.json",
    ("/v1/open-close/{optionsTicker}/{date}", "/preMarket", "is not of type 'integer'"): _OPEN_CLOSE,
    # "allOf": [{"type": "string"}, {object}]: no body can be both; the document's own examples are objects
    ("/v1/historic/crypto/{from}/{to}/{date}", "/", "is not of type 'string'"):
        _REC + "get_historic_crypto_trades/doc-v1-historic-crypto-from-to-date.json",
    ("/v2/snapshot/locale/global/markets/crypto/tickers/{ticker}/book", "/", "is not of type 'string'"):
        _REC + "get_snapshot_crypto_book/doc-v2-snapshot-locale-global-markets-crypto-tickers-ticker-book.json",
    ("/v2/snapshot/locale/global/markets/crypto/{direction}", "/", "is not of type 'string'"):
        _REC + "get_snapshot_direction_crypto/doc-v2-snapshot-locale-global-markets-crypto-direction.json",
    # required, but absent from the provider's own example records
    ("/v1/historic/crypto/{from}/{to}/{date}", "/ticks/*", "'i' is a required property"):
        _REC + "get_historic_crypto_trades/doc-v1-historic-crypto-from-to-date.json",
    ("/v1/historic/forex/{from}/{to}/{date}", "/ticks/*", "'a' is a required property"):  # the example: ap / bp
        _REC + "get_historic_forex_quotes/doc-v1-historic-forex-from-to-date.json",
    ("/v1/historic/forex/{from}/{to}/{date}", "/ticks/*", "'b' is a required property"):
        _REC + "get_historic_forex_quotes/doc-v1-historic-forex-from-to-date.json",
    ("/vX/reference/ipos", "/results/*", "'name' is a required property"):  # the example: issuer_name
        _REC + "list_ipos/doc-vX-reference-ipos.json",
}
for _wire in ("T", "f", "i"):  # NBBO ticks: no T (ticker), f (TRF time) or i (indicators) in the example
    CONTRADICTIONS[("/v2/ticks/stocks/nbbo/{ticker}/{date}", "/results/*", "'%s' is a required property" % _wire)] = \
        _REC + "get_historic_quotes/doc-v2-ticks-stocks-nbbo-ticker-date.json"
for _wire in ("T", "e", "f", "r"):  # trade ticks: no T, e (correction), f or r (TRF id) in the example
    CONTRADICTIONS[("/v2/ticks/stocks/trades/{ticker}/{date}", "/results/*", "'%s' is a required property" % _wire)] = \
        _REC + "get_historic_trades/doc-v2-ticks-stocks-trades-ticker-date.json"


@pytest.fixture(scope="module")
def document():
    return provider_document("rest.json")


@pytest.fixture(scope="module")
def found(sb):  # noqa: F811
    return identifiers(sb)


def _matches(pattern, pointer):
    parts, mine = pattern.strip("/").split("/"), pointer.strip("/").split("/")
    return len(parts) == len(mine) and all(a in ("*", b) for a, b in zip(parts, mine))


def _excused(path, pointer, message):
    return any(where == path and _matches(at, pointer) and start in message
               for (where, at, start) in CONTRADICTIONS)


def test_every_contradiction_has_its_evidence():
    """Each excused rule names a recorded body of the provider that breaks it (and the body does break it)."""
    from .recorded import load

    document = provider_document("rest.json")
    for (path, pointer, start), evidence in CONTRADICTIONS.items():
        body = load(evidence[len("tests/recorded/"):])
        found = [m for p, m in errors(response_schema(document, path), body) if _matches(pointer, p)
                 and start in m]
        assert found, "%s does not show the contradiction %s %s %r" % (evidence, path, pointer, start)


def test_every_provider_path_is_served():
    document = provider_document("rest.json")
    ours = {variant or ENDPOINTS[name].path for name, variant in PATHS}
    theirs = {path for path, ops in document["paths"].items() if "get" in ops}
    assert theirs == ours, sorted(theirs ^ ours)
    assert len(theirs) == 89


@pytest.mark.parametrize("name,variant", PATHS, ids=["%s%s" % (n, "" if v is None else "@" + v) for n, v in PATHS])
def test_sandbox_body_validates_against_the_published_schema(sb, found, document, name, variant):  # noqa: F811
    path = variant or ENDPOINTS[name].path
    schema = response_schema(document, path)
    assert schema is not None, "the provider publishes no JSON schema for %s" % path
    url, query = _request(name, found, variant)
    resp = _get(sb, url, **query)
    assert resp.status_code == 200, (url, resp.status_code, resp.text[:300])
    problems = [(p, m) for p, m in errors(schema, resp.json()) if not _excused(path, p, m)]
    assert not problems, problems[:10]
