"""The rolling window: ≤ 1 % accurate percentiles, bounded memory, expiry and reset."""

import random

import pytest

from otelmetrics.core.window import RELATIVE_ACCURACY, RollingWindow, Sketch

QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)


def exact(values, qs):
    ordered = sorted(values)
    return [ordered[int(q * (len(ordered) - 1))] for q in qs]


def datasets():
    rng = random.Random(7)
    n = 50_000
    return {
        "uniform": [rng.uniform(0.0005, 2.0) for _ in range(n)],
        "lognormal": [rng.lognormvariate(-4.0, 1.2) for _ in range(n)],
        "bimodal": [
            rng.gauss(0.012, 0.002) if rng.random() < 0.8 else rng.gauss(0.6, 0.08)
            for _ in range(n)
        ],
    }


@pytest.mark.parametrize("name", ["uniform", "lognormal", "bimodal"])
def test_quantiles_are_within_one_percent_of_the_exact_values(name):
    values = datasets()[name]
    sketch = Sketch()
    for value in values:
        sketch.add(value)
    for estimate, truth in zip(sketch.quantiles(QUANTILES), exact(values, QUANTILES), strict=True):
        assert abs(estimate - truth) <= RELATIVE_ACCURACY * truth, (name, estimate, truth)


def test_the_seeds_own_case_latencies_0_to_99_ms():
    sketch = Sketch()
    for ms in range(100):
        sketch.add(ms / 1000)
    p50, p95, p99 = (v * 1000 for v in sketch.quantiles((0.5, 0.95, 0.99)))
    assert 45 <= p50 <= 55  # the seed's own assertions (001, test_latency_percentiles)
    assert 90 <= p95 <= 96
    assert 97 <= p99 <= 100


def test_zero_and_sub_microsecond_values_count_as_zero():
    sketch = Sketch()
    for value in (0.0, 1e-9, -1.0, 0.5):
        sketch.add(value)
    assert sketch.quantiles((0.0, 0.5, 1.0)) == [0.0, 0.0, pytest.approx(0.5, rel=0.01)]
    assert Sketch().quantile(0.99) == 0.0


def test_counts_widen_instead_of_overflowing():
    sketch = Sketch()
    for _ in range(70_000):
        sketch.add(0.01)
    assert sketch.n == 70_000
    assert sketch.quantile(0.5) == pytest.approx(0.01, rel=0.01)


def test_merging_and_taking_back_restores_the_sketch():
    a, b = Sketch(), Sketch()
    for i in range(1, 500):
        a.add(i / 1000)
        b.add(i / 10)
    merged = a.copy()
    merged.merge(b)
    assert merged.n == a.n + b.n
    merged.merge(b, -1)
    assert merged.quantiles(QUANTILES) == a.quantiles(QUANTILES)


def test_memory_is_independent_of_the_request_rate():
    rng = random.Random(1)
    sizes = []
    for per_second in (100, 1000):
        window, now = RollingWindow(300), 0.0
        for _ in range(300 * per_second):
            now += 1 / per_second
            window.add(rng.lognormvariate(-4.0, 0.5), 200, now)
        sizes.append(window.nbytes())
    assert sizes[1] <= sizes[0] * 1.5  # ten times the rate: only the rarest tails add buckets
    assert max(sizes) <= 8 * 1024


def test_rates_percentiles_and_expiry_with_an_injected_clock():
    window = RollingWindow(60)  # ten slots of 6 s
    for i in range(60):
        window.add(0.010, 500 if i < 6 else 200, now=float(i))
    view = window.view(59.5)
    assert view.requests == 60
    assert (view.errors, view.server_errors) == (6, 6)
    assert view.p50 == pytest.approx(0.010, rel=0.01)
    assert view.seconds == pytest.approx(59.5)
    later = window.view(90.0)  # the slots that started at or before t=30 have left
    assert later.requests == 24
    assert later.errors == 0
    assert later.seconds == pytest.approx(54.0)  # counts span t=36..90
    assert window.view(1000.0).requests == 0
    assert window.totals == [60, 6, 6]


def test_client_errors_count_as_errors_but_not_server_errors():
    window = RollingWindow(300)
    for status in (200, 404, 429, 503):
        window.add(0.001, status, now=1.0)
    view = window.view(2.0)
    assert (view.requests, view.errors, view.server_errors) == (4, 3, 1)


def test_reset_starts_from_zero():
    window = RollingWindow(300)
    window.add(0.2, 500, now=5.0)
    window.reset()
    assert window.view(6.0).requests == 0
    assert window.totals == [0, 0, 0]
    window.add(0.1, 200, now=7.0)
    assert window.view(8.0).p50 == pytest.approx(0.1, rel=0.01)
