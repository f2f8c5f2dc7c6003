"""docker-compose.yml, checked without a Docker engine: schema, files, names, ports, versions.

The compose schema is the Compose Specification's JSON schema as vendored by the
check-jsonschema package (PyPI), validated with jsonschema.
"""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from tests.e2e.harness import PROMETHEUS_FLAGS, REPO, Binaries
from tests.static.conftest import dotenv, load_yaml

COMPOSE = load_yaml("docker-compose.yml")
SERVICES: dict[str, Any] = COMPOSE["services"]
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(:-[^}]*)?\}")


def interpolate(value: str) -> str:
    """Compose's ${VAR} / ${VAR:-default} with .env (the shell environment is left out)."""
    env = dotenv()

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        assert default is not None, f"${{{name}}} is neither in .env nor has a default"
        return default[2:]

    return VARIABLE.sub(replace, value)


def environment(service: str) -> dict[str, str]:
    return {k: interpolate(str(v)) for k, v in SERVICES[service].get("environment", {}).items()}


def published(service: str) -> dict[int, str]:
    """container port -> host address:port, from "127.0.0.1:HOST:CONTAINER" entries."""
    ports = {}
    for entry in SERVICES[service].get("ports", []):
        host, _, container = entry.rpartition(":")
        ports[int(container)] = host
    return ports


def bind_mounts(service: str) -> dict[str, str]:
    """container path -> host path (relative to the repo) of the ./ volumes."""
    mounts = {}
    for volume in SERVICES[service].get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[target] = source[2:]
    return mounts


def test_compose_file_matches_the_compose_specification_schema() -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(COMPOSE), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_every_variable_is_pinned_in_dotenv_or_has_a_default() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    for match in VARIABLE.finditer(text):
        interpolate(match.group(0))  # asserts


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_mounted_host_path_exists(service: str) -> None:
    for target, source in bind_mounts(service).items():
        assert (REPO / source).exists(), f"{service}: {source} (for {target}) does not exist"


def test_images_are_the_versions_our_binaries_are_built_at(binaries: Binaries) -> None:
    env = dotenv()
    images = {name: interpolate(s["image"]) for name, s in SERVICES.items()}
    assert (
        images["otel-collector"] == f"otel/opentelemetry-collector-contrib:{env['OTELCOL_VERSION']}"
    )
    assert images["prometheus"] == f"prom/prometheus:{env['PROMETHEUS_VERSION']}"
    assert images["alertmanager"] == f"prom/alertmanager:{env['ALERTMANAGER_VERSION']}"
    assert images["grafana"] == f"grafana/grafana:{env['GRAFANA_VERSION']}"
    for image in images.values():
        assert not image.endswith(":latest") and ":" in image, image

    def version(binary: object, *args: str) -> str:
        result = subprocess.run([str(binary), *args], capture_output=True, text=True, check=True)
        return result.stdout + result.stderr

    assert f"version {env['OTELCOL_VERSION']}" in version(binaries.otelcol, "--version")
    assert f"version {env['PROMETHEUS_VERSION'][1:]} " in version(binaries.prometheus, "--version")
    assert f"version {env['PROMETHEUS_VERSION'][1:]} " in version(binaries.promtool, "--version")
    alertmanager = env["ALERTMANAGER_VERSION"][1:]
    assert f"version {alertmanager} " in version(binaries.alertmanager, "--version")
    assert f"version {alertmanager} " in version(binaries.amtool, "--version")


def test_the_collector_runs_the_tested_config_with_matching_ports() -> None:
    service = SERVICES["otel-collector"]
    mounts = bind_mounts("otel-collector")
    [(target, source)] = mounts.items()
    assert source == "collector"
    configs = [arg.split("=", 1)[1] for arg in service["command"] if arg.startswith("--config=")]
    assert configs == [f"{target}/otelcol-config.yaml"]
    config_text = (REPO / "collector" / "otelcol-config.yaml").read_text()
    # Published ports are the config's defaults.
    for variable, port in [
        ("OTELCOL_OTLP_GRPC_ENDPOINT", 4317),
        ("OTELCOL_OTLP_HTTP_ENDPOINT", 4318),
        ("OTELCOL_HEALTH_ENDPOINT", 13133),
    ]:
        assert f"${{env:{variable}:-0.0.0.0:{port}}}" in config_text
        assert port in published("otel-collector")
    assert "${env:OTELCOL_METRICS_PORT:-8888}" in config_text
    assert 8888 in published("otel-collector")
    # Host ports only on loopback.
    for service_name in SERVICES:
        for host in published(service_name).values():
            assert host.startswith("127.0.0.1:"), (service_name, host)


