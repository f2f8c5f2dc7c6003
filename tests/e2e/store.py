"""The scale-out store (Thanos Receive, Query, Ruler) and its pipeline on 127.0.0.1.

Every Thanos process runs with the flags docker-compose.scale.yml gives its service; only the
flags in ``LOCAL_FLAGS`` (listen addresses, paths, peers) are this host's
own, because several receivers share one host here. The hashring is store/hashring.json with
the test's addresses, the Prometheus agent runs store/prometheus-agent.yml with the test's
targets and remote-write URL, and the collectors run the shipped collector/*.yaml files.

Also used by bench/scale_out.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tests.e2e.harness import (
    BUILD_SCRIPT,
    PROMETHEUS_DIR,
    REPO,
    Alertmanager,
    Binaries,
    Collector,
    Process,
    Prometheus,
    free_port,
    start_alertmanager,
    start_collector,
)
from tools.rules.catalog import GROUPS
from tools.rules.profiles import FAST
from tools.rules.prometheus import rule_files

COMPOSE_FILE = REPO / "docker-compose.scale.yml"
STORE_DIR = REPO / "store"
T = TypeVar("T")
GATEWAY_CONFIGS = ("otelcol-config.yaml", "gateway.yaml", "scale-out/gateway.yaml")
AGENT_CONFIGS = ("otelcol-config.yaml", "gateway-agent.yaml")
# Flags that name this host's addresses, paths or peers. Everything else in a compose command
# (the replica labels too) is the shipped behaviour and is used as it is.
LOCAL_FLAGS = frozenset(
    {
        "--grpc-address",
        "--http-address",
        "--remote-write.address",
        "--receive.capnproto-address",
        "--tsdb.path",
        "--data-dir",
        "--receive.hashrings-file",
        "--endpoint",
        "--query",
        "--alertmanagers.url",
        "--alert.query-url",
        "--rule-file",
    }
)


def thanos_binary() -> Path:
    """THANOS_BIN of scripts/build-binaries (built on the first run, cached afterwards)."""
    result = subprocess.run(
        [str(BUILD_SCRIPT), "--print-env"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/build-binaries failed:\n{result.stderr}")
    paths = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return Path(paths["THANOS_BIN"])


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


def flag_name(argument: str) -> str:
    return argument.split("=", 1)[0]


def shipped_flags(service: str) -> list[str]:
    """The compose command of ``service`` (the Thanos subcommand first) without LOCAL_FLAGS."""
    command: list[str] = compose_services()[service]["command"]
    return [a for a in command if flag_name(a) not in LOCAL_FLAGS]


@contextmanager
def stopped_on_error() -> Iterator[Callable[[T], T]]:
    """Yields ``started(thing) -> thing``; on an error every thing it saw is stopped, newest
    first, so a start that fails half-way leaves no process behind."""
    things: list[Any] = []

    def started(thing: T) -> T:
        things.append(thing)
        return thing

    try:
        yield started
    except BaseException:
        for thing in reversed(things):
            thing.stop()
        raise


# --- one Thanos process ------------------------------------------------------------------------


@dataclass
class Thanos:
    process: Process
    grpc_port: int
    http_port: int
    remote_write_port: int = 0

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def otlp_url(self) -> str:
        return f"http://127.0.0.1:{self.remote_write_port}/api/v1/otlp"

    @property
    def remote_write_url(self) -> str:
        return f"http://127.0.0.1:{self.remote_write_port}/api/v1/receive"

    def start(self) -> Thanos:
        self.process.start()
        self.process.wait_ready(f"{self.url}/-/ready", timeout=60)
        return self

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()


def _thanos(binary: Path, workdir: Path, name: str, service: str, local: Sequence[str]) -> Thanos:
    """``service``'s shipped flags plus this host's addresses and ``local`` flags."""
    workdir.mkdir(parents=True, exist_ok=True)
    grpc_port, http_port = free_port(), free_port()
    argv = [str(binary), *shipped_flags(service)]
    argv += [f"--grpc-address=127.0.0.1:{grpc_port}", f"--http-address=127.0.0.1:{http_port}"]
    thanos = Thanos(
        process=Process(name, argv + list(local), {}, workdir, workdir / f"{name}.log"),
        grpc_port=grpc_port,
        http_port=http_port,
    )
    if argv[1] == "receive":
        thanos.remote_write_port = free_port()
        thanos.process.argv += [
            f"--remote-write.address=127.0.0.1:{thanos.remote_write_port}",
            f"--receive.capnproto-address=127.0.0.1:{free_port()}",
            f"--tsdb.path={workdir / 'data'}",
        ]
    return thanos


def start_ingestor(binary: Path, workdir: Path, replica: int) -> Thanos:
    name = f"thanos-receive-{replica}"
    return _thanos(binary, workdir / name, name, name, []).start()


def write_hashring(path: Path, endpoints: Iterable[str]) -> Path:
    """store/hashring.json with ``endpoints`` instead of the compose host names."""
    hashrings = json.loads((STORE_DIR / "hashring.json").read_text())
    [hashring] = hashrings
    hashring["endpoints"] = list(endpoints)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(hashrings, indent=2))
    return path


def start_router(
    binary: Path, workdir: Path, number: int, hashring: Path, replication_factor: int = 0
) -> Thanos:
    """A router; ``replication_factor`` overrides the shipped one (bench/scale_out.py)."""
    name = f"thanos-router-{number}"
    router = _thanos(binary, workdir / name, name, "thanos-router-1", [])
    router.process.argv.append(f"--receive.hashrings-file={hashring}")
    if replication_factor:
        flag = "--receive.replication-factor"
        router.process.argv = [a for a in router.process.argv if flag_name(a) != flag]
        router.process.argv.append(f"{flag}={replication_factor}")
    return router.start()


def query_process(binary: Path, workdir: Path, endpoints: Iterable[str]) -> Thanos:
    local = [f"--endpoint={endpoint}" for endpoint in endpoints]
    return _thanos(binary, workdir / "thanos-query", "thanos-query", "thanos-query", local)


def query_api(query: Thanos) -> Prometheus:
    """Thanos Query speaks the Prometheus HTTP API: the harness's client works as it is."""
    return Prometheus(process=query.process, port=query.http_port, workdir=query.process.cwd)


