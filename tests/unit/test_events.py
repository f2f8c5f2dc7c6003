"""Errors and security events: views, 24 h expiry, bounds, exported counters, threads."""

import logging
import secrets
import threading
from datetime import datetime, timezone

import pytest

from otelmetrics.instruments.events import (
    KNOWN_SCOPES,
    RECENT_ERRORS,
    RECENT_SECURITY,
    SCOPE_LIMIT,
    DayCounter,
    Events,
    security_type,
)
from tests.clock import Clock

START = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def events(clock):
    return Events(clock=clock)


def test_errors_view_counts_by_scope_and_keeps_the_last_ten_newest_first(events, clock):
    for i in range(12):
        clock.now += 1
        events.record_error("trading" if i % 3 else "feed", f"failure {i}")
    view = events.errors()
    assert view["errors_24h"] == 12
    assert view["errors_by_scope"] == {"feed": 4, "trading": 8}
    assert view["total_errors"] == 12
    assert [e["message"] for e in view["last_errors"]] == [f"failure {i}" for i in range(11, 1, -1)]
    newest = view["last_errors"][0]
    assert newest == {
        "time": datetime.fromtimestamp(START + 12, timezone.utc).isoformat(),
        "scope": "trading",
        "message": "failure 11",
    }
    assert len(view["last_errors"]) == RECENT_ERRORS


def test_errors_leave_the_24h_count_but_stay_in_the_totals(events, clock):
    events.record_error("http", "a")
    clock.now += 3600
    events.record_error("http", "b")
    clock.now += 86_400 - 3600 + 300  # the first error's slot is now older than 24 h
    view = events.errors()
    assert view["errors_24h"] == 1
    assert view["errors_by_scope"] == {"http": 1}
    assert view["total_by_scope"] == {"http": 2}
    clock.now += 3600
    assert events.errors()["errors_24h"] == 0
    assert events.errors()["errors_by_scope"] == {}


def test_day_counter_reuses_its_slots_after_a_day():
    day = DayCounter()
    day.add(START, 5)
    day.add(START + 86_400, 2)  # same slot index, a day later: the old count is gone
    assert day.total(START + 86_400) == 2
    assert day.total(START) == 0  # the slot now holds a later time


def test_scopes_are_capped_and_text_is_bounded(events, caplog):
    with caplog.at_level(logging.WARNING):
        for i in range(SCOPE_LIMIT + 20):
            events.record_error(f"scope-{i}", "x")
    events.record_error("http", "line\nbreak\x00" + "y" * 2000)
    view = events.errors()
    kept = SCOPE_LIMIT - len(KNOWN_SCOPES)  # the known scopes hold their places
    assert len(view["errors_by_scope"]) == kept + 2  # the kept ones, http and _OTHER
    assert view["errors_by_scope"]["_OTHER"] == SCOPE_LIMIT + 20 - kept
    assert view["errors_by_scope"]["http"] == 1  # a known scope survives the flood
    message = view["last_errors"][0]["message"]
    assert len(message) == 500 and "\n" not in message and "\x00" not in message
    assert sum("otelmetrics.error.scope" in r.getMessage() for r in caplog.records) == 1


def test_http_errors_name_method_route_status_and_exception(events):
    events.record_http_error("GET", "/orders/{id}", 500, "ZeroDivisionError")
    events.record_http_error("POST", None, 503, "503")
    assert [e["message"] for e in events.errors()["last_errors"]] == [
        "POST (no route) -> 503",
        "GET /orders/{id} -> 500 ZeroDivisionError",
    ]
    assert events.errors()["errors_by_scope"] == {"http": 2}


@pytest.mark.parametrize(
    ("status", "token", "expected"),
    [
        (401, False, "auth_failure"),
        (401, True, "invalid_token"),
        (403, True, "forbidden"),
        (429, False, "rate_limited"),
        (200, True, None),
        (500, False, None),
    ],
)
def test_security_type_of_each_denial(status, token, expected):
    assert security_type(status, token_presented=token) == expected


