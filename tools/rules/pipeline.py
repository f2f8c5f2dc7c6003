"""Pipeline health: the collectors, from their own metrics scraped by Prometheus.

The collector serves its metrics without unit or type suffixes (collector/otelcol-config.yaml),
the names of the usual collector alert rules: ``otelcol_receiver_refused_metric_points``,
``otelcol_exporter_queue_size``, ``otelcol_processor_memory_limiter_refused_metric_points``.
"""

from __future__ import annotations

from tools import names
from tools.rules.model import Alert, AlertCase, Firing, Group
from tools.rules.promql import label, matchers, series

JOB = matchers({names.JOB: names.COLLECTOR_JOB})
COLLECTOR = {names.INSTANCE: "otel-collector:8888"}
_TARGET = {names.JOB: names.COLLECTOR_JOB, **COLLECTOR}
EXPORTER = {**COLLECTOR, names.EXPORTER: "otlp_http/backend"}
UP = f"{names.UP}{{{JOB}}}"
BY_EXPORTER = f"{names.INSTANCE}, {names.EXPORTER}"
_COLLECTOR = f"Collector {label(names.INSTANCE)}"

_BACKEND = {names.EXPORTER: "otlp_http/backend"}
_OTLP_HTTP = {names.RECEIVER: "otlp", names.TRANSPORT: "http"}
_LIMITER = {names.PROCESSOR: "memory_limiter"}


def _rate(by: str, metric: str) -> str:
    """Any increase of a collector counter over 5 m, per ``by``."""
    return f"sum by ({by}) (rate({metric}{{{JOB}}}[5m])) > 0"


def _scraped(metric: str, values: str, labels: dict[str, str] | None = None) -> dict[str, str]:
    """promtool input: one series of the collector's scrape, with ``labels`` beyond job/instance."""
    return {series(metric, {**_TARGET, **(labels or {})}): values}


def _exporter(metric: str, values: str) -> dict[str, str]:
    return _scraped(metric, values, _BACKEND)


DOWN = Alert(
    "OtelCollectorDown",
    "critical",
    f"{UP} == 0",
    "1m",
    "Prometheus cannot scrape a collector",
    f"{_COLLECTOR} is down",
    "Prometheus cannot scrape the collector for 1 minute; apps behind it cannot export.",
    """\
Every app behind this collector loses its metrics (the SDKs retry, then drop). Check the
process or container (`docker compose ps otel-collector`, its log), its health endpoint
(:13133) and memory: a collector killed by the OOM killer restarts in a loop, see
`OtelCollectorMemoryLimiterRefusing` and docs/collector-tuning.md. While it fires,
`ServiceNoData` is inhibited.""",
    action="restart the collector; check its log and memory",
    cases=(
        AlertCase(
            "down since 30 s: pending; down for more than a minute: firing",
            _scraped(names.UP, "1 1 0 0 0 0 0 0"),
            at="105s",
            firing=(
                Firing(
                    "critical",
                    {**COLLECTOR, names.JOB: names.COLLECTOR_JOB},
                    "Collector otel-collector:8888 is down",
                ),
            ),
            pending_at="45s",
        ),
        AlertCase("up", _scraped(names.UP, "1x10"), at="105s"),
    ),
)

ABSENT = Alert(
    "OtelCollectorAbsent",
    "critical",
    f"absent({UP})",
    "5m",
    "Prometheus has no collector to scrape at all",
    "Prometheus scrapes no collector (job otel-collector has no targets)",
    "Nothing is scraped in job otel-collector: the targets file is missing or empty, so "
    "collector failures would go unnoticed.",
    """\
Prometheus reads the collectors to scrape from prometheus/targets/otel-collector*.yml (file
service discovery). Check that the directory is mounted (docker-compose.yml) and lists your
collectors, and look at Prometheus's *Status > Service discovery* page.""",
    action="fix prometheus/targets/otel-collector*.yml or its mount",
    cases=(
        AlertCase(
            "no collector target at all",
            {series(names.PROCESS_CPU_UTILIZATION, {names.JOB: "orders"}): "0.1x40"},
            at="6m",
            firing=(
                Firing(
                    "critical",
                    {names.JOB: names.COLLECTOR_JOB},
                    "Prometheus scrapes no collector (job otel-collector has no targets)",
                ),
            ),
            pending_at="4m45s",
        ),
        AlertCase("a collector is scraped", _scraped(names.UP, "1x40"), at="6m"),
    ),
)

