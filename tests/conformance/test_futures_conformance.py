"""The futures paths under the same conformance checks as every other path: each body validates against its
schema/rest file and parses into the generated model without unknown fields, for two products (the generic
test_rest.py samples the ticker AAPL, which is no futures contract: see /work/handoff for its one-line fix)."""

import datetime as dt

import pytest
import requests

from polygon._generated.endpoints import ENDPOINTS, build_request, parse_response
from polygon.sandbox import Sandbox
from polygon.sandbox.universe import FUTURES_PRODUCTS, front_contract

from .schemas import model_differences, schema_errors

FUTURES = sorted(name for name, spec in ENDPOINTS.items() if spec.path.startswith("/futures/"))


@pytest.fixture(scope="module")
def sb():
    with Sandbox(port=0) as sandbox:
        yield sandbox


def _front(sb, code):
    today = dt.date.today()
    product = [p for p in FUTURES_PRODUCTS if p.code == code][0]
    return front_contract(product, today).ticker


def test_every_futures_method_of_the_official_client_is_generated():
    assert FUTURES == ["get_futures_snapshot", "list_futures_aggregates", "list_futures_contracts",
                       "list_futures_exchanges", "list_futures_market_statuses", "list_futures_products",
                       "list_futures_quotes", "list_futures_schedules", "list_futures_trades"]


@pytest.mark.parametrize("code", ["ES", "CL"])
@pytest.mark.parametrize("name", FUTURES)
def test_futures_body_conforms_to_schema_and_model(sb, name, code):
    spec = ENDPOINTS[name]
    ticker = _front(sb, code)
    params = {p.name: ticker for p in spec.params if p.required}
    if name in ("list_futures_contracts", "list_futures_schedules", "list_futures_market_statuses",
                "get_futures_snapshot"):
        params["product_code"] = code
    if name == "list_futures_aggregates":
        params["resolution"] = "1session"
    prepared = build_request(name, **params)
    resp = requests.get(sb.base_url + prepared.path, params=prepared.query,
                        headers={"Authorization": "Bearer " + sb.api_key}, timeout=60)
    assert resp.status_code == 200, (prepared.path, resp.text[:300])
    body = resp.json()
    assert not schema_errors(name, body)
    assert not model_differences(body, parse_response(name, body))
    assert body["results"], name
