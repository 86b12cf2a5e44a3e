"""``polygon cache export`` prints what a person reads (a line per symbol and a total), or JSON with --json
(issue 21 item 9: it printed a Python dict)."""

import json


def test_cache_export_text_and_json(cli, tmp_path):
    cli("fetch", "AAPL,MSFT", "1day", "--start", "2023-01-01", "--end", "2023-01-31")
    dataset = tmp_path / "dataset"
    out = cli("cache", "export", "--symbol", "AAPL,MSFT,NVDA", "--timeframe", "1day", "--path", str(dataset)).stdout
    assert out.splitlines() == [
        "AAPL           20 bars  1 file",
        "MSFT           20 bars  1 file",
        "NVDA            0 bars  0 files  (nothing cached for 1day)",
        "exported 40 bars of 3 symbols to %s" % dataset,
    ]
    assert "{" not in out
    result = json.loads(cli("cache", "export", "--symbol", "AAPL", "--timeframe", "1day", "--path", str(dataset),
                            "--json").stdout)
    assert result["rows"] == {"AAPL": 20} and result["path"] == str(dataset)
    assert [p.replace(str(dataset), "") for p in result["files"]] == [
        "/symbol=AAPL/timeframe=1day/year=2023/part-0.parquet"]
