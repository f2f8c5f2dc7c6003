"""collector/: the OCB manifest and every config combination, checked by the built collector."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.e2e.harness import COLLECTOR_DIR, REPO, Binaries
from tests.static.conftest import dotenv, load_yaml

# The ways the configs are meant to be layered (README, docs/pipeline.md, docker-compose.yml).
COMBINATIONS = [
    ("otelcol-config.yaml",),
    ("otelcol-config.yaml", "overlay-debug.yaml"),
    ("otelcol-config.yaml", "overlay-persistent-queue.yaml"),
    ("otelcol-config.yaml", "overlay-persistent-queue.yaml", "overlay-debug.yaml"),
    ("otelcol-config.yaml", "gateway-agent.yaml"),
    ("otelcol-config.yaml", "gateway.yaml"),
    ("otelcol-config.yaml", "gateway.yaml", "overlay-persistent-queue.yaml"),
]
# The optional backend switched on, as docs/pipeline.md shows it.
BACKEND_ENV = {
    "OTELCOL_METRICS_EXPORTERS": "[otlp_http/prometheus, otlp_http/backend]",
    "OTELCOL_BACKEND_ENDPOINT": "https://otlp.example.com",
    "OTELCOL_BACKEND_HEADERS": "{Authorization: Bearer not-a-real-token}",
}
CONFIG_FILES = sorted(
    p.name for p in COLLECTOR_DIR.glob("*.yaml") if p.name != "builder-config.yaml"
)

# Component type (as written in configs) -> Go module that provides it.
CORE = "go.opentelemetry.io/collector/"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib/"
MODULES = {
    "otlp": CORE + "receiver/otlpreceiver",
    "memory_limiter": CORE + "processor/memorylimiterprocessor",
    "resource": CONTRIB + "processor/resourceprocessor",
    "attributes": CONTRIB + "processor/attributesprocessor",
    "delta_to_cumulative": CONTRIB + "processor/deltatocumulativeprocessor",
    "debug": CORE + "exporter/debugexporter",
    "otlp_grpc": CORE + "exporter/otlpexporter",
    "otlp_http": CORE + "exporter/otlphttpexporter",
    "load_balancing": CONTRIB + "exporter/loadbalancingexporter",
    "health_check": CONTRIB + "extension/healthcheckextension",
    "file_storage": CONTRIB + "extension/storage/filestorage",
}
KINDS = ("receivers", "processors", "exporters", "extensions")


def run_collector(binaries: Binaries, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(binaries.otelcol), *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"otelcol {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def config_args(files: tuple[str, ...]) -> list[str]:
    return [arg for name in files for arg in ("--config", str(COLLECTOR_DIR / name))]


def effective_config(binaries: Binaries, files: tuple[str, ...], env: dict[str, str]) -> Any:
    """The merged, env-substituted config as the collector itself resolves it."""
    return yaml.safe_load(run_collector(binaries, "print-config", *config_args(files), env=env))


@pytest.mark.parametrize("env", [{}, BACKEND_ENV], ids=["default", "with-backend"])
@pytest.mark.parametrize("files", COMBINATIONS, ids=lambda f: "+".join(n[:-5] for n in f))
def test_every_combination_validates(
    files: tuple[str, ...], env: dict[str, str], binaries: Binaries
) -> None:
    run_collector(binaries, "validate", *config_args(files), env=env)


def test_validate_catches_a_broken_pipeline(binaries: Binaries) -> None:
    """The check above can fail: an exporter list naming an undefined exporter is refused."""
    result = subprocess.run(
        [str(binaries.otelcol), "validate", *config_args(("otelcol-config.yaml",))],
        capture_output=True,
        text=True,
        env={"OTELCOL_METRICS_EXPORTERS": "[otlp_http/nowhere]"},
        check=False,
    )
    assert result.returncode != 0
    assert "otlp_http/nowhere" in result.stderr


@pytest.mark.parametrize("files", COMBINATIONS, ids=lambda f: "+".join(n[:-5] for n in f))
def test_pipelines_follow_the_recommended_shape(files: tuple[str, ...], binaries: Binaries) -> None:
    config = effective_config(binaries, files, BACKEND_ENV)
    pipelines = config["service"]["pipelines"]
    for name, pipeline in pipelines.items():
        # memory_limiter first, so it can refuse before anything else allocates.
        assert pipeline["processors"][0] == "memory_limiter", (name, pipeline)
        # Exporter-side batching only: the batch processor is deprecated.
        assert not any(p.split("/")[0] == "batch" for p in pipeline["processors"]), pipeline
    exporters = config["exporters"]
    for name in {e for p in pipelines.values() for e in p["exporters"]} - {"debug"}:
        queue = (
            exporters[name]["protocol"]["otlp"]["sending_queue"]
            if name == "load_balancing"
            else exporters[name]["sending_queue"]
        )
        # An optional section: present (not null) means enabled.
        assert queue and "batch" in queue, (name, queue)
    # The collector's own metrics are served for Prometheus on :8888 by default.
    [reader] = config["service"]["telemetry"]["metrics"]["readers"]
    assert reader["pull"]["exporter"]["prometheus"]["port"] == 8888


def test_the_debug_overlay_sees_what_the_main_pipeline_exports(binaries: Binaries) -> None:
    config = effective_config(binaries, COMBINATIONS[1], {})
    pipelines = config["service"]["pipelines"]
    assert pipelines["metrics/debug"]["processors"] == pipelines["metrics"]["processors"]
    assert pipelines["metrics/debug"]["receivers"] == pipelines["metrics"]["receivers"]


def test_the_persistent_overlay_puts_every_network_exporter_queue_on_disk(
    binaries: Binaries,
) -> None:
    config = effective_config(binaries, COMBINATIONS[2], {})
    assert "file_storage/queue" in config["service"]["extensions"]
    assert "health_check" in config["service"]["extensions"]  # the base list, repeated
    for name in ("otlp_http/prometheus", "otlp_http/backend", "otlp_grpc/backend"):
        assert config["exporters"][name]["sending_queue"]["storage"] == "file_storage/queue"


def test_the_optional_backend_is_off_by_default_and_headers_are_opaque(
    binaries: Binaries,
) -> None:
    default = effective_config(binaries, COMBINATIONS[0], {})
    assert default["service"]["pipelines"]["metrics"]["exporters"] == ["otlp_http/prometheus"]
    with_backend = effective_config(binaries, COMBINATIONS[0], BACKEND_ENV)
    for name in ("otlp_http/backend", "otlp_grpc/backend"):
        headers = with_backend["exporters"][name]["headers"]
        assert headers == [{"name": "Authorization", "value": "[REDACTED]"}]


def test_the_manifest_builds_exactly_the_components_the_configs_use(binaries: Binaries) -> None:
    manifest = load_yaml("collector/builder-config.yaml")
    version = dotenv()["OTELCOL_VERSION"]
    assert manifest["dist"]["version"] == version
    used = set()
    for name in CONFIG_FILES:
        config = load_yaml(f"collector/{name}")
        for kind in KINDS:
            used |= {component.split("/")[0] for component in config.get(kind) or {}}
    assert used == set(MODULES), f"configs use {sorted(used)}, MODULES has {sorted(MODULES)}"
    built = {
        entry["gomod"].split()[0]: entry["gomod"].split()[1]
        for kind in KINDS
        for entry in manifest[kind]
    }
    assert set(built) == set(MODULES.values())
    # The builder refuses other minor versions; all pinned to the one .env names.
    assert set(built.values()) == {f"v{version}"}
    # And the binary really has them (the cache is keyed by the manifest's sha256).
    components = yaml.safe_load(run_collector(binaries, "components"))
    assert components["buildinfo"]["version"] == version
    in_binary = {c["name"] for kind in KINDS for c in components[kind]}
    assert in_binary == set(MODULES)


ENV_REFERENCE = re.compile(r"\$\{env:([A-Z0-9_]+)(:-[^}]*)?\}")


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_every_variable_has_a_default_and_is_documented(name: str) -> None:
    lines = (COLLECTOR_DIR / name).read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    # Plain ${VAR} works too, but we always write the env: scheme and a default, so the file
    # runs unchanged in compose and locally.
    assert "${" not in ENV_REFERENCE.sub("", text), f"{name}: a ${{...}} without env: or default"
    docs = (REPO / "docs" / "pipeline.md").read_text()
    for variable, default in ENV_REFERENCE.findall(text):
        assert default, f"{name}: ${{env:{variable}}} has no default"
        assert f"`{variable}`" in docs, f"{variable} ({name}) is not in docs/pipeline.md"


# Old names that still load as aliases (with a warning) or were removed.
DEPRECATED = {
    "exporters": {"logging", "otlp", "otlphttp", "loadbalancing"},
    "processors": {"batch"},  # deprecated since v0.160.0: exporters batch instead
    "extensions": {"memory_ballast", "ballast"},
}


# A config line naming one of these outside a comment would hold a literal credential.
CREDENTIAL_WORDS = ("bearer ", "api-key", "password", "token")


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_no_deprecated_components_or_literal_credentials(name: str) -> None:
    config = load_yaml(f"collector/{name}")
    for kind, names in DEPRECATED.items():
        used = {c.split("/")[0] for c in config.get(kind) or {}}
        assert not used & names, f"{name}: deprecated {kind} {sorted(used & names)}"
    for line in (COLLECTOR_DIR / name).read_text().lower().splitlines():
        if not line.lstrip().startswith("#"):
            assert not any(word in line for word in CREDENTIAL_WORDS), line
