"""The CSV snapshot log: exact columns, header, rotation, the thread, and no half row ever.

The crash tests run real child processes: two appenders killed with SIGKILL mid-loop, and one
whose file size limit (RLIMIT_FSIZE) cuts a write short.
"""

import csv
import errno
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from otelmetrics.insights.snapshot_row import SnapshotRow
from otelmetrics.insights.snapshots import COLUMNS, HEADER, SnapshotLog, encode_row
from otelmetrics.settings import Settings

SEED_COLUMNS = (
    "ts_utc,uptime_hours,total_requests,total_errors,error_rate,orders_placed,orders_failed,"
    "order_success_rate,broker_connected,broker_failures"
)


def row(n: int = 1, **changes):
    values = {
        "ts_utc": "2026-11-21T12:00:00Z",
        "uptime_hours": 1.5,
        "total_requests": 100 * n,
        "total_errors": n,
        "error_rate": 1.0,
        "orders_placed": 10,
        "orders_failed": 1,
        "order_success_rate": 90.0,
        "broker_connected": True,
        "broker_failures": 0,
    }
    return {**values, **changes}


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as file:
        return list(csv.reader(file))


def test_the_header_is_seed_004s_and_written_once(tmp_path):
    assert HEADER.decode() == SEED_COLUMNS + "\n"
    log = SnapshotLog(tmp_path / "logs" / "metrics.csv")
    log.append(row(1))
    log.append(row(2, broker_connected=None, order_success_rate=None))
    rows = read_rows(tmp_path / "logs" / "metrics.csv")
    assert rows[0] == list(COLUMNS)
    assert ",".join(rows[1]) == "2026-11-21T12:00:00Z,1.5,100,1,1.0,10,1,90.0,1,0"
    assert rows[2][2] == "200" and rows[2][7] == "" and rows[2][8] == ""
    assert len(rows) == 3


def test_the_row_type_lists_the_columns_in_order():
    assert tuple(SnapshotRow.__annotations__) == COLUMNS


def test_an_empty_existing_file_gets_the_header(tmp_path):
    path = tmp_path / "metrics.csv"
    path.touch()
    SnapshotLog(path).append(row())
    assert read_rows(path)[0] == list(COLUMNS)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({k: v for k, v in row().items() if k != "orders_failed"}, "missing ['orders_failed']"),
        ({**row(), "mt5_connected": 1}, "unknown ['mt5_connected']"),
    ],
)
def test_a_row_without_exactly_the_columns_is_refused(tmp_path, bad, words):
    path = tmp_path / "metrics.csv"
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        SnapshotLog(path).append(bad)
    assert not path.exists()


def test_a_value_with_a_comma_or_a_newline_stays_in_its_cell():
    encoded = encode_row(row(ts_utc="a,b\nc"))
    assert encoded.count(b"\n") == 1
    assert next(csv.reader([encoded.decode()]))[0] == "a,b c"


def test_rotation_renames_and_keeps_the_configured_backups(tmp_path):
    path = tmp_path / "metrics.csv"
    line = len(encode_row(row()))
    log = SnapshotLog(path, max_bytes=len(HEADER) + 3 * line, backups=2)
    for n in range(10):
        log.append(row(n))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["metrics.csv", "metrics.csv.1", "metrics.csv.2"]
    kept = [read_rows(Path(f"{path}{suffix}")) for suffix in (".2", ".1", "")]
    assert all(rows[0] == list(COLUMNS) for rows in kept)
    totals = [int(r[2]) for rows in kept for r in rows[1:]]
    assert totals == [300, 400, 500, 600, 700, 800, 900]  # the oldest file was dropped


def test_without_backups_rotation_starts_over(tmp_path):
    path = tmp_path / "metrics.csv"
    log = SnapshotLog(path, max_bytes=len(HEADER) + len(encode_row(row())), backups=0)
    log.append(row(1))
    log.append(row(2))
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]
    assert [r[2] for r in read_rows(path)[1:]] == ["200"]


def test_from_settings_and_snapshot_use_the_provider(tmp_path):
    settings = Settings.from_env(
        {},
        snapshot_path=str(tmp_path / "s.csv"),
        snapshot_max_bytes=1000,
        snapshot_backups=1,
        snapshot_interval=60,
    )
    log = SnapshotLog.from_settings(settings, provider=lambda: row(7))
    assert (log.max_bytes, log.backups, log.interval) == (1000, 1, 60)
    assert log.snapshot()["total_requests"] == 700
    assert read_rows(tmp_path / "s.csv")[1][2] == "700"
    with pytest.raises(RuntimeError, match="needs a provider"):
        SnapshotLog(tmp_path / "x.csv").snapshot()