DROPPING = Alert(
    "OtelCollectorDroppingData",
    "critical",
    _rate(BY_EXPORTER, names.OTELCOL_ENQUEUE_FAILED),
    "1m",
    "an exporter's sending queue is full and drops data",
    f"{_COLLECTOR} drops data for {label(names.EXPORTER)}",
    "The exporter's sending queue is full; its backend is down or too slow.",
    """\
Data is being lost. The backend of this exporter (Prometheus's OTLP receiver, or your OTLP
backend) does not keep up or is down: check it first. On **Pipeline health**, *Queue fill*
and *Exported / failed* show since when. Raise `OTELCOL_PROMETHEUS_QUEUE_SIZE` (or the
backend's queue) only if the backend is healthy but bursty; docs/collector-tuning.md has
measured sizes.""",
    action="fix or scale the exporter's backend: data is being lost",
    cases=(
        AlertCase(
            "enqueue failures from 30 s on",
            _exporter(names.OTELCOL_ENQUEUE_FAILED, "0 0 1000+1000x39"),
            at="4m",
            firing=(
                Firing(
                    "critical",
                    EXPORTER,
                    "Collector otel-collector:8888 drops data for otlp_http/backend",
                ),
            ),
            pending_at="1m",
        ),
        AlertCase(
            "no enqueue failures",
            _exporter(names.OTELCOL_ENQUEUE_FAILED, "0x40"),
            at="4m",
        ),
    ),
)

QUEUE = Alert(
    "OtelCollectorExporterQueueNearlyFull",
    "warning",
    f"max by ({BY_EXPORTER}) ({names.OTELCOL_QUEUE_SIZE}{{{JOB}}} / "
    f"{names.OTELCOL_QUEUE_CAPACITY}{{{JOB}}}) > 0.8",
    "5m",
    "an exporter's sending queue above 80 %",
    f"{_COLLECTOR}: {label(names.EXPORTER)} queue {{{{ $value | humanizePercentage }}}} full",
    "Check the exporter's backend; the queue drops data when full.",
    """\
A backlog is building: the backend is slower than the incoming data, or down and being
retried. Check the backend, then *Queue fill* on **Pipeline health**. If the backend is
healthy and the load simply grew, add exporter consumers or another collector
(docs/collector-tuning.md).""",
    action="check the exporter's backend before the queue fills",
    cases=(
        AlertCase(
            "queue at 90 % from 15 s on",
            {
                **_exporter(names.OTELCOL_QUEUE_SIZE, "0 90000x40"),
                **_exporter(names.OTELCOL_QUEUE_CAPACITY, "100000x41"),
            },
            at="10m",
            firing=(
                Firing(
                    "warning",
                    EXPORTER,
                    "Collector otel-collector:8888: otlp_http/backend queue 90% full",
                ),
            ),
            pending_at="5m",
        ),
        AlertCase(
            "queue at 10 %",
            {
                **_exporter(names.OTELCOL_QUEUE_SIZE, "10000x40"),
                **_exporter(names.OTELCOL_QUEUE_CAPACITY, "100000x40"),
            },
            at="10m",
        ),
    ),
)

