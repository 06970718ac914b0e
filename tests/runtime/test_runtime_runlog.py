"""Run logs: append, compaction, readers that merge Parquet and the JSONL tail."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pandas as pd
import pytest

from peaktrade.runtime import runlog
from peaktrade.runtime.events import EVENT_FIELDS
from peaktrade.runtime.writer import RunLogWriter


def _event(i: int) -> dict:
    return {"ts_event": datetime(2025, 12, 7, 12, 0, i % 60, tzinfo=UTC), "ts_bar": "2025-12-07T12:00:00Z",
            "price": 100.0 + i, "position": i * 0.5, "cash": 1000 - i, "equity": 1000.0, "signal": 1,
            "orders_generated": 1, "orders_filled": 1, "orders_rejected": 0, "orders_blocked": 0,
            "risk_allowed": True, "risk_reasons": [f"r{i}"] if i % 2 else [], "error": None}


def test_run_id_format():
    rid = runlog.new_run_id("shadow", datetime(2025, 12, 7, 12, 0, 0, tzinfo=UTC))
    assert runlog.RUN_ID_RE.match(rid)
    assert rid.startswith("shadow_20251207_120000_")


def test_events_survive_compaction_and_merge_without_duplicates(tmp_path):
    w = RunLogWriter(tmp_path / "r", compact_every=7)
    for i in range(20):
        assert w.append(_event(i)) == i + 1
    events = runlog.read_events(tmp_path / "r")
    assert [e["step"] for e in events] == list(range(1, 21))
    assert events[3]["price"] == 103.0 and events[3]["risk_reasons"] == ["r3"]
    assert set(events[0]) == set(EVENT_FIELDS)
    assert events[0]["ts_event"] == "2025-12-07T12:00:00Z"
    frame = runlog.read_events_frame(tmp_path / "r")
    assert list(frame["step"]) == list(range(1, 21))
    assert str(frame["ts_event"].dt.tz) == "UTC"
    w.close()
    assert list(pd.read_parquet(tmp_path / "r" / "events.parquet")["step"]) == list(range(1, 21))
    # the JSONL keeps only the last round, all of it also in the Parquet file
    assert all(e["step"] <= 20 for e in runlog._jsonl_records((tmp_path / "r" / "events.jsonl").read_bytes(), 0))


def test_a_reader_that_reads_parquet_first_sees_no_gap_across_a_compaction(tmp_path):
    import pyarrow.parquet as pq

    w = RunLogWriter(tmp_path / "r", compact_every=10**6, trim_rounds=1)  # the JSONL is cut at every round
    for i in range(10):
        w.append(_event(i))
    w.compact()  # parquet 1..10
    for i in range(10, 25):
        w.append(_event(i))
    old = pq.read_table(tmp_path / "r" / "events.parquet")  # the reader takes the Parquet file first ...
    w.compact()  # ... a compaction happens in between (and the JSONL loses steps 1..10) ...
    w.append(_event(25))
    assert runlog._jsonl_records((tmp_path / "r" / "events.jsonl").read_bytes(), 0)[0]["step"] == 11
    jsonl = runlog._jsonl_records((tmp_path / "r" / "events.jsonl").read_bytes(), old.num_rows)  # ... then the JSONL
    steps = [*old.column("step").to_pylist(), *(e["step"] for e in jsonl)]
    assert steps == list(range(1, 27))


def test_compaction_appends_row_groups_without_rewriting_the_old_ones(tmp_path):
    import pyarrow.parquet as pq

    d = tmp_path / "r"
    w = RunLogWriter(d, compact_every=10**6)
    prefixes = []
    for rnd in range(4):
        for i in range(rnd * 10, rnd * 10 + 10):
            w.append(_event(i))
        w.compact()
        raw = (d / "events.parquet").read_bytes()
        md = pq.ParquetFile(d / "events.parquet").metadata
        assert (md.num_row_groups, md.num_rows) == (rnd + 1, (rnd + 1) * 10)
        # the column chunks already written are copied byte for byte, not re-encoded
        first_group_end = md.row_group(0).column(md.num_columns - 1).data_page_offset
        prefixes.append(raw[:first_group_end])
        assert all(p == prefixes[0] for p in prefixes)
    # the last events come from the last row group alone
    last = pq.ParquetFile(d / "events.parquet").read_row_group(3, columns=["step", "price"]).to_pylist()
    assert last[-1] == {"step": 40, "price": 139.0}
    frame = pd.read_parquet(d / "events.parquet")
    assert list(frame["step"]) == list(range(1, 41)) and frame["risk_reasons"][3].tolist() == ["r3"]
    assert str(frame["ts_event"].dt.tz) == "UTC"
    w.close()


def test_a_parquet_file_it_cannot_append_to_is_rewritten_whole(tmp_path):
    import pyarrow.parquet as pq

    from peaktrade.runtime.events import table_from_records

    d = tmp_path / "r"
    d.mkdir()
    older = [{**_event(i), "step": i + 1, "ts_event": "2025-12-07T12:00:00Z"} for i in range(5)]
    # written by something else, with a page index: no row group is appended to it
    pq.write_table(table_from_records(older), d / "events.parquet", write_page_index=True)
    w = RunLogWriter(d, compact_every=10**6)
    for i in range(5, 8):
        assert w.append(_event(i)) == i + 1
    assert w.compact() == 8
    assert list(pd.read_parquet(d / "events.parquet")["price"]) == [100.0 + i for i in range(8)]
    w.close()


def test_many_small_row_groups_are_merged_on_close(tmp_path):
    import pyarrow.parquet as pq

    d = tmp_path / "r"
    w = RunLogWriter(d, compact_every=3)
    for i in range(60):
        w.append(_event(i))
        w.wait_idle()
    assert pq.ParquetFile(d / "events.parquet").metadata.num_row_groups > 16
    w.close()
    assert pq.ParquetFile(d / "events.parquet").metadata.num_row_groups == 1
    assert list(pd.read_parquet(d / "events.parquet")["step"]) == list(range(1, 61))


def test_a_failed_background_compaction_loses_nothing_and_is_retried(tmp_path, monkeypatch):
    d = tmp_path / "r"
    w = RunLogWriter(d, compact_every=5, trim_rounds=1)
    real = RunLogWriter._append_parquet
    failures = iter([OSError("disk full"), OSError("disk full")])

    def flaky(self, table):
        err = next(failures, None)
        if err is not None:
            raise err
        return real(self, table)

    monkeypatch.setattr(RunLogWriter, "_append_parquet", flaky)
    for i in range(10):
        w.append(_event(i))
        assert w.wait_idle()  # one round per 5 events: both fail
    assert isinstance(w.compact_error, OSError)
    assert not (d / "events.parquet").exists()
    assert [e["step"] for e in runlog.read_events(d)] == list(range(1, 11))  # all still in the JSONL
    for i in range(10, 15):
        w.append(_event(i))
    assert w.wait_idle() and w.compact_error is None
    assert len(pd.read_parquet(d / "events.parquet")) == 15
    w.close()
    assert list(pd.read_parquet(d / "events.parquet")["step"]) == list(range(1, 16))


def test_tail_of_a_closed_run_reads_only_the_last_row_groups(tmp_path, monkeypatch):
    d = tmp_path / "r"
    w = RunLogWriter(d, compact_every=10**6)
    for i in range(30):
        w.append(_event(i))
    w.compact()
    w.append(_event(30))
    w.close()  # the JSONL keeps the last round only: one event
    monkeypatch.setattr(runlog, "read_events", lambda _d: pytest.fail("the whole run was read for its tail"))
    tail = runlog.tail_events(d, 5)
    assert [e["step"] for e in tail] == [27, 28, 29, 30, 31]
    assert tail[-1]["ts_event"] == "2025-12-07T12:00:30Z" and tail[0]["risk_reasons"] == []


def test_crash_between_parquet_rename_and_truncate_counts_once(tmp_path):
    w = RunLogWriter(tmp_path / "r", compact_every=1000)
    for i in range(5):
        w.append(_event(i))
    saved = (tmp_path / "r" / "events.jsonl").read_bytes()
    w.compact()
    # simulate the crash window: the Parquet file holds 1..5 but the JSONL was not emptied yet
    (tmp_path / "r" / "events.jsonl").write_bytes(saved)
    w.append(_event(5))  # step 6 goes after the stale lines
    assert [e["step"] for e in runlog.read_events(tmp_path / "r")] == [1, 2, 3, 4, 5, 6]
    assert list(runlog.read_events_frame(tmp_path / "r")["step"]) == [1, 2, 3, 4, 5, 6]
    assert runlog.count_events(tmp_path / "r") == 6


def test_torn_last_line_is_ignored(tmp_path):
    w = RunLogWriter(tmp_path / "r", compact_every=1000)
    for i in range(3):
        w.append(_event(i))
    with open(tmp_path / "r" / "events.jsonl", "ab") as fh:
        fh.write(b'{"step": 4, "price": 1')
    assert [e["step"] for e in runlog.read_events(tmp_path / "r")] == [1, 2, 3]
    assert len(runlog.read_events_frame(tmp_path / "r")) == 3
    assert [e["step"] for e in runlog.tail_events(tmp_path / "r", 2)] == [2, 3]


def test_reopened_writer_continues_numbering(tmp_path):
    with RunLogWriter(tmp_path / "r", compact_every=2) as w:
        for i in range(3):
            w.append(_event(i))
    w2 = RunLogWriter(tmp_path / "r")
    assert w2.append(_event(9)) == 4


def test_secrets_never_reach_the_event_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", "s3cr3t-value-xyz")
    w = RunLogWriter(tmp_path / "r")
    w.append({**_event(1), "error": "auth failed for s3cr3t-value-xyz"})
    w.close()
    raw = (tmp_path / "r" / "events.parquet").read_bytes() + (tmp_path / "r" / "events.jsonl").read_bytes()
    assert b"s3cr3t-value-xyz" not in raw
    assert "***REDACTED***" in runlog.read_events(tmp_path / "r")[0]["error"]


def test_list_run_dirs_and_meta_reconcile_dead_pid(tmp_path):
    root_dir = tmp_path / "root"
    shutil.copytree(__import__("peaktrade.root", fromlist=["x"]).defaults_dir() / "config", root_dir / "config")
    from peaktrade.root import Root

    root = Root.resolve(root_dir)
    for rid in ("testnet_20251207_130000_aaaaaa", "shadow_20251207_120000_bbbbbb"):
        d = runlog.runs_dir(root) / rid
        d.mkdir(parents=True)
        runlog.write_meta(d, {"run_id": rid, "status": "running", "pid": 2**22 + 7, "pid_start": 1})
    (runlog.runs_dir(root) / "not-a-run").mkdir()
    names = [p.name for p in runlog.list_run_dirs(root)]
    assert names == ["shadow_20251207_120000_bbbbbb", "testnet_20251207_130000_aaaaaa"]
    assert runlog.read_meta(runlog.list_run_dirs(root)[0])["status"] == "crashed"
    with pytest.raises(Exception, match="not a run id"):
        runlog.run_dir(root, "../etc")


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.sampled_from(["append", "append", "append", "compact", "reopen", "torn"]), max_size=40),
       every=st.integers(1, 9), trim=st.sampled_from([1, 2, 50]))
def test_any_mix_of_appends_compactions_reopens_and_torn_lines_reads_back_exactly(tmp_path_factory, ops, every,
                                                                                  trim):
    d = tmp_path_factory.mktemp("r")
    w = RunLogWriter(d, compact_every=every, trim_rounds=trim)
    written: list[float] = []
    for op in ops:
        if op == "append":
            written.append(float(len(written)))
            w.append({**_event(0), "price": written[-1]})
        elif op == "compact":
            w.compact()
        elif op == "reopen":  # the writer dies (no close) and a new one continues the run
            assert w.wait_idle()  # (in this process its compaction thread would live on)
            w = RunLogWriter(d, compact_every=every, trim_rounds=trim)
        else:  # a killed writer left half a line behind; the next writer cuts it off
            assert w.wait_idle()
            with open(d / "events.jsonl", "ab") as fh:
                fh.write(b'{"step": 99, "price": 1')
            w = RunLogWriter(d, compact_every=every, trim_rounds=trim)
        # readers at any moment, background compactions and JSONL swaps going on
        assert [e["price"] for e in runlog.read_events(d)] == written
    assert w.wait_idle()
    events = runlog.read_events(d)
    assert [e["step"] for e in events] == list(range(1, len(written) + 1))
    assert [e["price"] for e in events] == written
    assert list(runlog.read_events_frame(d)["price"]) == written
    assert runlog.count_events(d) == len(written)
    assert [e["price"] for e in runlog.tail_events(d, 3)] == written[-3:]
    w.close()
    assert list(pd.read_parquet(d / "events.parquet")["price"]) == written
