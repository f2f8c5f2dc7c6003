"""The YAML config file: pairs, breakers, the feed event, thresholds and the snapshot log.

Pairs and breakers come from config, not code, as the crypto-ai-bot compatibility rules ask.
Point ``OTELMETRICS_CONFIG_FILE`` (or ``configure(config_file=...)``) at a file such as::

    feed:
      pairs: [BTC-USD, ETH-USD]     # feed_pairs: the pairs whose latency the SSE event reports
      venue: kraken                 # sse_feed_venue
      sse_event: kraken_metrics     # sse_feed_event
    circuit_breakers:
      names: [kraken-orders, kraken-feed]
    thresholds:                     # any key of settings.DEFAULT_THRESHOLDS
      total_error_rate_pct: 10
      errors_24h: 100
    snapshots:
      path: logs/metrics.csv        # relative paths start at the working directory
      max_bytes: 10485760
      backups: 5
      interval: 300                 # seconds; 0 = no periodic snapshot

Every key is optional. A keyword argument or an environment variable wins over the file, and
the file wins over the defaults. A bad file fails at startup with the file, the line and the
fix: a YAML syntax error, an unknown key (the message lists the valid ones), a key given
twice, or a value of the wrong type or range. Reading it needs PyYAML
(``pip install 'otelmetrics[yaml]'``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from typing import Any

from otelmetrics.settings.defaults import DEFAULT_THRESHOLDS, SSE_EVENT_NAME

__all__ = ["load"]

Check = Callable[[Any], str | None]  # the problem with a value, or None when it is fine


def _names(value: Any) -> str | None:
    """A non-empty list (its items are checked one by one, see :func:`_check_items`)."""
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of names, e.g. [BTC-USD, ETH-USD]"
    return None


def _name(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f"must be a name (a string), got {value!r}"


def _event(value: Any) -> str | None:
    if isinstance(value, str) and SSE_EVENT_NAME.fullmatch(value):
        return None
    return f"must be an event name of letters, digits and _ . : - only, got {value!r}"


def _count(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"must be a whole number >= 0, got {value!r}"


def _amount(value: Any) -> str | None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and math.isfinite(value) and value >= 0:
        return None
    return f"must be a number >= 0, got {value!r}"


# section -> key -> (settings field, check); thresholds are one mapping field.
SECTIONS: dict[str, dict[str, tuple[str, Check]]] = {
    "feed": {
        "pairs": ("feed_pairs", _names),
        "venue": ("sse_feed_venue", _name),
        "sse_event": ("sse_feed_event", _event),
    },
    "circuit_breakers": {"names": ("breaker_names", _names)},
    "thresholds": {key: (key, _amount) for key in DEFAULT_THRESHOLDS},
    "snapshots": {
        "path": ("snapshot_path", _name),
        "max_bytes": ("snapshot_max_bytes", _count),
        "backups": ("snapshot_backups", _count),
        "interval": ("snapshot_interval", _amount),
    },
}


class _Problem(Exception):
    """A problem at one node; :func:`load` turns it into the ValueError with file and line."""

    def __init__(self, node: Any, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.mark = node.start_mark
        self.problem = problem
        self.fix = fix


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the file: settings field -> value (``thresholds``: a dict of the keys given).

    Args:
        path: The YAML file (relative to the working directory).

    Raises:
        ValueError: The file cannot be read, is not valid YAML, or holds an unknown key or a
            bad value; the message names the file, the line and the fix.
        ImportError: PyYAML is not installed.
    """
    yaml = _yaml()
    text = _read(path)
    try:
        loader = yaml.SafeLoader(text)  # refuses a control character before parsing anything
    except yaml.reader.ReaderError as exc:
        at = exc.position
        mark = yaml.Mark("", at, text.count("\n", 0, at), at - text.rfind("\n", 0, at) - 1, None, 0)
        problem = f"is not valid YAML: {exc.reason} (#x{exc.character:04x})"
        raise _error(path, mark, problem, "remove that character or escape it") from None
    try:
        root = loader.get_single_node()
        return _settings(root, loader) if root is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        fix = "fix the YAML syntax there (indentation, a missing ':' or an unclosed quote)"
        raise _error(path, mark, f"is not valid YAML: {exc.problem or exc}", fix) from None
    except _Problem as problem:
        raise _error(path, problem.mark, problem.problem, problem.fix) from None
    finally:
        loader.dispose()


