"""The scale-out profile without a Docker engine: docker-compose.scale.yml, store/ and
collector/scale-out/, checked against each other and by the real binaries (thanos, promtool,
the collector). tests/e2e/test_scale_out.py runs the same files and flags.
"""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]  # no stubs published
import pytest

from tests.e2e.harness import COLLECTOR_DIR, REPO, Binaries
from tests.e2e.store import (
    AGENT_CONFIGS,
    COMPOSE_FILE,
    GATEWAY_CONFIGS,
    LOCAL_FLAGS,
    STORE_DIR,
    flag_name,
    shipped_flags,
    thanos_binary,
)
from tests.static.conftest import dotenv, load_yaml
from tests.static.test_compose import VARIABLE, interpolate

COMPOSE = load_yaml("docker-compose.scale.yml")
SERVICES: dict[str, Any] = COMPOSE["services"]
ROUTERS = ["thanos-router-1", "thanos-router-2"]
INGESTORS = ["thanos-receive-1", "thanos-receive-2", "thanos-receive-3"]
GATEWAYS = ["otel-gateway-1", "otel-gateway-2"]
SCALE_OUT_CONFIGS = sorted(p.name for p in (COLLECTOR_DIR / "scale-out").glob("*.yaml"))


def values(service: str, flag: str) -> list[str]:
    """Every value of ``--flag=value`` in the service's command, in order."""
    command = SERVICES[service]["command"]
    return [a.split("=", 1)[1] for a in command if flag_name(a) == flag]


def value(service: str, flag: str) -> str:
    [only] = values(service, flag)
    return only


def port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def bind_mounts(service: str) -> dict[str, str]:
    """container path -> host path (relative to the repo) of the ./ volumes."""
    mounts = {}
    for volume in SERVICES[service].get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[target] = source[2:]
    return mounts


def host_path(service: str, container_path: str) -> Path:
    """The repository file a container path of ``service`` resolves to, through its mounts."""
    for target, source in bind_mounts(service).items():
        if container_path == target or container_path.startswith(target + "/"):
            return REPO / source / container_path[len(target) :].lstrip("/")
    raise AssertionError(f"{service}: {container_path} is not mounted from the repository")


def run(*argv: object, cwd: Path = REPO) -> str:
    result = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


# --- the compose file --------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification_schema() -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(COMPOSE), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_every_variable_is_pinned_in_dotenv_or_has_a_default() -> None:
    for match in VARIABLE.finditer(COMPOSE_FILE.read_text()):
        interpolate(match.group(0))  # asserts


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_mounted_host_path_exists(service: str) -> None:
    for target, source in bind_mounts(service).items():
        assert (REPO / source).exists(), f"{service}: {source} (for {target}) does not exist"


def test_images_are_the_pinned_versions_and_thanos_is_the_built_one() -> None:
    env = dotenv()
    images = {name: interpolate(s["image"]) for name, s in SERVICES.items()}
    thanos = {images[s] for s in (*ROUTERS, *INGESTORS, "thanos-query", "thanos-rule")}
    assert thanos == {f"quay.io/thanos/thanos:{env['THANOS_VERSION']}"}
    assert images["prometheus-agent"] == f"prom/prometheus:{env['PROMETHEUS_VERSION']}"
    assert images["alertmanager"] == f"prom/alertmanager:{env['ALERTMANAGER_VERSION']}"
    collector = f"otel/opentelemetry-collector-contrib:{env['OTELCOL_VERSION']}"
    assert {images[s] for s in ("otel-agent", *GATEWAYS)} == {collector}
    version = run(thanos_binary(), "--version")
    assert f"version {env['THANOS_VERSION'][1:]} " in version, version


def test_host_ports_are_published_on_loopback_only() -> None:
    for name, service in SERVICES.items():
        for entry in service.get("ports", []):
            assert entry.startswith("127.0.0.1:"), (name, entry)


# --- collectors --------------------------------------------------------------------------------


def collector_configs(service: str) -> tuple[str, ...]:
    return tuple(
        str(host_path(service, path).relative_to(COLLECTOR_DIR))
        for path in values(service, "--config")
    )


