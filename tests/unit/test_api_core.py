"""The framework-neutral API layer: parameters, failures, downloads and the page."""

import base64
import csv
import hashlib
import io
import json
import logging
import re
from datetime import datetime, timezone

import pytest

from otelmetrics.api import downloads, page
from otelmetrics.api.call import ApiRequest, BadParameter, int_param
from otelmetrics.api.endpoints import ENDPOINT, ENDPOINTS
from otelmetrics.api.ratelimit import RateLimiter
from otelmetrics.api.service import MetricsApi
from otelmetrics.settings import Settings
from tests.clock import Clock


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 7), ("", 7), ("1", 1), ("60", 60), ("007", 7)],
)
def test_int_param_accepts_integers_in_range(raw, expected):
    query = {} if raw is None else {"minutes": raw}
    assert int_param(query, "minutes", 7, 1, 60) == expected


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "61", "1.5", "1e3", " 5", "٣", "9" * 5000])
def test_int_param_refuses_the_rest_naming_the_range(raw):
    with pytest.raises(BadParameter) as caught:
        int_param({"minutes": raw}, "minutes", 7, 1, 60)
    assert caught.value.status == 400 and caught.value.parameter == "minutes"
    assert caught.value.allowed == {"min": 1, "max": 60}
    assert "minutes must be an integer in 1..60" in str(caught.value)
    assert len(str(caught.value)) < 120  # the bad value is echoed, truncated


def test_every_endpoint_has_a_handler_and_a_known_rate_limit_class():
    classes = set(Settings().api_rate_limits)
    assert {endpoint.limit for endpoint in ENDPOINTS} - {None} <= classes
    assert len({endpoint.name for endpoint in ENDPOINTS}) == len(ENDPOINTS)
    assert all(callable(e.handler) for e in ENDPOINTS)
    own = [e for e in ENDPOINTS if e.alias_of is None]
    # Never limited: a load balancer's health probe, and the data-free page.
    assert [e.name for e in own if e.limit is None] == ["health", "dashboard"]
    assert [e.name for e in own if e.role is None] == ["health", "dashboard"]
    assert [e.name for e in own if e.role == "admin"] == ["reset", "users", "snapshot"]
    assert [e.name for e in own if e.limit not in ("read", None)] == [
        "reset",
        "export_json",
        "export_csv",
        "all",
        "snapshot",
    ]


ALIASES = {  # the alias's path: the path of the endpoint it answers as
    "/clear": "/reset",
    "/metrics": "/current",
    "/metrics/trading": "/trading",
    "/metrics/errors": "/errors",
    "/metrics/security": "/security",
    "/dashboard": "/dashboard-data",
    "/metrics/snapshot": "/snapshot",
    "/metrics/reset": "/reset",
}


def test_an_alias_is_its_endpoint_at_another_path():
    aliases = [e for e in ENDPOINTS if e.alias_of is not None]
    assert {e.path: ENDPOINT[e.alias_of].path for e in aliases} == ALIASES
    for alias in aliases:
        endpoint = ENDPOINT[alias.alias_of]
        same = ("method", "role", "limit", "handler")
        assert [getattr(alias, a) for a in same] == [getattr(endpoint, a) for a in same]
        assert alias.summary == f"alias of {endpoint.path}"


def test_an_alias_on_a_path_the_service_has_gets_no_route():
    settings = Settings.from_env(environ={}, api_prefix="/", dashboard_path="/dashboard")
    routed = {e.name for e in MetricsApi(settings, lambda: None).routed}
    assert {e.name for e in ENDPOINTS} - routed == {"metrics", "dashboard_json"}
    default = MetricsApi(Settings.from_env(environ={}), lambda: None)
    assert {e.name for e in ENDPOINTS} - {e.name for e in default.routed} == {"dashboard_json"}


def request(path="/api/metrics/current", **query):
    return ApiRequest("GET", path, query, {}, "127.0.0.1")


def public_api(metrics):
    settings = Settings.from_env(environ={}, api_public=True)
    return MetricsApi(settings, lambda: metrics.handle)


def test_a_failing_endpoint_answers_500_json_and_logs_once(metrics, monkeypatch, caplog):
    api = public_api(metrics)
    monkeypatch.setattr(metrics.handle.stats, "summary", lambda: 1 / 0)
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.api.service"):
        for _ in range(3):
            response = api.respond(ENDPOINT["summary"], request())
            assert response.status == 500
            assert json.loads(response.body) == {
                "error": "Internal error; the server log has the details"
            }
    assert [r.levelno for r in caplog.records] == [logging.ERROR, logging.DEBUG, logging.DEBUG]


def test_a_failing_health_check_is_unhealthy_503(metrics, monkeypatch, caplog):
    api = public_api(metrics)
    monkeypatch.setattr(metrics.handle.stats, "health", lambda: 1 / 0)
    with caplog.at_level(logging.CRITICAL, logger="otelmetrics.api.service"):
        response = api.respond(ENDPOINT["health"], request())
    assert response.status == 503
    body = json.loads(response.body)
    assert body["status"] == "unhealthy" and body["success"] is False


def test_non_finite_statistics_are_served_as_null(metrics, monkeypatch):
    api = public_api(metrics)
    monkeypatch.setattr(metrics.handle.stats, "current", lambda: {"latency_p99_ms": float("nan")})
    response = api.respond(ENDPOINT["current"], request())
    assert json.loads(response.body)["metrics"] == {"latency_p99_ms": None}


