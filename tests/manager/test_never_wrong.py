"""Issue 12 against the sandbox: never silently wrong (compact dates, unknown tickers, calendar, splits)."""


def test_fetch_data_reads_compact_dates_as_days(manager):
    iso = manager.fetch_data("AAPL", "1day", "2023-01-03", "2023-01-31")
    compact = manager.fetch_data("AAPL", "1day", "20230103", "20230131")
    as_int = manager.fetch_data("AAPL", "1day", 20230103, 20230131)
    assert len(iso) == 20
    assert list(compact.index) == list(iso.index) == list(as_int.index)
    assert compact.attrs["start"] == iso.attrs["start"] and compact.attrs["end"] == iso.attrs["end"]