def test_the_collectors_run_the_configs_the_e2e_test_runs() -> None:
    assert collector_configs("otel-agent") == AGENT_CONFIGS
    for gateway in GATEWAYS:
        assert collector_configs(gateway) == GATEWAY_CONFIGS
    agent_env = SERVICES["otel-agent"]["environment"]
    assert agent_env["OTELCOL_GATEWAY_ENDPOINTS"] == "[otel-gateway-1:4317, otel-gateway-2:4317]"
    demo = urlsplit(SERVICES["demo"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert (demo.hostname, demo.port) == ("otel-agent", 4318)


def test_each_gateway_writes_to_its_own_router_otlp_endpoint() -> None:
    routers = []
    for gateway in GATEWAYS:
        url = urlsplit(SERVICES[gateway]["environment"]["OTELCOL_THANOS_OTLP_ENDPOINT"])
        assert url.hostname in ROUTERS and url.path == "/api/v1/otlp", url
        assert url.port == port(value(url.hostname, "--remote-write.address"))
        routers.append(url.hostname)
    assert sorted(routers) == ROUTERS


@pytest.mark.parametrize("headers", [None, "{THANOS-TENANT: shop}"], ids=["default", "tenant"])
def test_the_gateway_configs_validate(headers: str | None, binaries: Binaries) -> None:
    env = {"PATH": "/usr/bin:/bin"} | ({"OTELCOL_THANOS_HEADERS": headers} if headers else {})
    args = [a for name in GATEWAY_CONFIGS for a in ("--config", str(COLLECTOR_DIR / name))]
    result = subprocess.run(
        [str(binaries.otelcol), "validate", *args], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr


ENV_REFERENCE = re.compile(r"\$\{env:([A-Z0-9_]+)(:-[^}]*)?\}")
CREDENTIAL_WORDS = ("bearer ", "api-key", "password", "token")


@pytest.mark.parametrize("name", SCALE_OUT_CONFIGS)
def test_scale_out_variables_have_defaults_and_are_documented(name: str) -> None:
    lines = (COLLECTOR_DIR / "scale-out" / name).read_text().lower().splitlines()
    code = [line for line in lines if not line.lstrip().startswith("#")]
    assert not [line for line in code if any(word in line for word in CREDENTIAL_WORDS)]
    text = (COLLECTOR_DIR / "scale-out" / name).read_text()
    docs = (REPO / "docs" / "scale-out.md").read_text() + (REPO / "docs/pipeline.md").read_text()
    for variable, default in ENV_REFERENCE.findall(text):
        assert default, f"{name}: ${{env:{variable}}} has no default"
        assert f"`{variable}`" in docs, f"{variable} ({name}) is not in docs/scale-out.md"


# --- Thanos: one topology, the same flags everywhere -------------------------------------------


def test_routers_spread_over_exactly_the_ingestors_with_replication_factor_2() -> None:
    hashrings = json.loads((STORE_DIR / "hashring.json").read_text())
    [hashring] = hashrings
    ingestors = [f"{s}:{port(value(s, '--grpc-address'))}" for s in INGESTORS]
    assert hashring["endpoints"] == ingestors and hashring["algorithm"] == "ketama"
    for router in ROUTERS:
        assert host_path(router, value(router, "--receive.hashrings-file")) == (
            STORE_DIR / "hashring.json"
        )
        assert value(router, "--receive.replication-factor") == "2"
        assert value(router, "--receive.hashrings-algorithm") == "ketama"
        # RouterOnly: a router with a local endpoint would also store (and need a volume).
        assert not values(router, "--receive.local-endpoint")
    for ingestor in INGESTORS:  # IngestorOnly: no hashring of their own
        assert not values(ingestor, "--receive.hashrings-file")


def test_replicas_differ_only_in_their_replica_label() -> None:
    """The e2e test runs each service's own flags; this makes sure they are alike."""
    assert shipped_flags(ROUTERS[0]) == shipped_flags(ROUTERS[1])
    labels = [value(s, "--label") for s in INGESTORS]
    assert labels == [f'receive_replica="{n}"' for n in (1, 2, 3)]
    unlabelled = [[a for a in shipped_flags(s) if flag_name(a) != "--label"] for s in INGESTORS]
    assert unlabelled[0] == unlabelled[1] == unlabelled[2]
    for service in (*ROUTERS, *INGESTORS):  # several receivers on one host need all four
        for flag in LOCAL_FLAGS & {"--grpc-address", "--http-address", "--tsdb.path"}:
            assert values(service, flag), (service, flag)
        assert values(service, "--receive.capnproto-address"), service


def test_query_reads_every_store_and_deduplicates_both_replica_labels() -> None:
    endpoints = values("thanos-query", "--endpoint")
    stores = [*INGESTORS, "thanos-rule"]
    assert endpoints == [f"{s}:{port(value(s, '--grpc-address'))}" for s in stores]
    replica_labels = values("thanos-query", "--query.replica-label")
    assert replica_labels == ["receive_replica", "rule_replica"]
    assert value("thanos-rule", "--label").split("=")[0] == "rule_replica"
    assert value("thanos-query", "--deduplication.func") == "chain"


def test_the_ruler_runs_the_shipped_rules_against_query_into_the_alertmanager() -> None:
    globs = [host_path("thanos-rule", g) for g in values("thanos-rule", "--rule-file")]
    assert globs == [STORE_DIR / "rules" / "*.yml", REPO / "prometheus" / "rules" / "*.yml"]
    query_port = port(value("thanos-query", "--http-address"))
    assert value("thanos-rule", "--query") == f"http://thanos-query:{query_port}"
    assert value("thanos-rule", "--alertmanagers.url") == "http://alertmanager:9093"
    assert value("thanos-rule", "--alert.label-drop") == "rule_replica"
    alertmanager = SERVICES["alertmanager"]
    assert "127.0.0.1:9093:9093" in alertmanager["ports"]
    assert bind_mounts("alertmanager")["/etc/alertmanager/alertmanager.yml"] == (
        "prometheus/alertmanager.yml"
    )


def test_thanos_and_promtool_accept_the_rules_and_their_unit_tests(binaries: Binaries) -> None:
    shipped = sorted(str(p) for p in (REPO / "prometheus" / "rules").glob("*.yml"))
    ours = sorted(str(p) for p in (STORE_DIR / "rules").glob("*.yml"))
    rules = [f"--rules={path}" for path in (*ours, *shipped)]
    assert "SUCCESS" in run(thanos_binary(), "tools", "rules-check", *rules)
    run(binaries.promtool, "check", "rules", "--lint=all", "--lint-fatal", *ours)
    tests = sorted(str(p) for p in (STORE_DIR / "rules" / "tests").glob("*.yml"))
    assert tests, "no unit tests of store/rules"
    run(binaries.promtool, "test", "rules", *tests)


# --- the Prometheus agent and Grafana ----------------------------------------------------------


def test_the_prometheus_agent_config_is_valid_and_points_at_the_profile(
    binaries: Binaries,
) -> None:
    command = SERVICES["prometheus-agent"]["command"]
    assert "--agent" in command
    config = host_path("prometheus-agent", value("prometheus-agent", "--config.file"))
    assert config == STORE_DIR / "prometheus-agent.yml"
    run(binaries.promtool, "check", "config", "--agent", config.name, cwd=config.parent)
    [remote_write] = load_yaml("store/prometheus-agent.yml")["remote_write"]
    url = urlsplit(remote_write["url"])
    assert url.hostname in ROUTERS and url.path == "/api/v1/receive"
    assert url.port == port(value(url.hostname, "--remote-write.address"))
    [collectors] = load_yaml("store/targets/otel-collector.yml")
    assert collectors["targets"] == [f"{s}:8888" for s in ("otel-agent", *GATEWAYS)]
    [thanos] = load_yaml("store/targets/thanos.yml")
    services = [*ROUTERS, *INGESTORS, "thanos-query", "thanos-rule"]
    assert thanos["targets"] == [f"{s}:{port(value(s, '--http-address'))}" for s in services]


def test_grafana_reads_the_query_layer_under_the_dashboards_datasource_uid() -> None:
    mounts = bind_mounts("grafana")
    datasources = REPO / mounts["/etc/grafana/provisioning/datasources"]
    [datasource] = load_yaml(str(datasources.relative_to(REPO) / "thanos-query.yaml"))[
        "datasources"
    ]
    query_port = port(value("thanos-query", "--http-address"))
    assert (datasource["uid"], datasource["url"]) == (
        "prometheus",
        f"http://thanos-query:{query_port}",
    )
    for folder in ("dashboards", "alerting"):
        assert mounts[f"/etc/grafana/provisioning/{folder}"] == f"grafana/provisioning/{folder}"
    assert mounts["/etc/grafana/dashboards/otelmetrics"] == "grafana/dashboards"


def test_no_literal_credentials_in_the_profile() -> None:
    files = [COMPOSE_FILE, *sorted(p for p in STORE_DIR.rglob("*") if p.is_file())]
    for path in files:
        for line in path.read_text().lower().splitlines():
            if not line.lstrip().startswith("#"):
                assert not any(w in line for w in CREDENTIAL_WORDS), (path, line)