EXPORT_FAILING = Alert(
    "OtelCollectorExportFailing",
    "warning",
    _rate(BY_EXPORTER, names.OTELCOL_SEND_FAILED),
    "5m",
    "an exporter fails to send (retried)",
    f"{_COLLECTOR} fails to export to {label(names.EXPORTER)}",
    "Sends to the exporter's backend fail (retried); see the collector's log.",
    """\
Sends fail and are retried; nothing is lost yet, but the queue grows. The collector's log
says why (connection refused, 4xx from the backend: a bad endpoint or credentials, 5xx: the
backend is unwell). A 400 from Prometheus's OTLP receiver usually means out-of-order or
duplicate samples: see `out_of_order_time_window` in prometheus/prometheus.yml.""",
    action="read the collector's log for the send error",
    cases=(
        AlertCase(
            "send failures from 0 on",
            _exporter(names.OTELCOL_SEND_FAILED, "0+100x40"),
            at="6m",
            firing=(
                Firing(
                    "warning",
                    EXPORTER,
                    "Collector otel-collector:8888 fails to export to otlp_http/backend",
                ),
            ),
            pending_at="5m",
        ),
        AlertCase(
            "no failures",
            _exporter(names.OTELCOL_SEND_FAILED, "0x40"),
            at="6m",
        ),
    ),
)

REFUSING = Alert(
    "OtelCollectorRefusingData",
    "warning",
    _rate(names.INSTANCE, names.OTELCOL_REFUSED),
    "5m",
    "a receiver refuses data",
    f"{_COLLECTOR} refuses data",
    "SDKs retry, but sustained refusals mean the collector needs memory or its backend is stuck.",
    """\
The collector answers apps with a retryable error: its memory limiter refuses (see
`OtelCollectorMemoryLimiterRefusing`) or a full queue pushes back. Apps retry, then drop. Fix
the cause downstream (backend, queue) or give the collector more memory; scale out with a
gateway topology (docs/pipeline.md) when one collector is not enough.""",
    action="find what pushes back: memory limiter or a full queue",
    cases=(
        AlertCase(
            "refusals from 0 on",
            _scraped(names.OTELCOL_REFUSED, "0+50x40", _OTLP_HTTP),
            at="6m",
            firing=(Firing("warning", COLLECTOR, "Collector otel-collector:8888 refuses data"),),
            pending_at="5m",
        ),
        AlertCase(
            "nothing refused",
            _scraped(names.OTELCOL_REFUSED, "0x40", _OTLP_HTTP),
            at="6m",
        ),
    ),
)

LIMITER = Alert(
    "OtelCollectorMemoryLimiterRefusing",
    "warning",
    _rate(names.INSTANCE, names.OTELCOL_LIMITER_REFUSED),
    "2m",
    "the memory limiter refuses data",
    f"{_COLLECTOR} is at its memory limit and refuses data",
    "The collector's heap passed the memory limiter's soft limit; it refuses new data until "
    "memory drops.",
    """\
The collector is at `limit_mib - spike_limit_mib` (collector/otelcol-config.yaml). On
**Pipeline health**, *Collector memory* shows RSS and heap against the limit. Usual causes: a
backend outage filling the queue (then `OtelCollectorExporterQueueNearlyFull` fires too), or
more load than one collector holds. Raise the container limit together with `limit_mib` and
GOMEMLIMIT, or add collectors (docs/collector-tuning.md).""",
    action="relieve the backend or give the collector more memory",
    cases=(
        AlertCase(
            "refusals from 0 on",
            _scraped(names.OTELCOL_LIMITER_REFUSED, "0+500x20", _LIMITER),
            at="3m",
            firing=(
                Firing(
                    "warning",
                    COLLECTOR,
                    "Collector otel-collector:8888 is at its memory limit and refuses data",
                ),
            ),
            pending_at="1m45s",
        ),
        AlertCase(
            "nothing refused",
            _scraped(names.OTELCOL_LIMITER_REFUSED, "0x20", _LIMITER),
            at="3m",
        ),
    ),
)

GROUPS = (
    Group(
        "otel-collector",
        "otel-collector",
        (DOWN, ABSENT, DROPPING, QUEUE, EXPORT_FAILING, REFUSING, LIMITER),
        "Alerts on the collectors themselves, from their own metrics (job otel-collector).",
    ),
)
