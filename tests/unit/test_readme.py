"""The README's tables are a contract: every setting and every default metric is listed."""

from dataclasses import fields
from pathlib import Path

from otelmetrics.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
# `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS` in the table names both variables.
EXPANDED = README.replace("(METRICS_)", "METRICS_") + README.replace("(METRICS_)", "")


def test_every_setting_and_its_variables_are_documented():
    for spec in fields(Settings):
        assert f"`{spec.name}`" in README, spec.name
        for name in spec.metadata["env"].names:
            assert name in EXPANDED, name


def test_every_default_metric_is_documented(metrics):
    from flask import Flask

    import otelmetrics

    app = Flask("readme")
    app.add_url_rule("/x", "x", lambda: "x", methods=["POST"])
    otelmetrics.instrument(app, handle=metrics.handle)
    app.test_client().post("/x", data=b"body")
    for name in metrics.collect():
        assert f"`{name}`" in README, name
