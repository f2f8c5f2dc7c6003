import random

import pytest
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
)

from otelmetrics.core.aggregators import ExplicitBuckets, ExponentialBuckets
from otelmetrics.instruments.http import DURATION_BOUNDS


def sdk_point(values, aggregation):
    reader = InMemoryMetricReader(preferred_aggregation={Histogram: aggregation})
    provider = MeterProvider(metric_readers=[reader])
    histogram = provider.get_meter("t").create_histogram("h")
    for value in values:
        histogram.record(value)
    point = (
        reader.get_metrics_data()
        .resource_metrics[0]
        .scope_metrics[0]
        .metrics[0]
        .data.data_points[0]
    )
    provider.shutdown()
    return point


def nonzero(offset, counts):
    """Bucket index -> count, without the zero padding either side may carry."""
    return {index: n for index, n in enumerate(counts, offset) if n}


def lognormal(n, seed):
    rng = random.Random(seed)
    return [rng.lognormvariate(-3, 1.5) for _ in range(n)]


def test_explicit_buckets_match_the_sdk_including_values_on_a_bound():
    values = [*lognormal(2000, 1), *DURATION_BOUNDS, 0.0, 100.0]
    ours = ExplicitBuckets(DURATION_BOUNDS)
    for value in values:
        ours.add(value)
    theirs = sdk_point(values, ExplicitBucketHistogramAggregation(list(DURATION_BOUNDS)))
    snap = ours.snapshot()
    assert list(snap.counts) == list(theirs.bucket_counts)
    assert (snap.n, snap.min, snap.max) == (theirs.count, theirs.min, theirs.max)
    assert snap.total == pytest.approx(theirs.sum)


@pytest.mark.parametrize(
    "values",
    [
        lognormal(5000, 2),
        [0.25, 0.5, 1.0, 2.0, 4.0, 1024.0],  # exact powers of two sit on bucket bounds
        [1.5] * 10,  # one bucket at the highest scale
        [0.0, 0.0, 3.0, 0.001, 7.5],  # zeros
        [1e-9, 1e9],  # a huge range forces a deep downscale
    ],
    ids=["lognormal", "powers-of-two", "single-value", "zeros", "huge-range"],
)
def test_exponential_buckets_equal_the_sdk_bucket_for_bucket(values):
    ours = ExponentialBuckets()
    for value in values:
        ours.add(value)
    theirs = sdk_point(values, ExponentialBucketHistogramAggregation())
    snap = ours.snapshot()
    assert snap.scale == theirs.scale
    assert snap.zero_count == theirs.zero_count
    assert nonzero(*snap.positive) == nonzero(theirs.positive.offset, theirs.positive.bucket_counts)
    assert nonzero(*snap.negative) == nonzero(theirs.negative.offset, theirs.negative.bucket_counts)
    assert snap.n == theirs.count
    assert len(snap.positive[1]) <= 160


def test_negative_values_mirror_the_positive_buckets():
    positive, mixed = ExponentialBuckets(), ExponentialBuckets()
    for value in lognormal(500, 3):
        positive.add(value)
        mixed.add(value)
        mixed.add(-value)
    assert mixed.snapshot().negative == mixed.snapshot().positive == positive.snapshot().positive
    assert mixed.snapshot().total == pytest.approx(0.0, abs=1e-9)
