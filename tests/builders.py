"""Components built from a handle's parts, as the pipeline builds them (tests inject clocks)."""

from otelmetrics.insights.stats import Stats
from otelmetrics.pipeline.options import stats_options


def make_stats(handle, **kwargs):
    """A ``Stats`` over ``handle``'s window, users and websockets, with its current settings."""
    return Stats(
        http=handle.http,
        users=handle.users,
        websockets=handle.websockets,
        options=stats_options(handle.settings),
        **kwargs,
    )
