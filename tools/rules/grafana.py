"""Render Grafana-managed alerting (file provisioning) from the same rules.

Each alert becomes the three nodes Grafana's own Prometheus-rule converter builds
(pkg/services/ngalert/prom in grafana/grafana): ``query`` (the PromQL, instant),
``prometheus_math`` (``is_number($query) || is_nan($query) || is_inf($query)``) and
``threshold`` (> 0), so any series the expression returns fires, exactly as in Prometheus.
No data is OK (a healthy expression returns nothing), a query error is Error, and a series
that disappears resolves at the next evaluation. The objects are built with
grafana-foundation-sdk's alerting builders, then written in the file-provisioning layout
(group fields moved up to the group).

The contact point's URL comes from the environment (``$GRAFANA_ALERT_WEBHOOK_URL``, which
Grafana interpolates in provisioning files); the notification policy copies the grouping and
timing of prometheus/alertmanager.yml, so both routes behave alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import alerting as alert_builder
from grafana_foundation_sdk.builders import expr as expr_builder
from grafana_foundation_sdk.builders import prometheus as prom_builder
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import alerting
from grafana_foundation_sdk.models.common import DataSourceRef

from tools import names
from tools.rules.model import Alert, Group
from tools.rules.prometheus import alert_annotations, header
from tools.rules.yamlout import dump

DATASOURCE_UID = "prometheus"  # grafana/provisioning/datasources/prometheus.yaml
FOLDER = "otelmetrics"
ORG_ID = 1
INTERVAL = "1m"  # Grafana's evaluation interval: every `for` is a multiple of it
CONTACT_POINT = "otelmetrics-webhook"
WEBHOOK_URL_VARIABLE = "GRAFANA_ALERT_WEBHOOK_URL"
EXPRESSIONS = DataSourceRef(type_val="__expr__", uid="__expr__")
QUERY, MATH, THRESHOLD = "query", "prometheus_math", "threshold"


def uid(alert: Alert) -> str:
    """A stable UID (Grafana allows 40 characters): the name and severity, hashed."""
    digest = hashlib.sha256(f"{alert.name}/{alert.severity}".encode()).hexdigest()
    return f"otelmetrics-{digest[:16]}"


def title(alert: Alert, severities: Mapping[str, int]) -> str:
    """The alertname; with its severity when the name has several (titles are unique)."""
    return f"{alert.name} ({alert.severity})" if severities[alert.name] > 1 else alert.name


def _queries(expr: str) -> list[Builder[alerting.Query]]:
    query = (
        alert_builder.Query(QUERY)
        .datasource_uid(DATASOURCE_UID)
        .relative_time_range(alerting.RelativeTimeRange(600, 0))
        .model(
            prom_builder.Dataquery()
            .datasource(DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID))
            .expr(expr)
            .instant()
            .ref_id(QUERY)
        )
    )
    math = (
        alert_builder.Query(MATH)
        .datasource_uid(EXPRESSIONS.uid or "")
        .model(
            expr_builder.TypeMath()
            .datasource(EXPRESSIONS)
            .expression(f"is_number(${QUERY}) || is_nan(${QUERY}) || is_inf(${QUERY})")
            .ref_id(MATH)
        )
    )
    above_zero = expr_builder.ExprTypeThresholdConditions().evaluator(
        expr_builder.ExprTypeThresholdConditionsEvaluator().type("gt").params([0])
    )
    threshold = (
        alert_builder.Query(THRESHOLD)
        .datasource_uid(EXPRESSIONS.uid or "")
        .model(
            expr_builder.TypeThreshold()
            .datasource(EXPRESSIONS)
            .expression(MATH)
            .conditions([above_zero])
            .ref_id(THRESHOLD)
        )
    )
    return [query, math, threshold]


def grafana_annotations(alert: Alert) -> dict[str, str]:
    """Prometheus's annotations; ``$value`` is ``$values.query.Value`` in Grafana."""
    return {
        key: value.replace("$value", f"$values.{QUERY}.Value")
        for key, value in alert_annotations(alert).items()
    }


def rule(alert: Alert, group: str, severities: Mapping[str, int]) -> alert_builder.Rule:
    """One Grafana-managed rule built with the foundation SDK (API layout)."""
    built = (
        alert_builder.Rule(title(alert, severities))
        .uid(uid(alert))
        .folder_uid(FOLDER)
        .rule_group(group)
        .org_id(ORG_ID)
        .queries(_queries(alert.expr))
        .condition(THRESHOLD)
        .for_val(alert.for_)
        .labels({names.SEVERITY: alert.severity})
        .annotations(grafana_annotations(alert))
        .no_data_state("OK")
        .exec_err_state("Error")
        .missing_series_evals_to_resolve(1)
        .is_paused(False)
    )
    return built.keep_firing_for(alert.keep_firing_for) if alert.keep_firing_for else built


