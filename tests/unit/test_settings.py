import pytest

from otelmetrics.pipeline.readers import otlp_http_url, temporality
from otelmetrics.settings import Settings


def test_kwarg_beats_env_beats_default():
    env = {"OTEL_SERVICE_NAME": "from-env", "OTEL_METRIC_EXPORT_INTERVAL": "5000"}
    assert Settings.from_env(env, service_name="from-kwarg").service_name == "from-kwarg"
    assert Settings.from_env(env).service_name == "from-env"
    assert Settings.from_env({}).service_name is None
    assert Settings.from_env(env).export_interval == 5.0
    assert Settings.from_env({}).export_interval == 60.0


def test_signal_specific_variables_win_over_generic():
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
        "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "2500",
        "OTEL_EXPORTER_OTLP_HEADERS": "a=1",
        "OTEL_EXPORTER_OTLP_METRICS_HEADERS": "api-key=secret%20value,b=2",
    }
    settings = Settings.from_env(env)
    assert settings.otlp_protocol == "http/protobuf"
    assert settings.otlp_timeout == 2.5
    assert settings.otlp_headers == {"api-key": "secret value", "b": "2"}


def test_otlp_http_url_appends_path_only_for_the_generic_endpoint():
    generic = Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"})
    assert otlp_http_url(generic) == "http://collector:4318/v1/metrics"
    specific = Settings.from_env({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://x:1/custom"})
    assert otlp_http_url(specific) == "http://x:1/custom"


def test_embedded_default_exports_nothing_remote():
    assert Settings.from_env({}).resolved_exporters == ("prometheus",)
    with_endpoint = Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})
    assert with_endpoint.resolved_exporters == ("prometheus", "otlp")
    explicit = Settings.from_env({"OTEL_METRICS_EXPORTER": "otlp,console"})
    assert explicit.resolved_exporters == ("otlp", "console")
    assert Settings.from_env({"OTEL_METRICS_EXPORTER": "none"}).resolved_exporters == ()
    assert Settings.from_env({"OTEL_SDK_DISABLED": "true"}).resolved_exporters == ()


def test_resource_attributes_are_parsed():
    env = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod, team=desk"}
    assert Settings.from_env(env).resource_attributes == {
        "deployment.environment.name": "prod",
        "team": "desk",
    }


def test_excluded_urls_default_to_our_own_endpoints():
    assert Settings.from_env({}).resolved_excluded_urls == (
        "/metrics",
        "/api/metrics/*",
        "/api/metrics/dashboard",
    )
    env = {"OTELMETRICS_METRICS_PATH": "/prom", "OTELMETRICS_EXCLUDED_URLS": "/health,/static/*"}
    assert Settings.from_env(env).resolved_excluded_urls == ("/health", "/static/*")


@pytest.mark.parametrize(
    "endpoint",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://prometheus:9090/api/v1/otlp"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://prometheus:9090/api/v1/otlp/"},
        {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://localhost:9090/api/v1/otlp/v1/metrics"},
    ],
)
@pytest.mark.parametrize("preference", ["delta", "lowmemory"])
def test_delta_straight_into_prometheus_is_refused_with_the_fix(endpoint, preference):
    env = {**endpoint, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": preference}
    with pytest.raises(ValueError, match="Prometheus's OTLP receiver") as raised:
        Settings.from_env(env)
    message = str(raised.value)
    assert "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE" in message
    assert "use cumulative" in message and "delta_to_cumulative" in message


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "cumulative"},
        {
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta",
            "OTEL_METRICS_EXPORTER": "prometheus",
        },
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta",
        },
    ],
)
def test_delta_elsewhere_and_cumulative_into_prometheus_are_accepted(env):
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://prometheus:9090/api/v1/otlp", **env}
    assert (
        Settings.from_env(env).temporality
        == env["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"]
    )


def test_temporality_preference_maps_per_instrument():
    from opentelemetry.sdk.metrics import Counter, Histogram, UpDownCounter
    from opentelemetry.sdk.metrics.export import AggregationTemporality as T

    delta = temporality(
        Settings.from_env({"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "DELTA"})
    )
    assert (delta[Counter], delta[Histogram], delta[UpDownCounter]) == (
        T.DELTA,
        T.DELTA,
        T.CUMULATIVE,
    )
    cumulative = temporality(Settings.from_env({}))
    assert set(cumulative.values()) == {T.CUMULATIVE}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_METRICS_EXPORTER": "otlp,zipkin"}, "OTEL_METRICS_EXPORTER"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "soon"}, "OTEL_METRIC_EXPORT_INTERVAL='soon'"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "0"}, "use a positive number"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "scheme and host"),
        ({"OTEL_SDK_DISABLED": "maybe"}, "OTEL_SDK_DISABLED"),
        ({"OTELMETRICS_CARDINALITY_LIMIT": "1"}, "use 2 or more"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "novalue"}, "key=value"),
        ({"OTELMETRICS_METRICS_PATH": "metrics"}, "start the path with '/'"),
    ],
)
def test_invalid_values_fail_loudly_with_the_fix(env, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("?", r"\?")):
        Settings.from_env(env)


