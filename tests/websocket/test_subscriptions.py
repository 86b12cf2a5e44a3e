"""SubscriptionBook (pure bookkeeping shared with the relay server) and the reconnect schedule."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon.exceptions import SubscriptionError
from polygon.websocket import SubscriptionBook, backoff_delays


def test_backoff_is_the_guides_schedule():
    assert backoff_delays() == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert backoff_delays(1, 30, 7) == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff_delays(0.5, 1.5, 3) == [0.5, 1.0, 1.5]


def test_add_sends_only_changes():
    book = SubscriptionBook()
    sid, add, rem = book.add(["aapl", "MSFT"], ["T", "q"], "cb1")
    assert sid == "sub_1"
    assert add == ["Q.AAPL", "Q.MSFT", "T.AAPL", "T.MSFT"] and rem == []
    sid2, add, rem = book.add(["AAPL", "GOOGL"], ["T"], "cb2", "named")
    assert sid2 == "named"
    assert add == ["T.GOOGL"] and rem == []
    assert book.refcount("T", "AAPL") == 2
    assert book.symbols_map() == {"AAPL": ["T", "Q"], "GOOGL": ["T"], "MSFT": ["T", "Q"]}


def test_overlapping_named_subscriptions_keep_provider_subscription():
    book = SubscriptionBook()
    book.add(["SPY"], ["A"], "agg", "spy_aggregates")
    book.add(["SPY"], ["A", "T"], "other", "other")
    removed, add, rem = book.remove(["SPY"], subscription_id="spy_aggregates")
    assert removed == [("A", "SPY")]
    assert add == [] and rem == []  # 'other' still needs A.SPY
    assert "spy_aggregates" not in book.subscriptions()
    assert book.targets_for("A", "SPY") == ("other",)
    _removed, add, rem = book.remove(["SPY"], channels=["A"])
    assert rem == ["A.SPY"]
    assert book.provider_params() == ["T.SPY"]


def test_guide_unsubscribe_forms():
    book = SubscriptionBook()
    book.add(["AAPL"], ["T", "Q"], "trade")
    book.add(["AAPL", "GOOGL", "MSFT"], ["T"], "trade")
    book.add(["SPY"], ["A"], "agg", "spy_aggregates")
    # specific symbols and channel, across all subscriptions
    _r, add, rem = book.remove(["AAPL"], channels=["T"])
    assert rem == ["T.AAPL"] and add == []
    assert book.symbols_map()["AAPL"] == ["Q"]
    # all channels for symbols
    _r, add, rem = book.remove(["AAPL", "GOOGL"])
    assert rem == ["Q.AAPL", "T.GOOGL"]
    # one named subscription
    _r, add, rem = book.remove(["SPY"], subscription_id="spy_aggregates")
    assert rem == ["A.SPY"]
    assert book.provider_params() == ["T.MSFT"]


def test_each_target_receives_once_and_wildcards():
    book = SubscriptionBook()
    book.add(["AAPL"], ["T", "Q"], "handle_trade")
    book.add(["AAPL", "MSFT"], ["T"], "handle_trade")
    assert book.targets_for("T", "AAPL") == ("handle_trade",)
    _sid, add, rem = book.add(["*"], ["T"], "all")
    assert add == ["T.*"] and rem == ["T.AAPL", "T.MSFT"]
    assert book.targets_for("T", "AAPL") == ("handle_trade", "all")
    assert book.targets_for("T", "ZZZ") == ("all",)
    assert book.targets_for("Q", "ZZZ") == ()
    _r, add, rem = book.remove(["*"])
    assert add == ["T.AAPL", "T.MSFT"] and rem == ["T.*"]


@pytest.mark.parametrize(
    "symbols, channels, needle",
    [
        (["AAPL"], ["X"], "allowed: T (trades), Q (quotes), A (second aggregates), AM (minute aggregates)"),
        (["AAPL"], [], "no channels given"),
        ([], ["T"], "no symbols given"),
        (["../etc"], ["T"], "letters A-Z"),
        (["X:BTCUSD"], ["T"], "crypto market"),
    ],
)
def test_bad_subscriptions_refused_with_what_is_allowed(symbols, channels, needle):
    book = SubscriptionBook()
    with pytest.raises(SubscriptionError) as info:
        book.add(symbols, channels, "cb")
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)
    assert book.provider_params() == []


def test_unknown_subscription_id_lists_active_ones():
    book = SubscriptionBook()
    book.add(["AAPL"], ["T"], "cb", "mine")
    with pytest.raises(SubscriptionError, match="active: mine"):
        book.remove(["AAPL"], subscription_id="nope")


_ops = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from(["s1", "s2", "s3"]),
        st.lists(st.sampled_from(["AAPL", "MSFT", "SPY", "*"]), min_size=1, max_size=3),
        st.lists(st.sampled_from(["T", "Q", "A", "AM"]), min_size=1, max_size=2),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(_ops)
def test_provider_state_follows_diffs(ops):
    """Replaying only the emitted diffs reproduces exactly the provider set the book needs."""
    book = SubscriptionBook()
    provider = set()
    for is_add, sid, syms, chans in ops:
        if is_add:
            _sid, add, rem = book.add(syms, chans, sid, sid)
        else:
            try:
                _r, add, rem = book.remove(syms, chans, sid)
            except SubscriptionError:
                continue
        assert not (set(add) & provider), "subscribed twice"
        assert set(rem) <= provider, "unsubscribed something not subscribed"
        provider = (provider | set(add)) - set(rem)
        assert provider == set(book.provider_params())
    # every held pair routes to its holder
    for sid, view in book.subscriptions().items():
        for sym, chans in view.items():
            for ch in chans:
                probe = "ZZZ" if sym == "*" else sym
                assert sid in book.targets_for(ch, probe)