def to_plain(obj: Any) -> Any:
    """SDK objects -> plain JSON values (through the SDK's own encoder)."""
    return json.loads(JSONEncoder().encode(obj))


# The file layout names these differently from the API layout the SDK builds, or sets them
# on the group instead of the rule (pkg/services/provisioning/alerting/rules_types.go).
FILE_KEYS = {
    "missingSeriesEvalsToResolve": "missing_series_evals_to_resolve",
    "keep_firing_for": "keepFiringFor",
}
_GROUP_KEYS = ("folderUID", "ruleGroup", "orgID")


def file_rule(api_rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule in the API layout -> the provisioning-file layout."""
    return {
        FILE_KEYS.get(key, key): value for key, value in api_rule.items() if key not in _GROUP_KEYS
    }


def rules_file(groups: Sequence[Group]) -> str:
    severities: dict[str, int] = {}
    for group in groups:
        for alert in group.alerts:
            severities[alert.name] = severities.get(alert.name, 0) + 1
    body = {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": ORG_ID,
                "name": group.name,
                "folder": FOLDER,
                "interval": INTERVAL,
                "rules": [
                    file_rule(to_plain(rule(alert, group.name, severities).build()))
                    for alert in group.alerts
                ],
            }
            for group in groups
            if group.alerts
        ],
    }
    lines = [
        "",
        "Grafana-managed copies of the Prometheus alerts in prometheus/rules/. They query the",
        "recording rules there, so Prometheus must load those files (docker-compose.yml does).",
        "Running both Prometheus's and Grafana's rules evaluates every alert twice: notify from",
        "one (Alertmanager's webhook or this contact point), or send both to different people.",
    ]
    return dump(body, header("tools/rules/ (rendered by tools/rules/grafana.py)", lines))


def contact_points_file() -> str:
    contact = (
        alert_builder.ContactPoint()
        .name(CONTACT_POINT)
        .type("webhook")
        .uid(CONTACT_POINT)
        .settings({"url": f"${WEBHOOK_URL_VARIABLE}", "httpMethod": "POST"})
        .disable_resolve_message(False)
    )
    plain = to_plain(contact.build())
    body = {
        "apiVersion": 1,
        "contactPoints": [
            {
                "orgId": ORG_ID,
                "name": plain.pop("name"),
                "receivers": [plain],
            }
        ],
    }
    lines = [
        "",
        f"The webhook URL is a secret: Grafana reads it from ${WEBHOOK_URL_VARIABLE} (provisioning",
        "files interpolate environment variables). docker-compose.yml sets it; Grafana refuses",
        "to start provisioning if it is empty.",
    ]
    return dump(body, header("tools/rules/grafana.py", lines))


def _policy(route: Mapping[str, Any]) -> alert_builder.NotificationPolicy:
    """One Grafana policy node with an Alertmanager route's matchers, grouping and timing."""
    policy = alert_builder.NotificationPolicy().receiver(CONTACT_POINT)
    if "group_by" in route:
        policy = policy.group_by(list(route["group_by"]))
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if key in route:
            policy = getattr(policy, key)(route[key])
    matchers = [m.replace('"', "").split("=", 1) for m in route.get("matchers", [])]
    if matchers:
        policy = policy.object_matchers([[key, "=", value] for key, value in matchers])
    return policy


def policies_file(alertmanager_yml: Path) -> str:
    """Grafana's notification policy with prometheus/alertmanager.yml's grouping and timing."""
    root = yaml.safe_load(alertmanager_yml.read_text())["route"]
    # No Grafana rule has a severity that is never sent (the blackhole route).
    children = [c for c in root.get("routes", []) if c.get("receiver") != "blackhole"]
    tree = _policy(root).routes([_policy(child) for child in children])
    body = {"apiVersion": 1, "policies": [{"orgId": ORG_ID, **to_plain(tree.build())}]}
    lines = [
        "",
        "Grouping and timing are those of prometheus/alertmanager.yml's route tree, read from",
        "it at render time, so the Grafana and Alertmanager notifications behave alike.",
    ]
    return dump(body, header("tools/rules/grafana.py", lines))
