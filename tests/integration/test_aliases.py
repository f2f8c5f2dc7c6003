"""The MT5-style monitoring API's paths, on both frameworks: each alias answers what its
endpoint answers, with the same role and the same rate-limit budget; ``<prefix>/dashboard``
shares the live page's path by default and answers JSON to a client that asks for it; and
``X-Response-Time``, when enabled, is on every response: the app's, the API's, ``/metrics``."""

from __future__ import annotations

import csv
import re

import pytest

from tests.integration.api_apps import ApiClient, make_app
from tests.integration.test_api import masked, traffic

MONITORING = "/api/monitoring"  # where the MT5-style API had them
READS = [  # (alias, endpoint)
    ("metrics", "current"),
    ("metrics/trading", "trading"),
    ("metrics/errors", "errors"),
    ("metrics/security", "security"),
    ("dashboard", "dashboard-data"),
]
POSTS = [("metrics/snapshot", "snapshot"), ("metrics/reset", "reset")]
JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def steady(view):
    """``view`` without what changes between two calls: times, and the process's CPU, memory
    and disk figures (``/performance``'s sample renews every 5 s), their names kept."""
    view = masked(view)
    if isinstance(view.get("performance"), dict):
        view["performance"] = sorted(view["performance"])
    return view


@pytest.fixture
def monitoring(make_handle, framework):
    handle = make_handle(api_prefix=MONITORING)
    return ApiClient(framework, make_app(framework, handle), prefix=MONITORING)


@pytest.mark.parametrize(("alias", "endpoint"), READS)
def test_an_alias_answers_what_its_endpoint_answers(monitoring, tokens, alias, endpoint):
    traffic(monitoring, ok=3, fail=1)
    one, other = monitoring.get(alias, tokens.read), monitoring.get(endpoint, tokens.read)
    assert one.status == other.status == 200, (alias, one.body[:200])
    assert one.headers["content-type"] == other.headers["content-type"] == "application/json"
    assert steady(one.json()) == steady(other.json())


@pytest.mark.parametrize(("alias", "endpoint"), READS + POSTS)
def test_an_alias_needs_what_its_endpoint_needs(monitoring, tokens, alias, endpoint):
    send = monitoring.post if (alias, endpoint) in POSTS else monitoring.get
    assert send(alias).status == send(endpoint).status == 401
    read = 403 if (alias, endpoint) in POSTS else 200
    assert send(alias, tokens.read).status == send(endpoint, tokens.read).status == read


def test_the_posts_do_what_their_endpoints_do(make_handle, framework, tokens):
    handle = make_handle(api_prefix=MONITORING)
    monitoring = ApiClient(framework, make_app(framework, handle), prefix=MONITORING)
    traffic(monitoring, ok=4)
    assert monitoring.get("current", tokens.read).json()["metrics"]["total_requests"] == 4
    row = monitoring.post("metrics/snapshot", tokens.admin).json()
    assert row["success"] is True
    with open(handle.snapshots.path, newline="") as file:
        assert [r["ts_utc"] for r in csv.DictReader(file)] == [row["snapshot"]["ts_utc"]]
    assert monitoring.post("metrics/reset", tokens.admin).status == 200
    assert monitoring.get("metrics", tokens.read).json()["metrics"]["total_requests"] == 0


@pytest.mark.parametrize(
    ("alias", "endpoint", "budget"),
    [
        ("metrics/reset", "reset", "reset"),
        ("metrics/snapshot", "snapshot", "snapshot"),
        ("metrics", "current", "read"),
    ],
)
def test_an_alias_spends_its_endpoints_budget(
    make_handle, framework, tokens, alias, endpoint, budget
):
    limits = {"read": 100, "export": 100, "reset": 100, "snapshot": 100, budget: 2}
    handle = make_handle(api_prefix=MONITORING, api_rate_limits=limits)
    client = ApiClient(framework, make_app(framework, handle), prefix=MONITORING)
    send = client.get if budget == "read" else client.post
    assert send(endpoint, tokens.admin).status == 200
    assert send(alias, tokens.admin).status == 200
    refused = send(endpoint, tokens.admin)
    assert refused.status == 429 and refused.json()["limit"] == budget


def test_at_the_live_pages_path_a_json_client_gets_the_dashboard_data(client, tokens):
    assert client.prefix + "/dashboard" == "/api/metrics/dashboard"  # the page's default path
    page = client.get("dashboard", **BROWSER)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert client.get("dashboard").headers["content-type"].startswith("text/html")  # */*
    assert client.get("dashboard", **JSON).status == 401  # the data needs credentials
    data = client.get("dashboard", tokens.read, **JSON)
    assert data.status == 200 and data.headers["content-type"] == "application/json"
    assert steady(data.json()) == steady(client.get("dashboard-data", tokens.read).json())


def test_with_the_api_at_the_root_metrics_stays_the_prometheus_endpoint(
    make_handle, framework, tokens
):
    handle = make_handle(api_prefix="/", dashboard_path="/live", metrics_token=tokens.read)
    client = ApiClient(framework, make_app(framework, handle), prefix="")
    assert client.get("current", tokens.read).status == 200
    scrape = client.get("/metrics", tokens.read)
    assert scrape.status == 200 and b"# TYPE " in scrape.body
    assert client.get("/metrics/trading", tokens.read).json()["success"] is True


def test_x_response_time_is_on_every_response(make_handle, framework, tokens):
    handle = make_handle(response_time_header=True, api_prefix=MONITORING)
    client = ApiClient(framework, make_app(framework, handle), prefix=MONITORING)
    replies = {
        "the app's": client.get("/ok"),
        "health": client.get("health"),
        "an alias": client.get("metrics", tokens.read),
        "a refusal": client.get("metrics"),
        "a 404 under the prefix": client.get("nothing-here"),
        "/metrics": client.get("/metrics"),
        "the live page": client.get("/api/metrics/dashboard"),
    }
    for what, reply in replies.items():
        value = reply.headers.get("x-response-time", "")
        assert re.fullmatch(r"\d+\.\d{2}ms", value), (what, reply.status, value)