def test_export_names_use_the_injected_time(metrics):
    settings = Settings.from_env(environ={}, api_public=True)
    now = datetime(2026, 1, 25, 1, 16, 30, tzinfo=timezone.utc)
    api = MetricsApi(settings, lambda: metrics.handle, now=lambda: now)
    json_export = api.respond(ENDPOINT["export_json"], request())
    csv_export = api.respond(ENDPOINT["export_csv"], request())
    assert ("Content-Disposition", 'attachment; filename="metrics_20260125_011630.json"') in (
        json_export.headers
    )
    assert (
        "Content-Disposition",
        'attachment; filename="metrics_history_20260125_011630.csv"',
    ) in csv_export.headers
    assert json.loads(json_export.body)["timestamp"] == "2026-01-25T01:16:30+00:00"


def test_csv_export_has_the_monitor_columns_first_then_any_others():
    rows = [
        {field: i for i, field in enumerate(downloads.FIELDS)} | {"server_error_rate_pct": 1.5},
        {field: 0 for field in downloads.FIELDS},
    ]
    parsed = list(csv.reader(io.StringIO(downloads.csv_export(rows).decode())))
    assert parsed[0] == [*downloads.FIELDS, "server_error_rate_pct"]
    assert parsed[1][-1] == "1.5" and parsed[2][-1] == ""
    assert downloads.csv_export([]).decode().strip() == ",".join(downloads.FIELDS)


def test_the_page_allows_exactly_its_inline_script_and_style():
    html, headers = page.render(Settings.from_env(environ={}))
    document = html.decode()
    policy = dict(headers)["Content-Security-Policy"]
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        content = re.search(rf"<{tag}>(.*?)</{tag}>", document, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy
    assert "{{" not in document


def test_the_page_config_cannot_break_out_of_its_script_block():
    settings = Settings.from_env(environ={}, api_prefix="/x</script><script>alert(1)")
    document = page.render(settings)[0].decode()
    assert "</script><script>alert(1)" not in document
    config = re.search(r'id="otelmetrics-config">(.*?)</script>', document, re.S).group(1)
    assert json.loads(config)["api"] == "/x</script><script>alert(1)"


@pytest.mark.parametrize(
    ("headers", "endpoint", "expected"),
    [
        ({}, "current", "auth_failure"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "current", "auth_failure"),
        ({"authorization": "Bearer "}, "current", "auth_failure"),
        ({"authorization": "Bearer not-the-token"}, "current", "invalid_token"),
        ({"authorization": "bearer not-the-token"}, "current", "invalid_token"),
    ],
)
def test_each_401_is_a_security_event_of_its_kind(metrics, headers, endpoint, expected):
    api = MetricsApi(Settings.from_env(environ={}), lambda: metrics.handle)
    request = ApiRequest("GET", "/api/metrics/current?x=1", {}, headers, "10.0.0.7")
    assert api.respond(ENDPOINT[endpoint], request).status == 401
    security = metrics.handle.events.security()
    assert security["events_by_type"][expected] == 1 and security["security_events_24h"] == 1
    assert security["recent_events"][0]["client"] == "10.0.0.7"
    assert security["recent_events"][0]["path"] == "/api/metrics/current"  # no query string


def test_403_and_429_are_security_events_and_a_200_is_none(metrics):
    limits = {"reset": 1, "denied": 1}  # a refused request spends the denied budget
    settings = Settings.from_env(environ={}, api_public=True, api_rate_limits=limits)
    limiter = RateLimiter(settings.api_rate_limits, clock=Clock())  # no refill meanwhile
    api = MetricsApi(settings, lambda: metrics.handle, limiter=limiter)
    assert api.respond(ENDPOINT["current"], request()).status == 200
    assert api.respond(ENDPOINT["clear"], request("/api/metrics/clear")).status == 403
    assert api.respond(ENDPOINT["clear"], request("/api/metrics/clear")).status == 429
    assert metrics.handle.events.security()["events_by_type"] == {
        "auth_failure": 0,
        "invalid_token": 0,
        "forbidden": 1,
        "rate_limited": 1,
    }


def test_a_failing_security_recorder_never_breaks_the_denial(metrics, monkeypatch, caplog):
    api = MetricsApi(Settings.from_env(environ={}), lambda: metrics.handle)
    monkeypatch.setattr(metrics.handle, "events", None)  # record_denial raises AttributeError
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.api.service"):
        for _ in range(2):
            assert api.respond(ENDPOINT["current"], request()).status == 401
    assert [r.levelno for r in caplog.records] == [logging.ERROR, logging.DEBUG]


def test_the_page_config_names_the_feed_event_and_the_banner_window():
    settings = Settings.from_env(environ={}, sse_feed_event="feed.metrics")
    document = page.render(settings)[0].decode()
    config = json.loads(re.search(r'id="otelmetrics-config">(.*?)</script>', document).group(1))
    assert config["feed_event"] == "feed.metrics"
    assert config["breaker_window_ms"] == 60_000
    for element in ("trading-panel", "circuit-breaker-banner", "trading-latency-p99"):
        assert f'id="{element}"' in document


def test_a_cross_site_browser_post_is_refused_even_with_the_admin_role(metrics):
    settings = Settings.from_env(environ={}, api_public=True)
    api = MetricsApi(settings, lambda: metrics.handle, authorize=lambda info: "admin")
    path = "/api/metrics/reset"
    cross = ApiRequest("POST", path, {}, {"sec-fetch-site": "cross-site"}, "10.0.0.7")
    same = ApiRequest("POST", path, {}, {"sec-fetch-site": "same-origin"}, "10.0.0.7")
    assert api.respond(ENDPOINT["reset"], cross).status == 403
    assert metrics.handle.events.security()["events_by_type"]["forbidden"] == 1
    assert api.respond(ENDPOINT["reset"], same).status == 200