def test_the_periodic_thread_appends_until_stopped(tmp_path):
    three = threading.Event()
    calls = []

    def provider():
        calls.append(1)
        if len(calls) == 3:
            three.set()
        return row(len(calls))

    log = SnapshotLog(tmp_path / "p.csv", provider=provider, interval=0.01, fsync=False)
    log.start()
    log.start()  # idempotent: still one thread
    assert three.wait(10)
    log.stop()
    log._thread.join(10)
    rows = read_rows(tmp_path / "p.csv")
    assert len(rows) - 1 == len(calls) >= 3
    assert [r[2] for r in rows[1:]] == [str(100 * n) for n in range(1, len(calls) + 1)]


def test_the_thread_survives_a_failing_provider(tmp_path, caplog):
    recovered = threading.Event()
    calls = []

    def provider():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("stats not ready")
        recovered.set()
        return row()

    log = SnapshotLog(tmp_path / "f.csv", provider=provider, interval=0.01, fsync=False)
    log.start()
    assert recovered.wait(10)
    log.stop()
    log._thread.join(10)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "snapshot to" in warnings[0].getMessage()


def test_start_needs_an_interval_and_a_provider(tmp_path):
    with pytest.raises(ValueError, match="OTELMETRICS_SNAPSHOT_INTERVAL"):
        SnapshotLog(tmp_path / "x.csv", provider=row).start()
    with pytest.raises(ValueError, match="0 or more"):
        SnapshotLog(tmp_path / "x.csv", max_bytes=-1)


APPENDER = """
import sys
from otelmetrics.insights.snapshots import SnapshotLog
path, worker, max_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
log = SnapshotLog(path, max_bytes=max_bytes, backups=50, fsync=False)
n = 0
while True:
    n += 1
    log.append({
        "ts_utc": "2026-11-21T12:00:00Z", "uptime_hours": worker, "total_requests": n,
        "total_errors": "x" * (n % 97), "error_rate": 0.5, "orders_placed": n,
        "orders_failed": 0, "order_success_rate": 100.0, "broker_connected": True,
        "broker_failures": worker,
    })
    if n == 300:
        print("ready", flush=True)
"""


def appenders(path: Path, max_bytes: int, count: int = 2) -> list[subprocess.Popen]:
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}
    return [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(path), str(worker), str(max_bytes)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for worker in range(count)
    ]


def assert_whole_rows(files: list[Path]) -> int:
    """Every file: the header, then rows of exactly 10 cells, each one intact. Row count."""
    total = 0
    for file in files:
        data = file.read_bytes()
        assert data.endswith(b"\n"), file
        rows = read_rows(file)
        assert rows[0] == list(COLUMNS), file
        for cells in rows[1:]:
            assert len(cells) == len(COLUMNS), (file, cells)
            assert cells[0] == "2026-11-21T12:00:00Z" and cells[9] in ("0", "1")
            assert cells[3] == "x" * (int(cells[2]) % 97)  # this row's own padding, whole
        total += len(rows) - 1
    return total


@pytest.mark.parametrize("max_bytes", [0, 20_000], ids=["one-file", "rotating"])
def test_processes_killed_mid_append_never_leave_a_half_row(tmp_path, max_bytes):
    path = tmp_path / "metrics.csv"
    for _ in range(3):  # three rounds of two concurrent appenders, each SIGKILL-ed
        children = appenders(path, max_bytes)
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
        for child in children:
            os.kill(child.pid, signal.SIGKILL)  # while it keeps appending
        for child in children:
            child.communicate()
            assert child.returncode == -signal.SIGKILL
    files = sorted(tmp_path.iterdir())
    assert (len(files) > 2) is bool(max_bytes)
    assert assert_whole_rows(files) >= 6 * 300


SHORT_WRITE = """
import resource, signal, sys
from otelmetrics.insights.snapshots import HEADER, SnapshotLog, encode_row
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit returns short instead
row = {name: "7" for name in ("ts_utc", "uptime_hours", "total_requests", "total_errors",
       "error_rate", "orders_placed", "orders_failed", "order_success_rate",
       "broker_connected", "broker_failures")}
limit = len(HEADER) + 2 * len(encode_row(row)) + 5
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
log = SnapshotLog(sys.argv[1])
for n in range(3):
    try:
        log.append(row)
    except OSError as exc:
        print(n, exc.errno)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file size limits only")
def test_a_short_write_is_taken_back(tmp_path):
    path = tmp_path / "metrics.csv"
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", SHORT_WRITE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert done.stdout.split() == ["2", str(errno.ENOSPC)]  # 5 bytes went out, then back
    assert path.read_bytes().endswith(b"\n")
    assert len(read_rows(path)) == 3  # header and the two rows that fit, nothing of the third
