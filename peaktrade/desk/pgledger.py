"""The desk risk ledger's bookings on PostgreSQL (the same arithmetic as the SQLite desk, one transaction each).

Every booking locks the account row first, so fills, marks and day changes of one account from sessions
on different hosts serialise with the reservations (which hold the same lock) and bump its version.
"""

from __future__ import annotations

from typing import Any

from peaktrade.desk.store import DeskUnavailable, book_position, fill_of_intent


class LedgerOps:
    _tx: Any

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
                cur.executemany("UPDATE positions SET mark = %s WHERE account = %s AND symbol = %s",
                                [(m, account, s) for s, m in marks.items()])
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
