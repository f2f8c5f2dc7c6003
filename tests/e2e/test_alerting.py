"""Prometheus -> Alertmanager wiring and prometheus/alertmanager.yml's routing, for real."""

from __future__ import annotations

import uuid

from tests.e2e.harness import Alertmanager, Prometheus, WebhookReceiver, poll_until


def test_prometheus_sends_to_the_alertmanager_from_its_targets(
    prometheus: Prometheus, alertmanager: Alertmanager
) -> None:
    def discovered() -> None:
        active = prometheus.api("alertmanagers")["activeAlertmanagers"]
        urls = [a["url"] for a in active]
        assert f"{alertmanager.url}/api/v2/alerts" in urls, urls

    poll_until(discovered, "Prometheus to discover the Alertmanager")


def test_critical_reaches_the_webhook_and_inhibits_the_matching_warning(
    alertmanager: Alertmanager, webhook: WebhookReceiver
) -> None:
    alertname = f"E2ELatencyHigh{uuid.uuid4().hex[:6]}"
    service = {"alertname": alertname, "service_name": "e2e-flask"}
    other_service = {"alertname": alertname, "service_name": "other"}
    alertmanager.post_alerts(
        [
            {"labels": {**service, "severity": "critical"}},
            {"labels": {**service, "severity": "warning"}},
            {"labels": {**other_service, "severity": "warning"}},
        ]
    )

    def states() -> dict[tuple[str, str], str]:
        found = {
            (a["labels"]["service_name"], a["labels"]["severity"]): a["status"]["state"]
            for a in alertmanager.alerts()
            if a["labels"]["alertname"] == alertname
        }
        assert len(found) == 3, found
        return found

    # Same alertname and service: the critical one suppresses the warning; another service's
    # warning is unaffected.
    assert poll_until(states, "the three alerts in Alertmanager") == {
        ("e2e-flask", "critical"): "active",
        ("e2e-flask", "warning"): "suppressed",
        ("other", "warning"): "active",
    }

    def notified() -> dict[str, object]:
        ours = [m for m in webhook.received if m["groupLabels"].get("alertname") == alertname]
        assert ours, f"no webhook call for {alertname} yet ({len(webhook.received)} in all)"
        return ours[0]

    # The critical route waits group_wait (10s) before the first notification, to the URL read
    # from the secrets file.
    message = poll_until(notified, "the critical alert at the webhook", timeout=30)
    assert message["receiver"] == "critical"
    assert message["groupLabels"] == {"alertname": alertname, "service_name": "e2e-flask"}
    assert [a["labels"]["severity"] for a in message["alerts"]] == ["critical"]
