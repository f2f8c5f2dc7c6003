import secrets
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import otelmetrics
from otelmetrics.api import service
from otelmetrics.api.ratelimit import RateLimiter
from tests.clock import Clock
from tests.integration.api_apps import FRAMEWORKS, QUIET_RESOURCES, ApiClient, make_app
from tests.integration.receivers import GrpcReceiver, HttpReceiver


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def grpc_receiver() -> Iterator[GrpcReceiver]:
    receiver = GrpcReceiver()
    yield receiver
    receiver.close()


# -- the JSON API's handles and clients, for test_api.py and test_operations_api.py ------


@pytest.fixture
def tokens():
    return SimpleNamespace(read=secrets.token_urlsafe(), admin=secrets.token_urlsafe())


@pytest.fixture
def make_handle(tokens, tmp_path):
    handles = []

    def make(**options):
        reader = InMemoryMetricReader()
        settings = {
            "exporters": ("prometheus",),
            "metric_readers": [reader],
            "set_global": False,
            "api_token": tokens.read,
            "api_admin_token": tokens.admin,
            "sse_interval": 0.02,
            "thresholds": QUIET_RESOURCES,
            "snapshot_path": str(tmp_path / "logs" / "metrics.csv"),
            **options,
        }
        handle = otelmetrics.configure(**settings)
        handle.reader = reader
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.shutdown()


@pytest.fixture(params=FRAMEWORKS)
def framework(request):
    return request.param


@pytest.fixture
def handle(make_handle):
    return make_handle()


@pytest.fixture
def client(framework, handle):
    return ApiClient(framework, make_app(framework, handle))


@pytest.fixture(autouse=True)
def limiter_clock(monkeypatch):
    """The JSON API's rate limiters count time on this clock, which moves only when a test
    moves it: no bucket refills while a slow machine runs a test's requests."""
    clock = Clock()

    def make(limits, **options):
        return RateLimiter(limits, clock=clock, **options)

    monkeypatch.setattr(service, "RateLimiter", make)
    return clock
