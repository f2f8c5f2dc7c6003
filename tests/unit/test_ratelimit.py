"""Token buckets per (client, endpoint class), on an injected clock."""

import pytest

from otelmetrics.api.ratelimit import RateLimiter, retry_after
from tests.clock import Clock


@pytest.fixture
def clock():
    return Clock()


def test_a_full_bucket_allows_the_limit_then_says_how_long_to_wait(clock):
    limiter = RateLimiter({"export": 10}, clock=clock)
    assert [limiter.acquire("a", "export") for _ in range(10)] == [None] * 10
    wait = limiter.acquire("a", "export")
    assert wait == pytest.approx(6.0)  # one token per 6 s at 10 per minute
    assert retry_after(wait) == 6


def test_tokens_come_back_at_the_steady_rate(clock):
    limiter = RateLimiter({"reset": 5}, clock=clock)
    for _ in range(5):
        assert limiter.acquire("a", "reset") is None
    clock.now += 11.9
    assert limiter.acquire("a", "reset") == pytest.approx(0.1)
    clock.now += 0.1
    assert limiter.acquire("a", "reset") is None
    assert limiter.acquire("a", "reset") == pytest.approx(12.0)


def test_a_refused_request_takes_no_token(clock):
    limiter = RateLimiter({"reset": 1}, clock=clock)
    assert limiter.acquire("a", "reset") is None
    for _ in range(100):
        assert limiter.acquire("a", "reset") is not None
    clock.now += 60
    assert limiter.acquire("a", "reset") is None


def test_clients_and_classes_have_their_own_buckets(clock):
    limiter = RateLimiter({"read": 1, "export": 1}, clock=clock)
    assert limiter.acquire("a", "read") is None
    assert limiter.acquire("a", "read") is not None
    assert limiter.acquire("a", "export") is None
    assert limiter.acquire("b", "read") is None
    assert limiter.acquire(None, "read") is None  # an unknown peer shares one bucket
    assert limiter.acquire(None, "read") is not None


def test_a_class_without_a_limit_is_unlimited(clock):
    limiter = RateLimiter({"read": 1}, clock=clock)
    assert all(limiter.acquire("a", "other") is None for _ in range(1000))
    assert len(limiter) == 0


def test_memory_is_bounded_and_idle_clients_go_first(clock):
    limiter = RateLimiter({"read": 2}, clock=clock, max_clients=3)
    for client in ("a", "b", "c"):
        limiter.acquire(client, "read")
    limiter.acquire("a", "read")  # a is now the most recently used
    limiter.acquire("d", "read")  # b, the least recently used, is dropped
    assert len(limiter) == 3
    assert limiter.acquire("a", "read") is not None  # a kept its (empty) bucket
    for client in (f"flood-{i}" for i in range(1000)):
        limiter.acquire(client, "read")
    assert len(limiter) == 3


def test_retry_after_is_whole_seconds_at_least_one():
    assert retry_after(0.01) == 1
    assert retry_after(1.0) == 1
    assert retry_after(1.2) == 2


def test_bad_max_clients_fails_at_setup():
    with pytest.raises(ValueError, match="max_clients"):
        RateLimiter({"read": 1}, max_clients=0)
