"""Every alert links to its runbook: an absolute URL to a section of docs/runbooks.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import yaml

from tests.e2e.harness import REPO
from tools.rules import runbooks
from tools.rules.catalog import alerts

RULE_FILES = sorted((REPO / "prometheus/rules").glob("*.yml"))
GRAFANA_RULES = REPO / "grafana/provisioning/alerting/rules.yaml"


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors() -> set[str]:
    text = (REPO / runbooks.DOC).read_text()
    return {_slug(line[3:]) for line in text.splitlines() if line.startswith("## ")}


def _committed_links() -> Iterator[tuple[str, str]]:
    """(where, runbook_url) of every alert in the committed Prometheus and Grafana rules."""
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    yield f"{path.name}: {rule['alert']}", rule["annotations"]["runbook_url"]
    for group in yaml.safe_load(GRAFANA_RULES.read_text())["groups"]:
        for rule in group["rules"]:
            yield f"grafana: {rule['title']}", rule["annotations"]["runbook_url"]


def test_every_alert_links_to_a_section_of_docs_runbooks() -> None:
    links = list(_committed_links())
    assert len(links) >= 2 * len(alerts())  # Prometheus's and Grafana's copy of each rule
    anchors = _anchors()
    for where, link in links:
        base, _, anchor = link.partition("#")
        assert base == runbooks.DEFAULT_BASE_URL, where
        assert anchor in anchors, f"{where}: {link} has no '## ' section in docs/runbooks.md"


def test_the_alert_table_links_every_alert_to_its_runbook_section() -> None:
    table = (REPO / "docs/alerts.md").read_text()
    linked = re.findall(r"^\| \[`(\w+)`\]\(runbooks\.md#([\w-]+)\) \|", table, re.M)
    assert {name for name, _ in linked} == {alert.name for alert in alerts()}
    anchors = _anchors()
    for name, anchor in linked:
        assert anchor in anchors, f"docs/alerts.md links {name} to a missing #{anchor}"


def test_docs_runbooks_has_one_section_per_alert_name_and_no_other() -> None:
    assert _anchors() == {runbooks.anchor(alert.name) for alert in alerts()}


def test_the_default_base_is_the_repository_s_docs_runbooks() -> None:
    parts = urlsplit(runbooks.DEFAULT_BASE_URL)
    assert parts.scheme == "https" and parts.netloc and not parts.fragment
    assert parts.path.endswith("/" + runbooks.DOC.as_posix())


def test_the_base_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runbooks.BASE_URL_VARIABLE, "https://wiki.example.com/ops/runbooks")
    assert runbooks.url("OtelCollectorDown") == (
        "https://wiki.example.com/ops/runbooks#otelcollectordown"
    )


@pytest.mark.parametrize(
    "base",
    [
        "docs/runbooks.md",
        "runbooks.md#httperrorratehigh",
        "ftp://example.com/x",
        "https://x.org/r#a",
    ],
)
def test_a_base_that_is_not_an_absolute_url_is_refused(base: str) -> None:
    with pytest.raises(ValueError, match=runbooks.BASE_URL_VARIABLE):
        runbooks.base_url({runbooks.BASE_URL_VARIABLE: base})
