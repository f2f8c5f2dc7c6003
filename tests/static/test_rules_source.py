"""The single source of the rules (tools/rules/) and what it renders: in sync, complete, sound."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.harness import REPO, Binaries
from tools import names, render
from tools.rules import crypto_bot, slo
from tools.rules.catalog import GROUPS, alerts
from tools.rules.model import Profile
from tools.rules.profiles import FAST
from tools.rules.prometheus import rule_files

# The alerts the alerting issue asks for, by what it calls them.
ISSUE_ALERTS = {
    "error rate > 5 %": "HttpErrorRateHigh",
    "p99 latency > 1 s": "HttpLatencyP99High",
    "process memory > 80 %": "ProcessMemoryHigh",
    "CPU > 80 % (warning) and > 90 % (critical)": "ProcessCpuHigh",
    "circuit breaker tripped": "CircuitBreakerTripped",
    "exchange feed disconnected": "ExchangeFeedDisconnected",
    "reconnect storm": "ExchangeFeedReconnectStorm",
    "order failures > 10": "TradingOrderFailuresHigh",
    "broker disconnected": "BrokerDisconnected",
    "failed authentications on the metrics API": "MetricsApiAuthFailures",
    "availability SLO": "HttpAvailabilityBudgetBurn",
    "latency SLO": "HttpLatencyBudgetBurn",
    "absent service / no data": "ServiceNoData",
    "collector down": "OtelCollectorDown",
    "receiver refusing": "OtelCollectorRefusingData",
    "exporter failures": "OtelCollectorExportFailing",
    "sending queue above 80 %": "OtelCollectorExporterQueueNearlyFull",
    "memory limiter refusing": "OtelCollectorMemoryLimiterRefusing",
}
# The names the crypto-ai-bot's dashboards read (its metrics publisher's contract).
CRYPTO_AI_BOT = {
    "kraken_ws_latency_p50_ms",
    "kraken_ws_latency_p95_ms",
    "kraken_ws_latency_p99_ms",
    "kraken_trades_per_minute",
    "kraken_ws_reconnects_total",
    "kraken_ws_connection_status",
    "kraken_events_processed_total",
}
RECORDINGS = [rule for group in GROUPS for rule in group.recordings]


def test_every_committed_file_is_what_the_sources_render() -> None:
    problems = render.differences()
    assert not problems, "\n".join(problems) + "\nrun: .venv/bin/python -m tools.render"


def _copy_rendered(tmp_path: Path) -> Path:
    for path in [*render.outputs(), Path("prometheus/alertmanager.yml")]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / path, tmp_path / path)
    return tmp_path


def test_the_check_reports_an_edited_a_missing_and_a_stale_file(tmp_path: Path) -> None:
    repo = _copy_rendered(tmp_path)
    assert render.differences(repo) == []
    rules = repo / "prometheus/rules/http.yml"
    rules.write_text(rules.read_text().replace("> 0.05", "> 0.5"))
    (repo / "grafana/dashboards/otelmetrics-trading.json").unlink()
    stale = repo / "prometheus/rules/old.yml"
    stale.write_text(f"# {render.MARKER} from tools/rules/\ngroups: []\n")
    assert render.differences(repo) == [
        "grafana/dashboards/otelmetrics-trading.json: missing",
        "prometheus/rules/http.yml: differs from what the sources render",
        "prometheus/rules/old.yml: stale (no source renders it)",
    ]
    render.write(repo)
    assert render.differences(repo) == [] and not stale.exists()


def test_the_docs_list_every_alert_with_its_runbook_and_every_recording_rule() -> None:
    tables = (REPO / "docs/alerts.md").read_text()
    runbooks = (REPO / "docs/runbooks.md").read_text()
    for alert in alerts():
        link = f"runbooks.md#{alert.name.lower()}"
        assert f"| [`{alert.name}`]({link}) | {alert.severity} |" in tables
        assert f"\n## {alert.name}\n" in runbooks
    for rule in RECORDINGS:
        assert f"| `{rule.record}` |" in tables
    assert "GENERATED" not in (REPO / "README.md").read_text()  # the README only links


def test_an_edited_generated_section_is_reported_and_rewritten(tmp_path: Path) -> None:
    repo = _copy_rendered(tmp_path)
    doc = repo / "docs/alerts.md"
    rendered = doc.read_text()
    doc.write_text(rendered.replace("](runbooks.md#httperrorratehigh) | warning", "](x) | warning"))
    assert doc.read_text() != rendered
    assert render.differences(repo) == ["docs/alerts.md: differs from what the sources render"]
    render.write(repo)
    assert render.differences(repo) == []
    assert "[`HttpErrorRateHigh`](runbooks.md#httperrorratehigh) | warning" in doc.read_text()


def test_markers_in_any_markdown_file_are_rendered_and_checked(tmp_path: Path) -> None:
    repo = _copy_rendered(tmp_path)
    alerts_doc = repo / "docs/alerts.md"
    text = alerts_doc.read_text()
    start = text.index("<!-- BEGIN GENERATED: dashboards")
    end = text.index("<!-- END GENERATED: dashboards -->") + len(
        "<!-- END GENERATED: dashboards -->"
    )
    alerts_doc.write_text(text[:start] + text[end:])
    (repo / "README.md").write_text(
        "# x\n\n<!-- BEGIN GENERATED: dashboards (python -m tools.render) -->\n"
        "<!-- END GENERATED: dashboards -->\n"
    )
    assert "**Trading**" in render.outputs(repo)[Path("README.md")]
    (repo / "docs/x.md").write_text("<!-- BEGIN GENERATED: nope (python -m tools.render) -->\n")
    with pytest.raises(ValueError, match=r"docs/x.md: no source renders the section 'nope'"):
        render.outputs(repo)
    (repo / "docs/x.md").write_text(text[start:end])
    with pytest.raises(ValueError, match="section 'dashboards' is in both"):
        render.outputs(repo)
    (repo / "docs/x.md").unlink()
    (repo / "README.md").write_text("# x\n")
    with pytest.raises(ValueError, match=r"no markdown file has the sections \['dashboards'\]"):
        render.outputs(repo)


def test_no_recording_rule_writes_a_name_an_instrument_exports() -> None:
    written = {rule.record for rule in RECORDINGS}
    assert not written & names.EXPORTED
    # The crypto-ai-bot's breaker names are what our instruments render: exported, never recorded.
    assert {"circuit_breaker_state", "circuit_breaker_trips_total"} <= names.EXPORTED


def test_recording_rules_are_level_metric_operation_or_crypto_ai_bot_names() -> None:
    for rule in RECORDINGS:
        assert rule.record in CRYPTO_AI_BOT or re.fullmatch(
            r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule.record
        )
    assert CRYPTO_AI_BOT <= {rule.record for rule in RECORDINGS}


def test_the_issue_s_alerts_exist_with_their_severities() -> None:
    severities: dict[str, set[str]] = {}
    for alert in alerts():
        severities.setdefault(alert.name, set()).add(alert.severity)
    assert set(ISSUE_ALERTS.values()) <= set(severities)
    assert severities["ProcessCpuHigh"] == {"warning", "critical"}
    assert severities["BrokerDisconnected"] == {"critical"}
    assert severities["HttpAvailabilityBudgetBurn"] == {"critical", "warning"}


def test_the_burn_rate_pairs_are_the_issue_s() -> None:
    assert slo.PAGE == ((14.4, "1h", "5m"), (6, "6h", "30m"))
    assert slo.TICKET == ((3, "1d", "2h"), (1, "3d", "6h"))
    page, ticket = (a for a in alerts() if a.name == "HttpAvailabilityBudgetBurn")
    assert "ratio_rate1h / 0.001 > 14.4" in page.expr and "ratio_rate5m / 0.001 > 14.4" in page.expr
    assert (
        "ratio_rate3d / 0.001 > 1\n" in ticket.expr and "ratio_rate6h / 0.001 > 1\n" in ticket.expr
    )


def test_every_alert_is_labelled_and_documented() -> None:
    for alert in alerts():
        assert alert.severity in ("critical", "warning"), alert.name
        assert alert.summary and alert.description and alert.runbook and alert.action
        assert "{{" not in alert.description, f"{alert.name}: descriptions are static"
        assert alert.condition


def test_every_alert_fires_in_a_case_stays_quiet_in_another_and_its_for_is_tested() -> None:
    by_name: dict[str, list] = {}
    for alert in alerts():
        by_name.setdefault(alert.name, []).append(alert)
    for name, rules in by_name.items():
        cases = [case for rule in rules for case in rule.cases]
        fired = {firing.severity for case in cases for firing in case.firing}
        assert fired == {rule.severity for rule in rules}, f"{name}: not every severity fires"
        assert any(not case.firing for case in cases), f"{name}: no case where it stays quiet"
        if any(rule.for_ not in ("0s", "0m") for rule in rules):
            assert any(case.pending_at for case in cases), f"{name}: its `for` is not tested"


def test_the_crypto_ai_bot_latency_rules_copy_the_pair_label() -> None:
    compat = crypto_bot.COMPAT.recordings
    p50 = next(r for r in compat if r.record == "kraken_ws_latency_p50_ms")
    assert '"pair", "$1", "exchange_pair"' in p50.expr and "* 1000" in p50.expr


def test_a_profile_renders_ranges_subqueries_and_offsets() -> None:
    profile = Profile("p", {"5m": "5s", "1h": "15s", "1m": "3s"}, "1s")
    promql = "rate(x[5m]) or max_over_time(y[1h:1m]) or z offset 5m or w[1h:]"
    assert (
        profile.expr(promql) == "rate(x[5s]) or max_over_time(y[15s:3s]) or z offset 5s or w[15s:]"
    )
    assert profile.duration("0s") == "0s"
    with pytest.raises(ValueError, match="no mapping for duration '2h'"):
        profile.expr("rate(x[2h])")


def _seconds(duration: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return float(duration[:-1]) * units[duration[-1]]


def test_the_fast_profile_keeps_the_order_of_every_window() -> None:
    ordered = sorted(FAST.durations, key=_seconds)
    assert [FAST.durations[d] for d in ordered] == sorted(FAST.durations.values(), key=_seconds)
    for _, long, short in (*slo.PAGE, *slo.TICKET):
        assert _seconds(FAST.duration(short)) < _seconds(FAST.duration(long))
    assert min(_seconds(v) for v in FAST.durations.values()) >= 3  # 3 exports at 1 s


def test_the_fast_variant_passes_promtool(binaries: Binaries, tmp_path: Path) -> None:
    for name, text in rule_files(GROUPS, FAST).items():
        (tmp_path / name).write_text(text)
        groups = yaml.safe_load(text)["groups"]
        assert all(group["interval"] == "1s" for group in groups)
    result = subprocess.run(
        [
            str(binaries.promtool),
            "check",
            "rules",
            "--lint=all",
            "--lint-fatal",
            *sorted(p.name for p in tmp_path.iterdir()),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
