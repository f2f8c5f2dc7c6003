"""The promtool inputs of the trading rules: one engine instance, trading at kraken."""

from __future__ import annotations

from tools import names
from tools.rules.model import Sample
from tools.rules.promql import label, matchers, series

INSTANCE = {
    names.JOB: "engine",
    names.INSTANCE: "i-1",
    names.SERVICE_NAME: "engine",
    names.INSTANCE_ID: "i-1",
    names.ENV: "prod",
}
ENGINE = {names.ENV: "prod", names.SERVICE_NAME: "engine"}
KRAKEN = {names.EXCHANGE: "kraken"}
BTC = {**KRAKEN, names.PAIR: "BTC-USD"}
# "engine i-1": the service and instance an alert summary names.
WHO = f"{label(names.SERVICE_NAME)} {label(names.INSTANCE_ID)}"


def sample(labels: dict[str, str], value: float) -> Sample:
    """An expected sample of the engine service, with ``labels`` beyond the service's."""
    return Sample(f"{{{matchers({**ENGINE, **labels})}}}", value)


def instance_series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    """promtool input: one series of ``metric`` from the engine instance, plus ``labels``."""
    return {series(metric, {**INSTANCE, **labels}): values}