def fast_rules(directory: Path) -> Path:
    """The shipped rules in their fast rendering (tools/rules/profiles.py), for e2e timing."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in rule_files(GROUPS, FAST).items():
        (directory / name).write_text(text)
    return directory


def rule_process(
    binary: Path, workdir: Path, query: Thanos, alertmanager: Alertmanager, rules: Path
) -> Thanos:
    local = [
        f"--data-dir={workdir / 'thanos-rule' / 'data'}",
        f"--rule-file={rules}/*.yml",
        f"--rule-file={STORE_DIR / 'rules'}/*.yml",
        f"--query={query.url}",
        f"--alertmanagers.url={alertmanager.url}",
        f"--alert.query-url={query.url}",
    ]
    return _thanos(binary, workdir / "thanos-rule", "thanos-rule", "thanos-rule", local)


# --- Prometheus in agent mode ------------------------------------------------------------------


@dataclass
class PrometheusAgent:
    process: Process
    port: int
    workdir: Path

    def set_targets(self, job: str, targets: Iterable[str]) -> None:
        path = self.workdir / "targets" / f"{job}.yml"
        path.with_suffix(".tmp").write_text(json.dumps([{"targets": sorted(targets)}]))
        path.with_suffix(".tmp").replace(path)

    def stop(self) -> None:
        self.process.stop()


def agent_config(remote_write_url: str, scrape_interval: str) -> dict[str, Any]:
    """store/prometheus-agent.yml with this host's router and a scrape interval."""
    config: dict[str, Any] = yaml.safe_load((STORE_DIR / "prometheus-agent.yml").read_text())
    [remote_write] = config["remote_write"]
    remote_write["url"] = remote_write_url
    config["global"].update(scrape_interval=scrape_interval, scrape_timeout=scrape_interval)
    return config


def start_prometheus_agent(
    binaries: Binaries, workdir: Path, remote_write_url: str, scrape_interval: str = "2s"
) -> PrometheusAgent:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "targets").mkdir(exist_ok=True)
    config = workdir / "prometheus-agent.yml"
    config.write_text(yaml.safe_dump(agent_config(remote_write_url, scrape_interval)))
    port = free_port()
    argv = [str(binaries.prometheus), "--agent", f"--config.file={config}"]
    argv += [f"--storage.agent.path={workdir / 'wal'}", f"--web.listen-address=127.0.0.1:{port}"]
    agent = PrometheusAgent(
        Process("prometheus-agent", argv, {}, workdir, workdir / "agent.log"), port, workdir
    )
    agent.process.start()
    agent.process.wait_ready(f"http://127.0.0.1:{port}/-/ready")
    return agent


