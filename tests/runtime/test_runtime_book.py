"""The book's invariant holds for any sequence of fills, long, short and through zero."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peaktrade.runtime.book import Book, Fill

fills = st.lists(st.tuples(st.sampled_from(["buy", "sell"]), st.floats(0.001, 5.0), st.floats(10.0, 1000.0),
                           st.floats(0.0, 2.0)), max_size=40)


@given(fills, st.floats(10.0, 1000.0))
def test_equity_is_start_plus_realized_plus_unrealized(seq, mark):
    book = Book(10_000.0)
    for side, qty, price, fee in seq:
        book.apply(Fill(side, qty, price, fee))
        assert book.equity(price) == pytest.approx(10_000.0 + book.realized_pnl + book.unrealized(price),
                                                   rel=1e-9, abs=1e-6)
    assert book.equity(mark) == pytest.approx(10_000.0 + book.realized_pnl + book.unrealized(mark),
                                              rel=1e-9, abs=1e-6)


def test_round_trip_realizes_the_difference_minus_fees():
    book = Book(1000.0)
    book.apply(Fill("buy", 2.0, 100.0, 0.5))
    book.apply(Fill("buy", 2.0, 110.0, 0.5))
    assert book.avg_price == 105.0
    book.apply(Fill("sell", 3.0, 120.0, 0.25))
    assert book.realized_pnl == pytest.approx(3 * 15.0 - 1.25)
    assert book.position == pytest.approx(1.0) and book.avg_price == 105.0
    book.apply(Fill("sell", 2.0, 90.0, 0.0))  # through zero: short 1 at 90
    assert book.position == pytest.approx(-1.0) and book.avg_price == 90.0
    assert book.realized_pnl == pytest.approx(45.0 - 1.25 - 15.0)
    assert book.unrealized(80.0) == pytest.approx(10.0)
