"""The two renderings of the rules: the shipped files, and the fast e2e variant.

The fast variant keeps every expression and threshold and shrinks each window and ``for`` by
one table (roughly minutes -> seconds), with every group evaluated each second. It exists
for tests/e2e/test_alert_scenarios.py, where apps export every second: a scenario then fires
its alert within seconds and resolves soon after it ends. Timing itself (``for``, windows)
is proven by the promtool unit tests of the default files, not by the fast variant.

Windows stay at least 3 s (three 1 s exports, so ``rate`` has samples) and keep their order:
a multi-window SLO alert's short window stays shorter than its long one. From 10 m on they
shrink less (to 20-60 s): the count alerts (more than 10 rejected orders, more than 5
reconnects within 15 m) need windows in which the demo's scenarios can reach their counts.
"""

from __future__ import annotations

from tools.rules.model import Profile

DEFAULT = Profile("default")

FAST = Profile(
    "fast",
    durations={
        "1m": "3s",
        "2m": "4s",
        "3m": "5s",
        "5m": "6s",
        "10m": "20s",
        "15m": "25s",
        "30m": "30s",
        "1h": "35s",
        "2h": "40s",
        "6h": "45s",
        "1d": "50s",
        "3d": "60s",
    },
    interval="1s",
)

PROFILES = {p.name: p for p in (DEFAULT, FAST)}
