"""Users and websockets: active users, connections, messages and connection durations."""

from __future__ import annotations

from typing import Any

from tools import names
from tools.dashboards.common import (
    APP,
    INSTANCE_VARIABLE,
    RATE,
    SERVICE_VARIABLE,
    Panel,
    Spec,
    build,
    graph,
    legend,
    query,
    single,
    variable,
)

UID = "otelmetrics-realtime"
SEL = f'{APP}, {names.WS_ROUTE}=~"$route"'
DESCRIPTION = (
    "Who is connected: active users (seen within the user window), open websocket "
    "connections per route or Socket.IO namespace, messages received and sent per second by "
    "route and event, and how long connections last."
)

ROUTE_VARIABLE = variable(
    "route",
    "Websocket route",
    f'label_values({names.WS_ACTIVE}{{{names.SERVICE_NAME}=~"$service"}}, {names.WS_ROUTE})',
)


def users() -> Panel:
    return single(
        "Active users",
        "Distinct users seen within the window (OTELMETRICS_USER_TIMEOUT_SECONDS), all instances.",
        "short",
        query(f"sum({names.USERS_ACTIVE}{{{APP}}})"),
    )


def connections_now() -> Panel:
    return single(
        "Open websockets",
        "Websocket connections open right now.",
        "short",
        query(f"sum({names.WS_ACTIVE}{{{SEL}}})"),
    )


def users_by_instance() -> Panel:
    return graph(
        "Active users by instance",
        "Each instance counts the users it served (a user on two workers counts twice).",
        "short",
        query(
            f"sum by ({names.INSTANCE_ID}) ({names.USERS_ACTIVE}{{{APP}}})",
            legend(names.INSTANCE_ID),
        ),
    )


def connections() -> Panel:
    return graph(
        "Open connections by route",
        "Websocket connections per route template or Socket.IO namespace.",
        "short",
        query(f"sum by ({names.WS_ROUTE}) ({names.WS_ACTIVE}{{{SEL}}})", legend(names.WS_ROUTE)),
    )


def messages() -> Panel:
    return graph(
        "Messages per second",
        "Received and sent, per route and Socket.IO event.",
        "short",
        *(
            query(
                f"sum by ({names.WS_ROUTE}, {names.WS_EVENT}) (rate({metric}{{{SEL}}}{RATE}))",
                f"{way} {legend(names.WS_ROUTE, names.WS_EVENT)}",
            )
            for metric, way in ((names.WS_RECEIVED, "in"), (names.WS_SENT, "out"))
        ),
    )


def durations() -> Panel:
    bucket = f"{names.WS_DURATION}_bucket{{{SEL}}}"
    return graph(
        "Connection duration",
        "Median and p95 duration of the connections that closed in the interval.",
        "s",
        *(
            query(
                f"histogram_quantile({q}, sum by ({names.LE}) (rate({bucket}{RATE})))",
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
