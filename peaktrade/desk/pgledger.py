"""The desk risk ledger on PostgreSQL: reservations and bookings (the same arithmetic as the SQLite desk).

A reservation is optimistic: it reads the account, its positions and its open intents as one snapshot
(one statement, no lock), runs the desk risk decision in Python (six limits over positions, open intents
and marks: not expressible in SQL), then commits with ONE conditional statement: the account's version
is bumped only if it is still the version the decision saw, and the intent is inserted only if it was
(``UPDATE accounts … WHERE version = seen RETURNING`` feeding the ``INSERT``). Every change of an
account's ledger or of its intents bumps that version (here, in ``update_intent`` and in the
reservations), so the reservation lands only if nothing the decision read has changed: the
``UPDATE … WHERE used + x <= limit`` idea generalised to the whole decision. A lost race re-reads and
decides again; after ``CAS_TRIES`` lost races the reservation takes the account's row lock for its
read, decision and insert (progress under heavy contention). Under contention optimistic tries are
wasted work (measured in docs/cluster.md), so this store then takes that account's row lock at once
for ``CONTENDED_S``, doubling up to ``CONTENDED_MAX_S`` while one probing try still loses; the first
compare-and-set that lands ends it. Bookings lock the account row, so they serialise with each other
and with the locked reservations, and bump the version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from peaktrade.desk.pgschema import col_type
from peaktrade.desk.store import (
    INTENT_COLUMNS,
    INTENT_OPEN,
    DeskUnavailable,
    Intent,
    Ledger,
    Position,
    book_position,
    fill_of_intent,
)

CAS_TRIES = 3  # lost compare-and-set races before a reservation takes the account's row lock instead
CONTENDED_S = 2.0  # after such a fallback, reservations of that account take the row lock at once for this long
CONTENDED_MAX_S = 60.0
INTENTS = ", ".join(f'"{c}"' for c in INTENT_COLUMNS)
ACCOUNT = "account, cash, realized_pnl, fees, day, day_start_equity, halted_day, halted_reason, version"
# the account, its positions and its open intents, in one statement: one snapshot, one round trip
_READ = (f"SELECT {ACCOUNT}, (SELECT COALESCE(json_agg(json_build_array(symbol, quantity, avg_price, mark)), "
         "'[]') FROM positions p WHERE p.account = a.account), (SELECT COALESCE(json_agg(json_build_array("
         f"{INTENTS}) ORDER BY created_at), '[]') FROM intents i WHERE i.account = a.account AND "
         "i.status = ANY(%s)) FROM accounts a WHERE a.account = %s")
# compare-and-set: the intent is inserted only if the account still has the version the decision saw (typed
# parameters: in a SELECT list the server cannot infer them from the target columns)
_CAS = (f"WITH seen AS (UPDATE accounts SET version = version + 1 WHERE account = %s AND version = %s RETURNING "
        f"account) INSERT INTO intents ({INTENTS}) SELECT "
        f"{', '.join(f'%s::{col_type(c)}' for c in INTENT_COLUMNS)} FROM seen RETURNING client_order_id")
_WRITE = (f"WITH added AS (INSERT INTO intents ({INTENTS}) VALUES ({', '.join('%s' for _ in INTENT_COLUMNS)}) "
          "RETURNING account) UPDATE accounts SET version = version + 1 WHERE account = %s")

Decide = Callable[[Ledger, list[Intent]], tuple[bool, Any]]


def _quoted(column: str) -> str:
    return '"' + column + '"'


def _snapshot(row: tuple) -> tuple[Ledger, list[Intent]]:
    ledger = Ledger(*row[:8], version=row[8])
    for sym, qty, avg, mark in row[9]:
        ledger.positions[sym] = Position(sym, qty, avg, mark)
    return ledger, [Intent(*i) for i in row[10]]


class LedgerOps:
    _tx: Any
    _conn: Any
    _read: Any
    cas_tries = CAS_TRIES
    contended_s = CONTENDED_S
    reservations: dict[str, int]  # "cas": landed by compare-and-set; "lost": races lost; "locked": row-lock path
    _contended: dict[str, tuple[float, float]]  # account -> (until when the row lock is taken at once, period)

    @staticmethod
    def _ledger(con: Any, account: str, *, lock: bool = False) -> Ledger | None:
        row = con.execute(f"SELECT {ACCOUNT} FROM accounts WHERE account = %s" + (" FOR UPDATE" if lock else ""),
                          (account,)).fetchone()
        if row is None:
            return None
        ledger = Ledger(*row[:8], version=row[8])
        for sym, qty, avg, mark in con.execute("SELECT symbol, quantity, avg_price, mark FROM positions WHERE "
                                               "account = %s", (account,)).fetchall():
            ledger.positions[sym] = Position(sym, qty, avg, mark)
        return ledger

    def ledger(self, account: str) -> Ledger | None:
        with self._conn() as con:
            return self._ledger(con, account)

    def ensure_account(self, account: str, *, cash: float) -> Ledger:
        with self._tx() as con:
            con.execute("INSERT INTO accounts (account, cash) VALUES (%s, %s) ON CONFLICT DO NOTHING", (account, cash))
            return self._ledger(con, account)  # type: ignore[return-value]

    @staticmethod
    def _open(con: Any, account: str | None) -> list[Intent]:
        sql, args = f"SELECT {INTENTS} FROM intents WHERE status = ANY(%s)", [list(INTENT_OPEN)]
        if account is not None:
            sql += " AND account = %s"
            args.append(account)
        return [Intent(*row) for row in con.execute(sql + " ORDER BY created_at", args).fetchall()]

    def open_intents(self, account: str | None = None) -> list[Intent]:
        with self._conn() as con:
            return self._open(con, account)

    def get_intent(self, client_order_id: str) -> Intent | None:
        rows = self._read(f"SELECT {INTENTS} FROM intents WHERE client_order_id = %s", (client_order_id,))
        return Intent(*rows[0]) if rows else None

    def update_intent(self, client_order_id: str, **changes: Any) -> None:
        unknown = set(changes) - set(INTENT_COLUMNS)
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        with self._tx() as con:  # the intent and its account's version change together (see reserve)
            con.execute(f"UPDATE intents SET {', '.join(_quoted(c) + ' = %s' for c in changes)} "
                        "WHERE client_order_id = %s", [*changes.values(), client_order_id])
            con.execute("UPDATE accounts SET version = version + 1 WHERE account = (SELECT account FROM intents "
                        "WHERE client_order_id = %s)", (client_order_id,))

    def reserve(self, intent: Intent, decide: Decide) -> tuple[bool, Any]:
        values = [getattr(intent, c) for c in INTENT_COLUMNS]
        until, period = self._contended.get(intent.account, (0.0, 0.0))
        # contended lately: the row lock at once, then one probing try when the period is over
        tries = 0 if until > time.monotonic() else 1 if period else self.cas_tries
        for _ in range(tries):
            with self._conn() as con:
                row = con.execute(_READ, (list(INTENT_OPEN), intent.account)).fetchone()
            if row is None:
                return False, "account unknown to the desk ledger"
            ledger, open_intents = _snapshot(row)
            # no connection and no lock held while deciding (the decision may read the kill switch itself)
            ok, info = decide(ledger, open_intents)
            if not ok:  # refused on one consistent snapshot of the account: true when it was read
                return False, info
            with self._conn() as con:
                won = con.execute(_CAS, [intent.account, ledger.version, *values]).fetchone()
            if won is not None:
                self.reservations["cas"] += 1
                if period:
                    self._contended.pop(intent.account, None)
                return True, info
            self.reservations["lost"] += 1  # the account changed since the read: read and decide again
        self.reservations["locked"] += 1
        if tries:  # every optimistic try lost: the account is contended
            period = min(period * 2, CONTENDED_MAX_S) if period else self.contended_s
            self._contended[intent.account] = (time.monotonic() + period, period)
        return self._reserve_locked(intent, decide, values)

    def _reserve_locked(self, intent: Intent, decide: Decide, values: list[Any]) -> tuple[bool, Any]:
        with self._tx(pipeline=True) as con:
            # the account row lock serialises this reservation with every writer of the account, on every
            # host: it cannot lose a race. Two round trips: (BEGIN, lock, read all) and (write all, COMMIT).
            # The read is its own statement: under READ COMMITTED a statement that waited for the lock
            # would still see its older snapshot
            con.execute("SELECT 1 FROM accounts WHERE account = %s FOR UPDATE", (intent.account,))
            row = con.execute(_READ, (list(INTENT_OPEN), intent.account)).fetchone()
            if row is None:
                return False, "account unknown to the desk ledger"
            ok, info = decide(*_snapshot(row))
            if ok:
                con.execute(_WRITE, [*values, intent.account])
            return ok, info

    def apply_fill(self, client_order_id: str, *, quantity: float, price: float, fee: float, at: str,
                   status: str | None = None, exchange_order_id: str | None = None) -> None:
        with self._tx(pipeline=True) as con:
            # one round trip: BEGIN, lock the intent and its account (in the reservations' order), read the
            # position; then one more: the three writes and COMMIT
            row = con.execute("SELECT account, symbol, side, quantity, filled, avg_price, fee FROM intents "
                              "WHERE client_order_id = %s FOR UPDATE", (client_order_id,))
            con.execute("SELECT 1 FROM accounts WHERE account = (SELECT account FROM intents WHERE client_order_id = "
                        "%s) FOR UPDATE", (client_order_id,))
            pos = con.execute("SELECT quantity, avg_price FROM positions WHERE (account, symbol) = (SELECT account, "
                              "symbol FROM intents WHERE client_order_id = %s)", (client_order_id,)).fetchone()
            row = row.fetchone()
            if row is None:
                raise DeskUnavailable(f"no order intent {client_order_id} to book a fill against")
            account, symbol, side, total, filled, avg, paid = row
            new_filled, new_avg, final = fill_of_intent(total, filled, avg, quantity, price, status)
            con.execute("UPDATE intents SET filled = %s, avg_price = %s, fee = %s, status = %s, updated_at = %s, "
                        "exchange_order_id = COALESCE(%s, exchange_order_id) WHERE client_order_id = %s",
                        (new_filled, new_avg, paid + fee, final, at, exchange_order_id, client_order_id))
            _book(con, account, symbol, quantity if side == "buy" else -quantity, price, fee, pos)

    def set_day(self, account: str, *, day: str, day_start_equity: float) -> None:
        with self._tx() as con:
            # only the first observer of a new day sets its start (a race keeps the earlier value)
            con.execute("UPDATE accounts SET day = %s, day_start_equity = %s, version = version + 1 WHERE account = %s "
                        "AND (day IS NULL OR day < %s)", (day, day_start_equity, account, day))

    def halt_day(self, account: str, *, day: str, reason: str) -> None:
        with self._tx() as con:
            con.execute("UPDATE accounts SET halted_day = %s, halted_reason = %s, version = version + 1 "
                        "WHERE account = %s AND (halted_day IS NULL OR halted_day < %s)", (day, reason, account, day))

    def set_marks(self, account: str, marks: dict[str, float]) -> None:
        with self._tx() as con:
            con.execute("SELECT 1 FROM accounts WHERE account = %s FOR UPDATE", (account,))
            with con.cursor() as cur:
                # a symbol without a row gets one holding no position (as SQLite)
                cur.executemany("INSERT INTO positions (account, symbol, quantity, avg_price, mark) VALUES "
                                "(%s, %s, 0, 0, %s) ON CONFLICT (account, symbol) DO UPDATE SET mark = excluded.mark",
                                [(account, s, m) for s, m in marks.items()])
            con.execute("UPDATE accounts SET version = version + 1 WHERE account = %s", (account,))

    def sync_account(self, account: str, *, cash: float, positions: dict[str, float],
                     marks: dict[str, float]) -> None:
        with self._tx() as con:
            con.execute("INSERT INTO accounts (account, cash) VALUES (%s, %s) ON CONFLICT (account) DO UPDATE SET "
                        "cash = excluded.cash, version = accounts.version + 1", (account, cash))
            # the symbols named are set to what the exchange reports; others are left as they are (as SQLite)
            with con.cursor() as cur:
                cur.executemany("INSERT INTO positions (account, symbol, quantity, avg_price, mark) VALUES "
                                "(%s, %s, %s, %s, %s) ON CONFLICT (account, symbol) DO UPDATE SET quantity = "
                                "excluded.quantity, mark = COALESCE(excluded.mark, positions.mark)",
                                [(account, s, q, marks.get(s, 0.0), marks.get(s)) for s, q in positions.items()])


def _book(con: Any, account: str, symbol: str, delta: float, price: float, fee: float,
          pos: tuple[float, float] | None) -> None:
    new_qty, new_avg, realized = book_position(*(pos or (0.0, 0.0)), delta, price)
    con.execute("INSERT INTO positions (account, symbol, quantity, avg_price, mark) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (account, symbol) DO UPDATE SET quantity = excluded.quantity, "
                "avg_price = excluded.avg_price, mark = excluded.mark", (account, symbol, new_qty, new_avg, price))
    con.execute("UPDATE accounts SET cash = cash - %s - %s, realized_pnl = realized_pnl + %s - %s, fees = fees + %s, "
                "version = version + 1 WHERE account = %s", (delta * price, fee, realized, fee, fee, account))