# --- Alertmanager with seconds-long waits ------------------------------------------------------


def fast_alertmanager(binaries: Binaries, workdir: Path, webhook_url: str) -> Alertmanager:
    """The shipped alertmanager.yml with waits of seconds (routes and receivers unchanged)."""
    config = yaml.safe_load((PROMETHEUS_DIR / "alertmanager.yml").read_text())
    for route in [config["route"], *config["route"]["routes"]]:
        route.update(group_wait="1s", group_interval="2s", repeat_interval="1h")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return start_alertmanager(binaries, workdir, webhook_url)


# --- the whole profile -------------------------------------------------------------------------


@dataclass
class Store:
    """3 ingestors (RF 2), 2 routers, Query (and its Prometheus-API client), optional Ruler."""

    ingestors: list[Thanos]
    routers: list[Thanos]
    query: Thanos
    api: Prometheus
    rule: Thanos | None = None

    @property
    def processes(self) -> list[Thanos]:
        return [*self.ingestors, *self.routers, self.query, *([self.rule] if self.rule else [])]

    def stop(self) -> None:
        for thanos in reversed(self.processes):
            thanos.stop()


def start_store(
    binary: Path,
    workdir: Path,
    routers: int = 2,
    ruler: tuple[Alertmanager, Path] | None = None,
) -> Store:
    """The store; with ``ruler`` (its Alertmanager and rules directory) Thanos Ruler too."""
    with stopped_on_error() as started:
        ingestors = [started(start_ingestor(binary, workdir, n)) for n in (1, 2, 3)]
        endpoints = [i.grpc_endpoint for i in ingestors]
        hashring = write_hashring(workdir / "hashring.json", endpoints)
        numbers = range(1, routers + 1)
        router_list = [started(start_router(binary, workdir, n, hashring)) for n in numbers]
        query = query_process(binary, workdir, endpoints)
        rule = None
        if ruler is not None:
            rule = rule_process(binary, workdir, query, *ruler)
            query.process.argv.append(f"--endpoint={rule.grpc_endpoint}")  # as compose does
        store = Store(ingestors, router_list, started(query.start()), query_api(query))
        store.rule = started(rule.start()) if rule is not None else None
    return store


@dataclass
class Pipeline:
    """The scale-out profile: agent -> 2 gateways -> routers -> ingestors <- Query <- Ruler."""

    store: Store
    agent: Collector
    gateways: list[Collector]
    prometheus_agent: PrometheusAgent
    alertmanager: Alertmanager
    extra: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for thing in [*self.extra, self.agent, *self.gateways, self.prometheus_agent]:
            thing.stop()
        self.store.stop()
        self.alertmanager.stop()


def start_gateway(binaries: Binaries, workdir: Path, number: int, router: Thanos) -> Collector:
    env = {
        "OTELCOL_THANOS_OTLP_ENDPOINT": router.otlp_url,
        "OTELCOL_STORAGE_DIR": str(workdir / f"gateway-{number}-queue"),
    }
    name = f"gateway-{number}"
    return start_collector(binaries, workdir, name, configs=GATEWAY_CONFIGS, env=env)


def start_pipeline(binaries: Binaries, binary: Path, workdir: Path, webhook_url: str) -> Pipeline:
    """Everything of docker-compose.scale.yml but the apps and Grafana, with the fast rules."""
    with stopped_on_error() as started:
        am = started(fast_alertmanager(binaries, workdir / "alertmanager", webhook_url))
        store = started(start_store(binary, workdir, ruler=(am, fast_rules(workdir / "rules"))))
        gateways = [
            started(start_gateway(binaries, workdir, n, router))
            for n, router in enumerate(store.routers, 1)
        ]
        endpoints = ", ".join(g.grpc_endpoint for g in gateways)
        env = {"OTELCOL_GATEWAY_ENDPOINTS": f"[{endpoints}]"}
        agent = started(start_collector(binaries, workdir, "agent", configs=AGENT_CONFIGS, env=env))
        remote_write = store.routers[0].remote_write_url
        scraper = start_prometheus_agent(binaries, workdir / "prometheus-agent", remote_write)
    scraper.set_targets("otel-collector", [c.metrics_target for c in (agent, *gateways)])
    scraper.set_targets("thanos", [f"127.0.0.1:{t.http_port}" for t in store.processes])
    return Pipeline(store, agent, gateways, scraper, am)
