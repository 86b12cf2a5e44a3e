"""Call forms of the official client's futures methods (entries by helper "futures"), for the drop-in matrix."""

CASES = [
    ("list_futures_aggregates", ("ESZ5",), {"resolution": "1session", "window_start_gte": "2025-12-01",
                                            "window_start_lte": "2025-12-05"}),
    ("list_futures_aggregates", (), {"ticker": "NQZ5", "resolution": "1min", "window_start_gte": "2025-12-03",
                                     "limit": 100}),
    ("list_futures_contracts", (), {"product_code": "NQ"}),
    ("list_futures_contracts", (), {"product_code_any_of": ["ES", "CL"], "active": True, "limit": 10}),
    ("list_futures_products", (), {}),
    ("list_futures_products", (), {"name": "Gold"}),
    ("list_futures_schedules", (), {"product_code": "CL", "session_end_date": "2025-12-08"}),
    ("list_futures_exchanges", (), {}),
    ("list_futures_market_statuses", (), {"product_code": "GC"}),
    ("get_futures_snapshot", (), {"product_code": "ES"}),
    ("get_futures_snapshot", (), {"product_code_any_of": ["ES", "NQ"], "limit": 20}),
    ("list_futures_trades", ("CLF6",), {"session_end_date": "2025-12-03", "limit": 100}),
    ("list_futures_quotes", ("CLF6",), {"session_end_date": "2025-12-03", "limit": 100}),
]
