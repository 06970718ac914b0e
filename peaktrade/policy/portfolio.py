"""The portfolio the risk engine reads: positions, marks, cash, and cached exposure figures.

The engine needs the portfolio's gross exposure and open-position count on every check; computing
them over 20 symbols each time would cost more than the rest of the check. They are cached and kept
valid by the dicts themselves: any mutation bumps a version, a single new mark price moves the cached
gross exposure incrementally.
"""

from __future__ import annotations

from operator import countOf, mul

INF = float("inf")


class _Tracked(dict):
    """A dict that counts its mutations, so the portfolio knows when its cache is stale.

    No ``__init__`` and no slots: construction stays the C-level dict copy (a session builds a
    portfolio per order); ``version`` reads the class default until the first mutation.
    """

    version = 0

    def _bump(name):  # noqa: N805 - builds the mutating methods below
        base = getattr(dict, name)

        def method(self, *args, **kwargs):
            self.version += 1
            return base(self, *args, **kwargs)

        method.__name__ = name
        return method

    __setitem__ = _bump("__setitem__")
    __delitem__ = _bump("__delitem__")
    __ior__ = _bump("__ior__")
    update = _bump("update")
    pop = _bump("pop")
    popitem = _bump("popitem")
    clear = _bump("clear")
    setdefault = _bump("setdefault")
    del _bump


_RESYNC = 1000  # incremental updates before a full recomputation (bounds float drift)


class _Marks(_Tracked):
    """Mark prices, holding the portfolio's cached figures: one new price moves the cached gross
    exposure instead of voiding it. (The cache lives here, not on the portfolio, so that no
    reference cycle is made per portfolio.)"""

    positions: _Tracked | None = None
    # (positions version, marks version, gross exposure, open positions, invalid input, incremental updates)
    cache: tuple | None = None

    def __setitem__(self, key: str, value: float) -> None:
        old = dict.get(self, key)
        dict.__setitem__(self, key, value)
        self.version = version = self.version + 1
        c = self.cache
        if c is None or c[1] != version - 1 or c[4] is not None or c[5] >= _RESYNC:
            return  # stale already (or due for a resync): the next stats() recomputes everything
        positions = self.positions
        if positions is None or c[0] != positions.version:
            return
        qty = positions.get(key, 0.0)
        try:
            valid = 0.0 < value < INF and (old is not None or qty == 0.0)
        except TypeError:
            valid = False
        if valid:
            gross = c[2] + abs(qty) * (value - old) if qty != 0.0 else c[2]
            self.cache = (c[0], version, gross, c[3], None, c[5] + 1)


class Portfolio:
    """Positions (signed quantity per symbol), mark prices and cash; dicts are copied on entry."""

    __slots__ = ("_positions", "_marks", "cash")

    def __init__(self, positions: dict[str, float] | None = None, marks: dict[str, float] | None = None,
                 cash: float = 0.0):
        p = _Tracked(positions) if positions else _Tracked()
        m = _Marks(marks) if marks else _Marks()
        m.positions = p
        self._positions, self._marks, self.cash = p, m, cash

    @property
    def positions(self) -> dict[str, float]:
        return self._positions

    @positions.setter
    def positions(self, value: dict[str, float]) -> None:
        self._positions = self._marks.positions = _Tracked(value)
        self._marks.cache = None

    @property
    def marks(self) -> dict[str, float]:
        return self._marks

    @marks.setter
    def marks(self, value: dict[str, float]) -> None:
        self._marks = _Marks(value)
        self._marks.positions = self._positions

    def stats(self) -> tuple[float, int, str | None]:
        """(gross exposure, open positions, first invalid input or None), cached until a change."""
        pos, marks = self._positions, self._marks
        c = marks.cache
        if c is not None and c[1] == marks.version and c[0] == pos.version:
            return c[2], c[3], c[4]
        try:  # C-level loops: a 20-symbol portfolio costs about a microsecond
            gross = sum(map(mul, map(abs, pos.values()), map(marks.__getitem__, pos)))
            ok = gross < INF and (not marks or min(marks.values()) > 0.0)
        except (KeyError, TypeError):
            ok = False
        stats = (gross, len(pos) - countOf(pos.values(), 0.0), None) if ok else self._slow_stats()
        marks.cache = (pos.version, marks.version, *stats, 0)
        return stats

    def _slow_stats(self) -> tuple[float, int, str | None]:
        """The same figures with the first offending input named (only when the fast path failed)."""
        gross, n, marks = 0.0, 0, self._marks
        try:
            for sym, mark in marks.items():
                if not (0.0 < mark < INF):
                    return 0.0, 0, f"mark price for {sym} is {mark!r}"
            for sym, qty in self._positions.items():
                if not (-INF < qty < INF):
                    return 0.0, 0, f"position of {sym} is {qty!r}"
                if qty != 0.0:
                    mark = marks.get(sym)
                    if mark is None:
                        return 0.0, 0, f"mark price for {sym} is missing"
                    n += 1
                    gross += abs(qty) * mark
        except TypeError as exc:
            return 0.0, 0, f"portfolio holds a non-number ({exc})"
        return gross, n, None

    def equity(self) -> float:
        return self.cash + sum(q * self._marks.get(s, 0.0) for s, q in self._positions.items())
