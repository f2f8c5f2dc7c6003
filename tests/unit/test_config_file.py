"""The YAML config file: values, precedence (kwarg > env > file > default), errors with lines."""

import re
from pathlib import Path

import pytest

from otelmetrics.config_file import load
from otelmetrics.settings import DEFAULT_THRESHOLDS, Settings

OPERATIONS = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
FULL = """\
feed:
  pairs: [BTC-USD, ETH-USD]
  venue: kraken
  sse_event: kraken_metrics
circuit_breakers:
  names: [kraken-orders, kraken-feed]
thresholds:
  total_error_rate_pct: 12.5
  errors_24h: 50
snapshots:
  path: logs/ops.csv
  max_bytes: 1048576
  backups: 3
  interval: 300
"""


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "otelmetrics.yaml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def test_every_key_reaches_its_setting(write):
    settings = Settings.from_env({}, config_file=write(FULL))
    assert settings.feed_pairs == ("BTC-USD", "ETH-USD")
    assert settings.sse_feed_venue == "kraken"
    assert settings.sse_feed_event == "kraken_metrics"
    assert settings.breaker_names == ("kraken-orders", "kraken-feed")
    assert settings.snapshot_path == "logs/ops.csv"
    assert (settings.snapshot_max_bytes, settings.snapshot_backups) == (1048576, 3)
    assert settings.snapshot_interval == 300
    assert settings.thresholds == {
        **DEFAULT_THRESHOLDS,
        "total_error_rate_pct": 12.5,
        "errors_24h": 50.0,
    }


def test_kwarg_beats_env_beats_file_beats_default(write):
    path = write(FULL)
    env = {
        "OTELMETRICS_CONFIG_FILE": path,
        "OTELMETRICS_FEED_PAIRS": "SOL-USD",
        "OTELMETRICS_THRESHOLDS": "errors_24h=70,invalid_tokens_24h=3",
    }
    settings = Settings.from_env(env, snapshot_backups=9)
    assert settings.config_file == path
    assert settings.snapshot_backups == 9  # kwarg over the file's 3
    assert settings.feed_pairs == ("SOL-USD",)  # env over the file
    assert settings.breaker_names == ("kraken-orders", "kraken-feed")  # file over default
    assert settings.snapshot_max_bytes == 1048576
    assert settings.thresholds["errors_24h"] == 70  # thresholds merge key by key
    assert settings.thresholds["invalid_tokens_24h"] == 3
    assert settings.thresholds["total_error_rate_pct"] == 12.5
    assert settings.thresholds["failed_orders_today"] == DEFAULT_THRESHOLDS["failed_orders_today"]
    assert Settings.from_env({}).thresholds == DEFAULT_THRESHOLDS


def test_an_empty_file_or_section_changes_nothing(write):
    assert load(write("")) == {}
    assert load(write("# only a comment\nfeed:\n")) == {}
    assert Settings.from_env({}, config_file=write("")).snapshot_path == "logs/metrics.csv"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("feed:\n  pairs: [BTC-USD\nsnapshots: {}\n", 3, "is not valid YAML"),
        ("feeds:\n  pairs: [x]\n", 1, "valid keys: circuit_breakers, feed, snapshots, thresholds"),
        ("feed:\n  venue: kraken\n  pair: BTC-USD\n", 3, "valid keys: pairs, sse_event, venue"),
        ("thresholds:\n  error_rate: 3\n", 2, "valid keys: cpu_usage_pct, error_rate_pct"),
        ("feed:\n  venue: a\n  venue: b\n", 3, "key 'venue' appears twice in feed; keep one"),
        ("snapshots:\n  max_bytes: 10MB\n", 2, "snapshots.max_bytes must be a whole number"),
        ("snapshots:\n  backups: -1\n", 2, "write it as backups: 5"),
        ("snapshots:\n  interval: .inf\n", 2, "snapshots.interval must be a number >= 0"),
        (
            "feed:\n  pairs: [BTC-USD,\n    NO]\n",
            3,
            "'NO', which YAML reads as False, not a name; quote it: 'NO'",
        ),
        ("feed:\n  pairs: BTC-USD\n", 2, "must be a non-empty list of names"),
        ("feed:\n  sse_event: kraken metrics\n", 2, "letters, digits and _ . : - only"),
        ("- feed\n", 1, "the top level must be a mapping"),
        ("thresholds:\n  errors_24h: true\n", 2, "thresholds.errors_24h must be a number"),
        ("feed: 1\n---\nfeed: 2\n", 2, "is not valid YAML"),
        ("feed:\n  venue: kra\x01ken\n", 2, "is not valid YAML: special characters"),
    ],
)
def test_a_bad_file_names_itself_the_line_and_the_fix(write, text, line, words):
    path = write(text)
    with pytest.raises(ValueError) as caught:
        Settings.from_env({"OTELMETRICS_CONFIG_FILE": path})
    message = str(caught.value)
    assert message.startswith(f"otelmetrics config file {path}, line {line}, column ")
    assert words in message


def test_a_missing_file_says_which_and_how_to_fix_it(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ValueError, match="cannot be read: No such file or directory; fix the path"):
        Settings.from_env({}, config_file=str(missing))


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"OTELMETRICS_SNAPSHOT_BACKUPS": "-1"}, "snapshot_backups"),
        ({"OTELMETRICS_SNAPSHOT_INTERVAL": "-5"}, "0 turns it off"),
        ({"OTELMETRICS_SNAPSHOT_MAX_BYTES": "big"}, "OTELMETRICS_SNAPSHOT_MAX_BYTES='big'"),
        ({"OTELMETRICS_SNAPSHOT_PATH": " "}, None),  # blank env is unset: the default stays
        ({"OTELMETRICS_SSE_FEED_EVENT": "kraken\nmetrics"}, "sse_feed_event"),
        ({"OTELMETRICS_THRESHOLDS": "errors_24h=-1"}, "finite number >= 0"),
    ],
)
def test_operations_settings_are_validated_from_the_environment(env, words):
    if words is None:
        assert Settings.from_env(env).snapshot_path == "logs/metrics.csv"
        return
    with pytest.raises(ValueError, match=re.escape(words)):
        Settings.from_env(env)


def test_kwarg_thresholds_merge_and_unknown_keys_fail():
    settings = Settings.from_env({}, thresholds={"errors_24h": 5})
    assert settings.thresholds == {**DEFAULT_THRESHOLDS, "errors_24h": 5}
    with pytest.raises(ValueError, match="use keys of"):
        Settings.from_env({}, thresholds={"errors": 5})
    with pytest.raises(ValueError, match="give non-empty names"):
        Settings.from_env({}, feed_pairs=("BTC-USD", ""))


def test_the_documented_example_is_a_valid_file(write):
    section = OPERATIONS[OPERATIONS.index("## Config file") :]
    example = re.search(r"```yaml[^\n]*\n(.*?)```", section, re.S)
    assert example is not None
    settings = Settings.from_env({}, config_file=write(example.group(1)))
    assert settings.feed_pairs and settings.breaker_names and settings.sse_feed_venue
