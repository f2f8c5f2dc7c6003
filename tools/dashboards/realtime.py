"""Users and websockets: active users, connections, messages and connection durations."""

from __future__ import annotations

from typing import Any

from tools.dashboards.common import (
    APP,
    INSTANCE_VARIABLE,
    SERVICE_VARIABLE,
    Panel,
    Spec,
    build,
    graph,
    query,
    single,
    variable,
)

UID = "otelmetrics-realtime"
SEL = APP + ', websocket_route=~"$route"'
RATE = "[$__rate_interval]"
DESCRIPTION = (
    "Who is connected: active users (seen within the user window), open websocket "
    "connections per route or Socket.IO namespace, messages received and sent per second by "
    "route and event, and how long connections last."
)

ROUTE_VARIABLE = variable(
    "route",
    "Websocket route",
    'label_values(websocket_server_active_connections{service_name=~"$service"}, websocket_route)',
)


def users() -> Panel:
    return single(
        "Active users",
        "Distinct users seen within the window (OTELMETRICS_USER_TIMEOUT_SECONDS), all instances.",
        "short",
        query(f"sum(app_users_active{{{APP}}})"),
    )


def connections_now() -> Panel:
    return single(
        "Open websockets",
        "Websocket connections open right now.",
        "short",
        query(f"sum(websocket_server_active_connections{{{SEL}}})"),
    )


def users_by_instance() -> Panel:
    return graph(
        "Active users by instance",
        "Each instance counts the users it served (a user on two workers counts twice).",
        "short",
        query(
            f"sum by (service_instance_id) (app_users_active{{{APP}}})",
            "{{service_instance_id}}",
        ),
    )


def connections() -> Panel:
    return graph(
        "Open connections by route",
        "Websocket connections per route template or Socket.IO namespace.",
        "short",
        query(
            f"sum by (websocket_route) (websocket_server_active_connections{{{SEL}}})",
            "{{websocket_route}}",
        ),
    )


def messages() -> Panel:
    return graph(
        "Messages per second",
        "Received and sent, per route and Socket.IO event.",
        "short",
        query(
            f"sum by (websocket_route, websocket_event) "
            f"(rate(websocket_server_messages_received_total{{{SEL}}}{RATE}))",
            "in {{websocket_route}} {{websocket_event}}",
        ),
        query(
            f"sum by (websocket_route, websocket_event) "
            f"(rate(websocket_server_messages_sent_total{{{SEL}}}{RATE}))",
            "out {{websocket_route}} {{websocket_event}}",
        ),
    )


def durations() -> Panel:
    bucket = f"websocket_server_connection_duration_seconds_bucket{{{SEL}}}"
    return graph(
        "Connection duration",
        "Median and p95 duration of the connections that closed in the interval.",
        "s",
        *(
            query(
                f"histogram_quantile({q}, sum by (le) (rate({bucket}{RATE})))",
                f"p{round(q * 100)}",
            )
            for q in (0.5, 0.95)
        ),
    )


def rows() -> list[tuple[str, list[tuple[Panel, int, int]]]]:
    return [
        ("Now", [(users(), 12, 4), (connections_now(), 12, 4)]),
        ("Users", [(users_by_instance(), 12, 8), (connections(), 12, 8)]),
        ("Messages", [(messages(), 12, 8), (durations(), 12, 8)]),
    ]


def board() -> Any:
    return build(
        UID,
        "Users and websockets",
        DESCRIPTION,
        [SERVICE_VARIABLE, INSTANCE_VARIABLE, ROUTE_VARIABLE],
        rows(),
    )


SPEC = Spec(UID, "Users and websockets", DESCRIPTION, board)
