"""Issue 21 item 9: ``help(polygon.fetch_data)`` documents parameters, returns, raises and examples."""

import pydoc

import polygon


def test_help_of_fetch_data_is_a_whole_reference():
    text = pydoc.render_doc(polygon.fetch_data, renderer=pydoc.plaintext)
    for name in ("symbol", "timeframe", "start", "end", "use_cache", "validate", "adjusted"):
        assert ":param %s:" % name in text
    for part in (":returns:", ":raises InvalidInputError:", ":raises UnknownSymbolError:", "Examples::",
                 "fetch_data('AAPL', '1day'", "degraded"):
        assert part in text
    assert len(text.splitlines()) > 30
