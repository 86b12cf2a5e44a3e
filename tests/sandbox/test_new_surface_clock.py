"""The newer datasets follow the sandbox's clock: pinned to a past day, every new endpoint still answers data,
and none of it was filed, settled, published or effective after that day."""

import pytest
import requests

from polygon._generated.endpoints import ENDPOINTS
from polygon.sandbox import Sandbox

DAY = "2023-01-09"
NEW_PREFIXES = ("/stocks/financials/", "/stocks/v1/", "/stocks/vX/", "/stocks/filings/", "/stocks/taxonomies/",
                "/fed/", "/benzinga/", "/etf-global/", "/tmx/", "/consumer-spending/")
NEW = sorted(name for name, spec in ENDPOINTS.items() if spec.path.startswith(NEW_PREFIXES))
#: fields that say when a record became known (a projected or declared event may lie ahead: not checked)
KNOWN_BY = ("filing_date", "period_end", "settlement_date", "transaction_date", "effective_date", "published",
            "last_updated", "published_date")


@pytest.fixture(scope="module")
def past():
    with Sandbox(port=0, clock=DAY) as sandbox:
        yield sandbox


@pytest.mark.parametrize("name", NEW)
def test_a_past_clock_answers_only_what_was_known(past, name):
    path = ENDPOINTS[name].path.replace("{ticker}", "AAPL")
    resp = requests.get(past.base_url + path, params={"limit": 200},
                        headers={"Authorization": "Bearer " + past.api_key}, timeout=120)
    assert resp.status_code == 200, resp.text[:300]
    rows = resp.json()["results"]
    assert rows, name
    for row in rows:
        if row.get("date_status") == "projected" or row.get("status") == "tentative":
            continue
        late = {k: row[k] for k in KNOWN_BY if isinstance(row.get(k), str) and row[k][:10] > DAY}
        assert not late, (name, late)


def test_the_new_surface_is_the_41_methods():
    assert len(NEW) == 41
