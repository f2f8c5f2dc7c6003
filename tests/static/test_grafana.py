"""Grafana: dashboards and provisioning, against grafana-foundation-sdk's types and each other."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.models import alerting
from grafana_foundation_sdk.models.dashboard import Dashboard

from tests.e2e.harness import REPO
from tests.static.conftest import load_yaml
from tests.static.grafana_types import validate
from tools.dashboards.catalog import DASHBOARDS
from tools.rules.catalog import alerts
from tools.rules.grafana import FILE_KEYS

DASHBOARD_FILES = sorted((REPO / "grafana" / "dashboards").glob("*.json"))
ALERTING = "grafana/provisioning/alerting"
API_KEYS = {file_key: api_key for api_key, file_key in FILE_KEYS.items()}
DATASOURCE = load_yaml("grafana/provisioning/datasources/prometheus.yaml")["datasources"][0]


def dashboard(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def targets(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for panel in board["panels"] for t in panel.get("targets", [])]


def file_rules() -> list[dict[str, Any]]:
    """The provisioned rules in the SDK's (API) layout: group fields back on each rule."""
    rules = []
    for group in load_yaml(f"{ALERTING}/rules.yaml")["groups"]:
        for rule in group["rules"]:
            api = {API_KEYS.get(k, k): v for k, v in rule.items()}
            rules.append(
                {**api, "folderUID": group["folder"], "ruleGroup": group["name"], "orgID": 1}
            )
    return rules


def test_there_is_one_file_per_dashboard_source() -> None:
    assert [p.stem for p in DASHBOARD_FILES] == sorted(spec.uid for spec in DASHBOARDS)
    assert len(DASHBOARDS) == 5


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.stem)
def test_the_dashboard_matches_the_sdk_types(path: Path) -> None:
    errors = validate(Dashboard, dashboard(path))
    assert not errors, "\n".join(errors)


def test_the_validator_reports_unknown_keys_and_wrong_values() -> None:
    board = dashboard(DASHBOARD_FILES[0])
    broken = copy.deepcopy(board)
    panel = next(p for p in broken["panels"] if p["type"] == "timeseries")
    panel["titel"] = panel.pop("title")
    panel["fieldConfig"]["defaults"]["custom"] = {"drawStyle": "zigzag"}
    panel["targets"][0]["instant"] = "yes"
    errors = "\n".join(validate(Dashboard, broken))
    assert ".titel: not in the schema" in errors
    assert "'zigzag' is not one of ['bars', 'line', 'points']" in errors
    assert "'yes' is not a boolean" in errors


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.stem)
def test_the_dashboard_is_wired_to_the_datasource_links_and_alerts(path: Path) -> None:
    board = dashboard(path)
    panels = [p for p in board["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) and all(ids)
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE["uid"]}
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids and len(ref_ids) == len(set(ref_ids)), panel["title"]
        assert all(
            t["expr"] and t["datasource"]["uid"] == DATASOURCE["uid"] for t in panel["targets"]
        )
        assert panel["description"], panel["title"]
    assert "otelmetrics" in board["tags"]
    [link] = board["links"]
    assert (link["type"], link["tags"], link["keepTime"], link["includeVars"]) == (
        "dashboards",
        ["otelmetrics"],
        True,
        True,
    )
    exprs = [a.get("expr", "") for a in board["annotations"]["list"]]
    assert any(e.startswith('ALERTS{alertstate="firing"') for e in exprs)
    assert any(a.get("builtIn") == 1 for a in board["annotations"]["list"])


def test_the_template_variables_the_issue_asks_for_exist() -> None:
    variables = {
        v["name"] for path in DASHBOARD_FILES for v in dashboard(path)["templating"]["list"]
    }
    assert {"service", "instance", "route", "pair"} <= variables
    for path in DASHBOARD_FILES:
        board = dashboard(path)
        for variable in board["templating"]["list"]:
            used = f"${variable['name']}"
            assert any(used in t["expr"] for t in targets(board)), (path.stem, used)


def test_data_links_point_at_dashboards_that_exist() -> None:
    uids = {spec.uid for spec in DASHBOARDS}
    links = re.findall(r'"url": "/d/([a-z-]+)\?', "".join(p.read_text() for p in DASHBOARD_FILES))
    assert links and set(links) <= uids


def test_the_provisioned_alert_rules_match_the_sdk_types() -> None:
    rules = file_rules()
    assert len(rules) == len(alerts())
    for rule in rules:
        errors = validate(alerting.Rule, rule)
        assert not errors, f"{rule['title']}:\n" + "\n".join(errors)
        assert rule["data"][0]["datasourceUid"] == DATASOURCE["uid"]
    assert len({r["uid"] for r in rules}) == len(rules)
    assert all(len(r["uid"]) <= 40 for r in rules)  # Grafana's UID limit
    assert len({(r["folderUID"], r["title"]) for r in rules}) == len(rules)


def test_nothing_in_the_rules_is_taken_for_an_environment_variable() -> None:
    """Grafana interpolates $VAR in labels (and ${VAR} in annotations) of provisioned rules."""
    for rule in file_rules():
        assert "$" not in json.dumps(rule["labels"]), rule["title"]
        assert "${" not in json.dumps(rule["annotations"]), rule["title"]


def test_the_contact_point_and_policy_match_the_sdk_types() -> None:
    [contact] = load_yaml(f"{ALERTING}/contact-points.yaml")["contactPoints"]
    [receiver] = contact["receivers"]
    errors = validate(alerting.ContactPoint, {"name": contact["name"], **receiver})
    assert not errors, errors
    # The URL is an environment variable reference, never a literal.
    assert receiver["settings"]["url"] == "$GRAFANA_ALERT_WEBHOOK_URL"
    [policy] = load_yaml(f"{ALERTING}/policies.yaml")["policies"]
    errors = validate(
        alerting.NotificationPolicy, {k: v for k, v in policy.items() if k != "orgId"}
    )
    assert not errors, errors
    receivers = {policy["receiver"], *(r["receiver"] for r in policy["routes"])}
    assert receivers == {contact["name"]}


def test_the_grafana_policy_times_notifications_like_alertmanager() -> None:
    route = load_yaml("prometheus/alertmanager.yml")["route"]
    [policy] = load_yaml(f"{ALERTING}/policies.yaml")["policies"]
    keys = ("group_by", "group_wait", "group_interval", "repeat_interval")
    assert {k: policy[k] for k in keys} == {k: route[k] for k in keys}
    critical = next(r for r in route["routes"] if r["matchers"] == ['severity="critical"'])
    [grafana_critical] = [
        r for r in policy["routes"] if ["severity", "=", "critical"] in r["object_matchers"]
    ]
    for key in keys[1:]:
        assert grafana_critical[key] == critical[key]


def test_compose_mounts_the_dashboards_where_the_provider_reads_them() -> None:
    [provider] = load_yaml("grafana/provisioning/dashboards/otelmetrics.yaml")["providers"]
    grafana = load_yaml("docker-compose.yml")["services"]["grafana"]
    mounts = dict(v.split(":")[1::-1] for v in grafana["volumes"] if v.startswith("./"))
    assert mounts[provider["options"]["path"]] == "./grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./grafana/provisioning"
    assert provider["type"] == "file" and provider["folder"] == "otelmetrics"
    assert {g["folder"] for g in load_yaml(f"{ALERTING}/rules.yaml")["groups"]} == {"otelmetrics"}
    assert grafana["environment"]["GRAFANA_ALERT_WEBHOOK_URL"] == "${GRAFANA_ALERT_WEBHOOK_URL}"