def test_unknown_kwarg_is_a_type_error():
    with pytest.raises(TypeError, match="servce_name"):
        Settings.from_env({}, servce_name="typo")


def test_thresholds_and_rate_limits_merge_with_the_defaults():
    env = {"OTELMETRICS_THRESHOLDS": "cpu_usage_pct=90", "OTELMETRICS_API_RATE_LIMITS": "reset=1"}
    settings = Settings.from_env(env)
    assert settings.thresholds["cpu_usage_pct"] == 90
    assert settings.thresholds["error_rate_pct"] == 5
    assert settings.api_rate_limits == {
        "read": 100,
        "export": 10,
        "snapshot": 10,
        "reset": 1,
        "denied": 100,
    }


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"OTELMETRICS_THRESHOLDS": "latency=1"}, "unknown threshold 'latency'"),
        ({"OTELMETRICS_API_RATE_LIMITS": "write=1"}, "unknown endpoint class 'write'"),
        ({"OTELMETRICS_API_RATE_LIMITS": "read=0"}, "use 1 or more per minute"),
        ({"OTELMETRICS_WINDOW_SECONDS": "0"}, "positive number of seconds"),
        ({"OTELMETRICS_HISTORY_MINUTES": "0"}, "use 1 or more"),
        ({"OTELMETRICS_TIMEZONE": "Mars/Olympus"}, "IANA name"),
        ({"OTELMETRICS_API_PREFIX": "api"}, "start the path with '/'"),
    ],
)
def test_bad_domain_settings_fail_with_the_fix(env, words):
    with pytest.raises(ValueError, match=words):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("environment", "strict", "expected"),
    [
        ("development", None, True),
        ("production", None, False),
        (None, None, False),
        ("production", True, True),
        ("test", False, False),
    ],
)
def test_strict_follows_the_environment_unless_set(environment, strict, expected):
    settings = Settings.from_env({}, environment=environment, strict=strict)
    assert settings.resolved_strict is expected


def test_a_partial_mapping_keeps_the_other_defaults():
    limits = Settings.from_env({}, api_rate_limits={"read": 10}).api_rate_limits
    # reset and the refused requests stay limited
    assert limits == {"read": 10, "export": 10, "snapshot": 10, "reset": 5, "denied": 100}
    assert Settings(thresholds={"cpu_usage_pct": 1.0}).thresholds["error_rate_pct"] == 5.0


def test_unknown_mapping_keys_given_as_kwargs_fail_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"use keys of \['denied', 'export', 'read'"):
        Settings.from_env({}, api_rate_limits={"write": 1})


def test_the_settings_face_re_exports_sorted_names():
    import otelmetrics.config_file
    import otelmetrics.settings

    names = otelmetrics.settings.__all__
    assert names == sorted(names)
    assert all(hasattr(otelmetrics.settings, name) for name in names)
    assert otelmetrics.config_file.__all__ == ["load"]


@pytest.mark.parametrize(
    ("env", "words"),
    [
        (
            {"OTEL_METRIC_EXPORT_INTERVAL": "5s"},
            "setting export_interval (env OTEL_METRIC_EXPORT_INTERVAL='5s') is invalid: use a "
            "number of milliseconds without a unit, e.g. 5000 for 5 s",
        ),
        (
            {"OTELMETRICS_API_RATE_LIMITS": "read=abc"},
            "setting api_rate_limits (env OTELMETRICS_API_RATE_LIMITS='read=abc') is invalid: "
            "read='abc': use a whole number of requests per minute, e.g. read=100",
        ),
        (
            {"OTELMETRICS_THRESHOLDS": "cpu_usage_pct=high"},
            "cpu_usage_pct='high': use a number, e.g. cpu_usage_pct=80",
        ),
        ({"OTELMETRICS_SSE_INTERVAL": "2s"}, "use a number of seconds without a unit"),
        ({"OTELMETRICS_MAX_USERS": "lots"}, "(env OTELMETRICS_MAX_USERS='lots') is invalid: use a"),
    ],
)
def test_unparsable_variables_name_the_setting_the_value_and_the_fix(env, words):
    with pytest.raises(ValueError) as caught:
        Settings.from_env(env)
    assert words in str(caught.value)
    assert "could not convert" not in str(caught.value)
    assert "invalid literal" not in str(caught.value)


@pytest.mark.parametrize(
    "given", ["otlp,prometheus", ["otlp", "prometheus"], ("otlp", "prometheus")]
)
def test_list_settings_take_a_comma_separated_string_or_a_sequence(given):
    assert Settings.from_env({}, exporters=given).exporters == ("otlp", "prometheus")
    assert Settings(excluded_urls=["/a", "/b"]).excluded_urls == ("/a", "/b")


@pytest.mark.parametrize(
    ("given", "shown"),
    [("otlp,zipkin", "'zipkin'"), (["otlp", ["x"]], "['x']"), (5, "5")],
)
def test_a_bad_list_argument_names_the_argument_not_an_unset_variable(given, shown):
    with pytest.raises(ValueError) as caught:
        Settings.from_env({}, exporters=given)
    message = str(caught.value)
    assert message.startswith("otelmetrics setting exporters (argument exporters= or env ")
    assert f"= {shown} is invalid" in message
