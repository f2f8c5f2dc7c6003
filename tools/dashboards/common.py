"""Building blocks every dashboard shares: datasource, variables, panels, links, annotations.

Dashboards are built with grafana-foundation-sdk's builders (one function per panel in the
dashboard modules), then written as sorted JSON. Every query reads the Prometheus datasource
provisioned with the fixed uid ``prometheus`` and filters on the template variables; metric
and label names come from :mod:`tools.names`.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import (
    dashboard,
    heatmap,
    prometheus,
    stat,
    statetimeline,
    timeseries,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    MappingType,
    ValueMap,
    ValueMappingResult,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from tools import names

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
GRAFANA = DataSourceRef(type_val="grafana", uid="-- Grafana --")
TAG = "otelmetrics"
# The label filters every app query starts with; $route/$pair are added where they apply.
APP = f'{names.SERVICE_NAME}=~"$service", {names.INSTANCE_ID}=~"$instance"'
# The rate window of every panel: Grafana's, at least 4x the datasource's timeInterval.
RATE = "[$__rate_interval]"
# Apps only: the collectors' scrape has a target_info too.
NOT_COLLECTOR = f'{names.JOB}!="{names.COLLECTOR_JOB}"'

# A panel builder of any plugin (timeseries, stat, heatmap...): they share no typed base that
# has .id()/.span(), so panels are passed around untyped.
Panel: TypeAlias = Any


@dataclass(frozen=True)
class Spec:
    """A dashboard to render: its file name, builder and docs/alerts.md description."""

    uid: str
    title: str
    description: str
    build: Any  # () -> dashboard.Dashboard


def legend(*labels: str) -> str:
    """A legend template naming each series by ``labels``: ``{{a}} {{b}}``."""
    return " ".join(f"{{{{{label}}}}}" for label in labels)


def query(expr: str, legend: str = "", *, instant: bool = False) -> prometheus.Dataquery:
    """A PromQL target (refIds are assigned by :func:`panel_targets`)."""
    target = prometheus.Dataquery().datasource(DATASOURCE).expr(expr)
    if legend:
        target = target.legend_format(legend)
    return target.instant() if instant else target.range()


def _with_targets(panel: Any, targets: Sequence[prometheus.Dataquery]) -> Any:
    for index, target in enumerate(targets):
        panel = panel.with_target(target.ref_id(string.ascii_uppercase[index]))
    return panel


def quantiles(metric: str, selector: str, *by: str, scale: str = "") -> list[prometheus.Dataquery]:
    """p50/p95/p99 of histogram ``metric``, one line per ``by`` label set."""
    group = ", ".join((*by, names.LE))
    prefix = f"{legend(*by)} " if by else ""
    return [
        query(
            f"histogram_quantile({q}, sum by ({group}) "
            f"(rate({metric}_bucket{{{selector}}}{RATE}))){scale}",
            f"{prefix}p{round(q * 100)}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def graph(title: str, description: str, unit: str, *targets: prometheus.Dataquery) -> Panel:
    """A time series panel, lines, legend as a table with the last and max values."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .line_width(1)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.NEVER)
        .legend(
            common_builder.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
        .tooltip(
            common_builder.VizTooltipOptions()
            .mode(common.TooltipDisplayMode.MULTI)
            .sort(common.SortOrder.DESCENDING)
        )
    )
    return _with_targets(panel, targets)


def single(title: str, description: str, unit: str, target: prometheus.Dataquery) -> Panel:
    """A stat panel showing the last value, with a sparkline."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .reduce_options(common_builder.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.VALUE)
    )
    return _with_targets(panel, [target])


def buckets(title: str, description: str, unit: str, target: prometheus.Dataquery) -> Panel:
    """A heatmap of a histogram's buckets (Prometheus ``le`` series, format heatmap)."""
    panel = (
        heatmap.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .calculate(False)
        .y_axis(heatmap.YAxisConfig().unit(unit))
        .cell_values(heatmap.CellValues().unit("short"))
    )
    return _with_targets(
        panel, [target.format(PromQueryFormat.HEATMAP).legend_format(legend(names.LE))]
    )


