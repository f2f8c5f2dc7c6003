"""The fuzz tier: Hypothesis profiles, the seed, and one app per framework for a whole module.

Two profiles with the same fixed example budget: ``ci`` (chosen when ``CI`` is set, as
``.ci/run`` runs) draws the same examples every run (``derandomize=True``); ``dev`` draws new
ones from a seed printed in the report header and with any failure
(``OTELMETRICS_FUZZ_SEED=<n>`` replays it). ``OTELMETRICS_FUZZ_PROFILE`` picks one by name.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from types import SimpleNamespace

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import otelmetrics
from tests.fuzz.profiles import EXAMPLES, PROFILE, SEED
from tests.fuzz.traffic import ADMIN, READ
from tests.integration.api_apps import FRAMEWORKS, QUIET_RESOURCES, make_app


def pytest_report_header() -> str:
    if PROFILE == "ci":
        return f"fuzz: profile ci (derandomized, {EXAMPLES} examples per test)"
    return f"fuzz: profile {PROFILE}, seed {SEED} (replay: OTELMETRICS_FUZZ_SEED={SEED})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing fuzz test says how to replay it (the header shows only on ``pytest
    tests/fuzz``)."""
    report = yield
    if report.failed and call.when == "call" and "/tests/fuzz/" in str(item.path):
        how = "derandomized (profile ci)" if PROFILE == "ci" else f"OTELMETRICS_FUZZ_SEED={SEED}"
        report.sections.append(("fuzz seed", f"replay with {how}"))
    return report


@pytest.fixture(scope="module")
def tokens() -> SimpleNamespace:
    return SimpleNamespace(read=READ, admin=ADMIN)


@pytest.fixture(scope="module", params=FRAMEWORKS)
def app(request, tokens, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A Flask or FastAPI app with the JSON API, built once for every example of a module.

    The rate limits are out of reach: the invariants are about what each request answers.
    """
    handle = otelmetrics.configure(
        exporters=("prometheus",),
        metric_readers=[InMemoryMetricReader()],
        set_global=False,
        api_token=tokens.read,
        api_admin_token=tokens.admin,
        api_rate_limits={name: 10**9 for name in otelmetrics.Settings().api_rate_limits},
        sse_interval=0.01,
        thresholds=QUIET_RESOURCES,
        snapshot_path=str(tmp_path_factory.mktemp("fuzz") / "metrics.csv"),
    )
    yield SimpleNamespace(framework=request.param, app=make_app(request.param, handle))
    handle.shutdown()