def test_service_names_and_ports_agree_across_the_configs() -> None:
    collector_env = environment("otel-collector")
    push = urlsplit(collector_env["OTELCOL_PROMETHEUS_OTLP_ENDPOINT"])
    assert (push.hostname, push.port, push.path) == ("prometheus", 9090, "/api/v1/otlp")
    assert 9090 in published("prometheus")

    demo = environment("demo")
    otlp = urlsplit(demo["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert (otlp.hostname, otlp.port) == ("otel-collector", 4318)
    assert demo["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"

    targets = load_yaml("prometheus/targets/otel-collector.yml")
    assert targets == [{"targets": ["otel-collector:8888"]}]
    alertmanagers = load_yaml("prometheus/targets/alertmanager.yml")
    assert alertmanagers == [{"targets": ["alertmanager:9093"]}]
    assert 9093 in published("alertmanager")

    datasource = load_yaml("grafana/provisioning/datasources/prometheus.yaml")["datasources"][0]
    assert (datasource["uid"], datasource["url"]) == ("prometheus", "http://prometheus:9090")
    # Aligned intervals: demo export = collector scrape = Grafana's timeInterval.
    scrape = load_yaml("prometheus/prometheus.yml")["global"]["scrape_interval"]
    assert int(demo["OTEL_METRIC_EXPORT_INTERVAL"]) == 15000
    assert scrape == datasource["jsonData"]["timeInterval"] == "15s"


def test_prometheus_runs_with_the_flags_and_files_the_tests_use() -> None:
    command = SERVICES["prometheus"]["command"]
    for flag in PROMETHEUS_FLAGS:
        assert flag in command
    mounts = bind_mounts("prometheus")
    config = next(a.split("=", 1)[1] for a in command if a.startswith("--config.file="))
    assert mounts[config] == "prometheus/prometheus.yml"
    # file_sd targets and rules resolve next to the config file, as in tests/e2e.
    directory = config.rsplit("/", 1)[0]
    assert mounts[f"{directory}/targets"] == "prometheus/targets"
    assert mounts[f"{directory}/rules"] == "prometheus/rules"


def test_alertmanager_reads_the_webhook_url_from_the_compose_secret() -> None:
    service = SERVICES["alertmanager"]
    command = service["command"]
    config = next(a.split("=", 1)[1] for a in command if a.startswith("--config.file="))
    assert bind_mounts("alertmanager")[config] == "prometheus/alertmanager.yml"
    [secret] = service["secrets"]
    assert COMPOSE["secrets"][secret["source"]] == {"environment": "ALERTMANAGER_WEBHOOK_URL"}
    url_files = {
        webhook["url_file"]
        for receiver in load_yaml("prometheus/alertmanager.yml")["receivers"]
        for webhook in receiver.get("webhook_configs", [])
    }
    # url_file is relative to the working directory.
    assert {f"{service['working_dir']}/{f}" for f in url_files} == {secret["target"]}


def test_prometheus_reads_the_apps_metrics_token_from_a_compose_secret() -> None:
    service = SERVICES["prometheus"]
    config = next(a.split("=", 1)[1] for a in service["command"] if a.startswith("--config.file="))
    [job] = [
        j
        for j in load_yaml("prometheus/prometheus.yml")["scrape_configs"]
        if j["job_name"] == "otelmetrics"
    ]
    # credentials_file is relative to the config file's directory.
    wanted = f"{config.rsplit('/', 1)[0]}/{job['authorization']['credentials_file']}"
    [secret] = service["secrets"]
    assert secret["target"] == wanted
    assert COMPOSE["secrets"][secret["source"]] == {"environment": "OTELMETRICS_METRICS_TOKEN"}
    targets = job["file_sd_configs"][0]["files"][0]
    assert bind_mounts("prometheus")[f"{config.rsplit('/', 1)[0]}/targets"] == "prometheus/targets"
    assert targets.startswith("targets/")


def test_secrets_from_the_environment_are_pinned_in_dotenv() -> None:
    """Compose refuses to start when a secret's variable is unset; .env holds a placeholder."""
    variables = {s["environment"] for s in COMPOSE["secrets"].values() if "environment" in s}
    assert variables and not variables - set(dotenv()), variables - set(dotenv())


def test_grafana_gets_the_provisioning_directory() -> None:
    assert bind_mounts("grafana")["/etc/grafana/provisioning"] == "grafana/provisioning"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_has_a_healthcheck_except_the_scratch_collector(service: str) -> None:
    if service == "otel-collector":
        # FROM scratch: nothing to run a check with (documented in docker-compose.yml).
        assert "healthcheck" not in SERVICES[service]
        return
    check = SERVICES[service]["healthcheck"]
    assert check["test"][0] == "CMD" and check["interval"] and check["retries"]


def test_the_demo_image_runs_the_demo_on_all_interfaces() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    command = ["otelmetrics", "demo", "--host", "0.0.0.0", "--port", "8000", "--api-port", "8051"]
    assert f"CMD {json.dumps(command)}" in dockerfile
    assert SERVICES["demo"]["command"] == command
    assert SERVICES["demo"]["build"] == {
        "context": ".",
        "dockerfile": "Dockerfile",
        "args": {"PYTHON_IMAGE": "${PYTHON_IMAGE}"},
    }
    assert 'RUN pip install -c constraints.txt ".[demo]"' in dockerfile
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), line
    # What pyproject.toml needs to build is copied: its readme and its package.
    assert "COPY pyproject.toml README.md constraints.txt ./" in dockerfile
    assert "COPY otelmetrics ./otelmetrics" in dockerfile