def _settings(root: Any, loader: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    thresholds: dict[str, Any] = {}
    for section, node in _entries(root, "the top level", SECTIONS):
        target = thresholds if section == "thresholds" else values
        for key, value_node in _entries(node, section, SECTIONS[section]):
            field, check = SECTIONS[section][key]
            value = loader.construct_object(value_node, deep=True)
            problem = check(value)
            if problem is not None:
                raise _Problem(value_node, f"{section}.{key} {problem}", _example(section, key))
            if check is _names:
                _check_items(value_node, loader, f"{section}.{key}")
            target[field] = tuple(value) if isinstance(value, list) else value
    if thresholds:
        values["thresholds"] = {key: float(value) for key, value in thresholds.items()}
    return values


def _check_items(node: Any, loader: Any, where: str) -> None:
    """Each item of a list of names is a non-empty string (YAML reads `NO` as false)."""
    for item_node in node.value:
        item = loader.construct_object(item_node, deep=True)
        if not isinstance(item, str) or not item.strip():
            raw = str(item_node.value)[:40] if item_node.value != "" else ""
            problem = f"{where} holds {raw!r}, which YAML reads as {item!r}, not a name"
            raise _Problem(item_node, problem, f"quote it: '{raw}'")


def _entries(node: Any, where: str, valid: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(key, value node) of a mapping node whose keys must be among ``valid``, once each."""
    if node.tag == "tag:yaml.org,2002:null":
        return  # an empty section (`feed:` and nothing under it) gives nothing
    if node.tag != "tag:yaml.org,2002:map":
        names = ", ".join(sorted(valid))
        raise _Problem(node, f"{where} must be a mapping of keys ({names})", "indent its keys")
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = key_node.value
        if not isinstance(key, str) or key not in valid:
            names = ", ".join(sorted(valid))
            problem = f"unknown key {str(key)[:40]!r} in {where}; valid keys: {names}"
            raise _Problem(key_node, problem, "rename it to one of those or remove it")
        if key in seen:
            raise _Problem(key_node, f"key {key!r} appears twice in {where}", "keep one of them")
        seen.add(key)
        yield key, value_node


def _example(section: str, key: str) -> str:
    examples = {
        "feed_pairs": "pairs: [BTC-USD, ETH-USD]",
        "breaker_names": "names: [kraken-orders]",
        "sse_feed_venue": "venue: kraken",
        "sse_feed_event": "sse_event: kraken_metrics",
        "snapshot_path": "path: logs/metrics.csv",
        "snapshot_max_bytes": "max_bytes: 10485760",
        "snapshot_backups": "backups: 5",
        "snapshot_interval": "interval: 300",
    }
    field = SECTIONS[section][key][0]
    return "write it as " + examples.get(field, f"{key}: 10")


def _error(path: str | os.PathLike[str], mark: Any, problem: str, fix: str) -> ValueError:
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"
    return ValueError(f"otelmetrics config file {os.fspath(path)}, {where}: {problem}; {fix}")


def _read(path: str | os.PathLike[str]) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(
            f"otelmetrics config file {os.fspath(path)} (config_file, OTELMETRICS_CONFIG_FILE) "
            f"cannot be read: {reason}; fix the path (relative paths start at "
            f"{os.getcwd()}) or unset it"
        ) from None


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError(
            "otelmetrics: reading a config file (OTELMETRICS_CONFIG_FILE) needs PyYAML; "
            "install it with: pip install 'otelmetrics[yaml]'"
        ) from None
    return yaml