def states(
    title: str, description: str, names: dict[int, tuple[str, str]], target: prometheus.Dataquery
) -> Panel:
    """A state timeline: each value drawn as the (text, colour) ``names`` maps it to."""
    mapping = ValueMap(
        options={
            str(value): ValueMappingResult(text=text, color=color, index=index)
            for index, (value, (text, color)) in enumerate(sorted(names.items()))
        }
    )
    mapping.type_val = MappingType.VALUE_TO_TEXT
    panel = (
        statetimeline.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .mappings([mapping])
        .show_value(common.VisibilityMode.NEVER)
        .merge_values(True)
    )
    return _with_targets(panel, [target])


def variable(name: str, label: str, expr: str, *, all_value: str = ".*") -> Any:
    """A multi-value query variable defaulting to All (``all_value`` matches every series)."""
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(expr)
        .definition(expr)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(all_value)
        .current(VariableOption(selected=True, text=["All"], value=["$__all"]))
    )


SERVICE_VARIABLE = variable(
    "service",
    "Service",
    f"label_values({names.TARGET_INFO}{{{NOT_COLLECTOR}}}, {names.SERVICE_NAME})",
)
INSTANCE_VARIABLE = variable(
    "instance",
    "Instance",
    f'label_values({names.TARGET_INFO}{{{names.SERVICE_NAME}=~"$service"}}, {names.INSTANCE_ID})',
)


def _links(uid: str) -> list[Any]:
    """Every otelmetrics dashboard, as a dropdown carrying the time range and variables."""
    return [
        dashboard.DashboardLink("otelmetrics dashboards")
        .type(DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .as_dropdown(True)
        .keep_time(True)
        .include_vars(True)
        .icon("external link")
    ]


def _annotations(alerts_selector: str) -> list[Any]:
    """Grafana-managed alert state changes, and Prometheus's firing alerts (ALERTS)."""
    return [
        dashboard.AnnotationQuery()
        .name("Annotations & Alerts")
        .datasource(GRAFANA)
        .built_in(1)
        .enable(True)
        .hide(True)
        .icon_color("rgba(0, 211, 255, 1)")
        .type("dashboard"),
        dashboard.AnnotationQuery()
        .name("Prometheus alerts")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("red")
        .expr(f'{names.ALERTS}{{{names.ALERTSTATE}="firing"{alerts_selector}}}')
        .step("30s")
        .title_format(f"{legend(names.ALERTNAME)} ({legend(names.SEVERITY)})")
        .text_format(legend(names.SERVICE_NAME, names.INSTANCE))
        .tag_keys(f"{names.ALERTNAME},{names.SEVERITY}"),
    ]


def build(
    spec_uid: str,
    title: str,
    description: str,
    variables: Sequence[Any],
    rows: Sequence[tuple[str, Sequence[tuple[Panel, int, int]]]],
    *,
    alerts_selector: str = f', {names.SERVICE_NAME}=~"$service"',
) -> dashboard.Dashboard:
    """The dashboard: variables, links, annotations, then rows of (panel, width, height)."""
    board = (
        dashboard.Dashboard(title)
        .uid(spec_uid)
        .description(description)
        .tags([TAG])
        .editable()
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .links(_links(spec_uid))
        .annotations(_annotations(alerts_selector))
    )
    for var in variables:
        board = board.with_variable(var)
    panel_id = 0
    for row_title, panels in rows:
        panel_id += 1
        board = board.with_row(dashboard.Row(row_title).id(panel_id))
        for panel, width, height in panels:
            panel_id += 1
            board = board.with_panel(panel.id(panel_id).span(width).height(height))
    return board


def to_json(board: dashboard.Dashboard) -> str:
    """Sorted, indented JSON: stable diffs, compared byte for byte by the tests."""
    plain = json.loads(JSONEncoder().encode(board.build()))
    return json.dumps(plain, indent=2, sort_keys=True) + "\n"
