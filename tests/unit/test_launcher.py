"""The zero-code launcher's parts: flags from the settings, the environment, the class patches.

Real processes (gunicorn, uvicorn, flask run, opentelemetry-instrument) are in
tests/integration/test_launcher.py.
"""

import os
import sys
from dataclasses import fields

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.testclient import TestClient

import otelmetrics.pipeline
from otelmetrics.launcher import patches
from otelmetrics.launcher.command import BOOTSTRAP_DIR
from otelmetrics.settings import Settings
from otelmetrics.settings.launch import launch_environ, setting_flags


def test_every_variable_has_one_flag_named_after_it():
    flags = setting_flags()
    variables = {v for spec in fields(Settings) for v in spec.metadata["env"].names}
    assert {variable for variable, _ in flags.values()} == variables
    assert flags["service_name"] == ("OTEL_SERVICE_NAME", "service_name")
    assert flags["api_public"] == ("OTELMETRICS_API_PUBLIC", "api_public")
    assert flags["metrics_exporter"] == ("OTEL_METRICS_EXPORTER", "exporters")


def test_the_bootstrap_goes_first_on_pythonpath_once(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/a", BOOTSTRAP_DIR, "/b"]))
    env = launch_environ({"OTEL_SERVICE_NAME": "orders"}, BOOTSTRAP_DIR)
    assert env["PYTHONPATH"].split(os.pathsep) == [BOOTSTRAP_DIR, "/a", "/b"]
    assert env["OTEL_SERVICE_NAME"] == "orders"
    assert os.path.isfile(os.path.join(BOOTSTRAP_DIR, "sitecustomize.py"))


def test_a_bad_value_is_refused_with_its_variable():
    with pytest.raises(ValueError, match="OTEL_METRIC_EXPORT_INTERVAL"):
        launch_environ({"OTEL_METRIC_EXPORT_INTERVAL": "5s"}, BOOTSTRAP_DIR)


@pytest.fixture
def instrumented(monkeypatch):
    """Patch the frameworks; record which apps ``instrument`` was called for."""
    calls = []
    monkeypatch.setattr(sys.modules["otelmetrics.instrument"], "instrument", calls.append)
    monkeypatch.setattr(otelmetrics.pipeline, "wanted_by_an_app", lambda: None)
    patches.patch_frameworks()
    patches.patch_frameworks()  # a second time changes nothing
    yield calls
    patches.unpatch_frameworks()


def test_a_flask_app_is_instrumented_once_on_its_first_request(instrumented):
    app = Flask("plain")
    app.add_url_rule("/", "index", lambda: "ok")
    assert instrumented == []
    client = app.test_client()
    assert [client.get("/").status_code for _ in range(3)] == [200] * 3
    assert instrumented == [app]


def test_a_starlette_app_is_instrumented_on_lifespan_and_a_mounted_one_is_not(instrumented):
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    inner = Starlette(routes=[Route("/", lambda request: PlainTextResponse("in"))])
    outer = Starlette(routes=[Mount("/inner", app=inner)])
    with TestClient(outer) as client:
        assert client.get("/inner/").text == "in"
        assert client.get("/inner/").text == "in"
    assert instrumented == [outer]


def test_unpatching_restores_the_classes():
    call, init = Flask.__call__, Flask.__init__
    patches.patch_frameworks()
    assert Flask.__call__ is not call
    patches.unpatch_frameworks()
    assert (Flask.__call__, Flask.__init__) == (call, init)


def test_an_app_that_fails_to_instrument_still_serves(monkeypatch, caplog):
    def fail(app):
        raise TypeError("unsupported version")

    monkeypatch.setattr(sys.modules["otelmetrics.instrument"], "instrument", fail)
    monkeypatch.setattr(otelmetrics.pipeline, "wanted_by_an_app", lambda: None)
    patches.patch_frameworks()
    try:
        app = Flask("old")
        app.add_url_rule("/", "index", lambda: "ok")
        assert app.test_client().get("/").status_code == 200
    finally:
        patches.unpatch_frameworks()
    assert "runs uninstrumented" in caplog.text
