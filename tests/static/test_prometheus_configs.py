"""prometheus/: promtool and amtool on the very files docker-compose.yml mounts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import PROMETHEUS_DIR, Binaries
from tests.static.conftest import load_yaml


def run(*argv: str | Path, cwd: Path = PROMETHEUS_DIR) -> str:
    result = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, cwd=cwd, check=False, timeout=60
    )
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def test_promtool_accepts_prometheus_yml(binaries: Binaries, tmp_path: Path) -> None:
    """promtool needs the token file the otelmetrics job reads; it is a secret, never in the
    repository, so the check runs next to symlinks of the very files, with a stand-in token."""
    for name in ("prometheus.yml", "rules", "targets"):
        (tmp_path / name).symlink_to(PROMETHEUS_DIR / name)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "metrics-token").write_text("stand-in\n")
    output = run(binaries.promtool, "check", "config", "prometheus.yml", cwd=tmp_path)
    assert "SUCCESS" in output and "WARNING" not in output, output


def test_the_apps_are_scraped_with_the_token_from_a_file() -> None:
    [job] = [
        j
        for j in load_yaml("prometheus/prometheus.yml")["scrape_configs"]
        if j["job_name"] == "otelmetrics"
    ]
    assert job["authorization"] == {"type": "Bearer", "credentials_file": "secrets/metrics-token"}
    assert "credentials" not in job["authorization"] and "bearer_token" not in job
    [sd] = job["file_sd_configs"]
    assert sd["files"] == ["targets/otelmetrics*.yml"]
    assert load_yaml("prometheus/targets/otelmetrics.yml") == []
    assert not (PROMETHEUS_DIR / "secrets").exists(), "the token never lives in the repository"


def test_promtool_checks_and_unit_tests_the_rules(binaries: Binaries) -> None:
    rules = sorted(p.name for p in (PROMETHEUS_DIR / "rules").glob("*.yml"))
    assert rules, "no rule files in prometheus/rules"
    run(
        binaries.promtool,
        "check",
        "rules",
        "--lint=all",
        "--lint-fatal",
        *rules,
        cwd=PROMETHEUS_DIR / "rules",
    )
    tests = sorted(str(p) for p in (PROMETHEUS_DIR / "rules" / "tests").glob("*.yml"))
    assert tests, "no rule unit tests"
    run(binaries.promtool, "test", "rules", *tests)


def test_prometheus_yml_promotes_the_service_identity() -> None:
    config = load_yaml("prometheus/prometheus.yml")
    promoted = set(config["otlp"]["promote_resource_attributes"])
    assert {"service.name", "service.instance.id", "deployment.environment.name"} <= promoted
    assert config["otlp"]["translation_strategy"] == "UnderscoreEscapingWithSuffixes"
    assert config["storage"]["tsdb"]["out_of_order_time_window"]
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert jobs == ["otelmetrics", "otel-collector"]


def test_amtool_accepts_alertmanager_yml(binaries: Binaries) -> None:
    output = run(binaries.amtool, "check-config", "alertmanager.yml")
    assert "SUCCESS" in output, output


def test_the_commented_slack_and_email_examples_are_valid(
    binaries: Binaries, tmp_path: Path
) -> None:
    """Uncommenting the examples in alertmanager.yml gives a config amtool accepts."""
    text = (PROMETHEUS_DIR / "alertmanager.yml").read_text()
    # Example lines: "    # slack_configs:" and their indented bodies; prose stays a comment.
    example = re.compile(r"^    # ([a-z_]+_configs:|  )")
    lines = [
        line.replace("    # ", "    ", 1) if example.match(line) else line
        for line in text.splitlines()
    ]
    uncommented = "\n".join(lines) + "\n"
    assert "slack_configs:" in uncommented and "email_configs:" in uncommented
    assert "\n    slack_configs:" in uncommented and "\n    email_configs:" in uncommented
    config = tmp_path / "alertmanager.yml"
    config.write_text(uncommented)
    run(binaries.amtool, "check-config", config, cwd=tmp_path)


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ({"severity": "critical", "alertname": "A", "service_name": "s"}, "critical"),
        ({"severity": "warning", "alertname": "A", "service_name": "s"}, "webhook"),
        ({"severity": "info", "alertname": "A"}, "blackhole"),
        # A rule without a severity is still delivered, not silently dropped.
        ({"alertname": "A"}, "webhook"),
    ],
)
def test_routing_tree(labels: dict[str, str], receiver: str, binaries: Binaries) -> None:
    output = run(
        binaries.amtool,
        "config",
        "routes",
        "test",
        "--config.file=alertmanager.yml",
        *(f"{k}={v}" for k, v in labels.items()),
    )
    assert output.strip() == receiver


def test_no_literal_secrets_in_alertmanager_yml() -> None:
    config = load_yaml("prometheus/alertmanager.yml")
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            assert "url" not in webhook and webhook["url_file"], webhook