def test_security_view_never_keeps_a_token_or_a_query(events, clock):
    token = secrets.token_urlsafe()
    path = f"/api/metrics/current?token={token}#frag"
    events.record_denial(401, client="10.0.0.7", path=path, token_presented=True)
    events.record_denial(401, client="10.0.0.8", path="/api/metrics/history", token_presented=False)
    events.record_denial(403, client=None, path="/api/metrics/reset", token_presented=True)
    events.record_denial(429, client="10.0.0.7", path="/api/metrics/current", token_presented=True)
    events.record_denial(200, client="10.0.0.7", path="/api/metrics/current", token_presented=True)
    view = events.security()
    assert token not in repr(view)
    assert view["security_events_24h"] == 4
    assert view["auth_failures_24h"] == 2
    assert view["invalid_token_attempts_24h"] == 1
    assert view["events_by_type"] == {
        "auth_failure": 1,
        "invalid_token": 1,
        "forbidden": 1,
        "rate_limited": 1,
    }
    assert view["recent_events"][-1] == {
        "time": datetime.fromtimestamp(START, timezone.utc).isoformat(),
        "type": "invalid_token",
        "client": "10.0.0.7",
        "path": "/api/metrics/current",
    }
    assert view["recent_events"][1]["client"] is None


def test_recent_security_events_are_capped(events):
    for i in range(RECENT_SECURITY + 5):
        events.record_security("rate_limited", client=f"10.0.0.{i}", path="/x")
    view = events.security()
    assert len(view["recent_events"]) == RECENT_SECURITY
    assert view["recent_events"][0]["client"] == f"10.0.0.{RECENT_SECURITY + 4}"
    assert view["total_by_type"]["rate_limited"] == RECENT_SECURITY + 5


def test_bad_calls_are_logged_once_and_never_raise(events, caplog):
    with caplog.at_level(logging.WARNING):
        events.record_security("bogus", client="x", path="/")
        events.record_security("bogus", client="x", path="/")
    assert events.security()["security_events_24h"] == 0
    assert sum("record_security" in r.getMessage() for r in caplog.records) == 1
    events.record_error(None, object())  # type: ignore[arg-type]
    assert events.errors()["errors_by_scope"] == {"None": 1}


def test_counters_are_exported_with_their_attributes(metrics):
    events = metrics.handle.events
    events.record_error("trading", "rejected")
    events.record_error("trading", "rejected again")
    events.record_error("feed", "stale book")
    events.record_denial(401, client="10.0.0.7", path="/api/metrics/x", token_presented=True)
    events.record_denial(429, client="10.0.0.7", path="/api/metrics/x", token_presented=False)
    points = metrics.points("app.errors")
    errors = {p.attributes["otelmetrics.error.scope"]: p.value for p in points}
    assert errors == {"trading": 2, "feed": 1}
    security = metrics.points("otelmetrics.api.security_events")
    assert {p.attributes["otelmetrics.security.event"]: p.value for p in security} == {
        "invalid_token": 1,
        "rate_limited": 1,
    }


def test_concurrent_records_are_all_counted(metrics):
    events = metrics.handle.events

    def work():
        for _ in range(1000):
            events.record_error("http", "boom")
            events.record_security("forbidden", client="c", path="/p")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert events.errors()["errors_24h"] == 8000
    assert events.security()["events_by_type"]["forbidden"] == 8000
    assert metrics.points("app.errors")[0].value == 8000


def test_reset_starts_from_zero_and_keeps_recording(metrics):
    events = metrics.handle.events
    events.record_error("http", "boom")
    metrics.handle.after_fork_in_child()  # what a forked worker does
    assert events.errors()["total_errors"] == 0
    assert metrics.points("app.errors") == []
    events.record_error("http", "again")
    assert metrics.points("app.errors")[0].value == 1


def test_clear_forgets_the_views_but_not_the_exported_counters(metrics):
    events = metrics.handle.events
    events.record_error("http", "boom")
    events.record_security("forbidden", client="c", path="/p")
    events.clear()  # what the API's reset does
    assert events.errors()["total_errors"] == 0
    assert events.security()["recent_events"] == []
    assert metrics.points("app.errors")[0].value == 1  # cumulative, as Prometheus requires
    events.record_error("http", "again")
    assert metrics.points("app.errors")[0].value == 2
