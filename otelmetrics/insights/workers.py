"""The service-wide view under several workers: each publishes its window, any one merges them.

With ``OTELMETRICS_STATS_DIR`` set, every worker's sampler writes its rolling window (slot
counts and latency sketches), totals and gauges to ``<dir>/worker-<pid>.json`` every 5 s (an
atomic replace). ``GET /current?scope=service`` merges the files written in the last 15 s with
the answering worker's own state: counts and totals add up, percentiles come from the merged
sketches (still within 1 %), process memory and CPU are summed over the workers. Active users
are summed too, so a user served by two workers counts twice (an upper bound).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from otelmetrics.core.window import SLOTS, RollingWindow, Sketch, covered

FRESH_SECONDS = 15.0
_PREFIX = "worker-"


def window_state(window: RollingWindow, now: float, epoch: float) -> dict[str, Any]:
    """The window's slots, with starts moved from the monotonic clock ``now`` to epoch time.

    Call with the window's lock held.
    """
    shift = epoch - now
    return {
        "started": None if window.started is None else window.started + shift,
        "slots": [
            {
                "start": slot.start + shift,
                "requests": slot.requests,
                "errors": slot.errors,
                "server_errors": slot.server_errors,
                "offset": slot.sketch.offset,
                "zeros": slot.sketch.zeros,
                "counts": slot.sketch.counts.tolist(),
            }
            for slot in window.slots()
        ],
        "totals": list(window.totals),
    }


def publish(directory: str, state: dict[str, Any]) -> None:
    """Write this worker's state to its file, atomically (write a temporary, then rename)."""
    path = Path(directory) / f"{_PREFIX}{os.getpid()}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state))
    os.replace(temporary, path)


def collect(directory: str, own: dict[str, Any], epoch: float) -> list[dict[str, Any]]:
    """The fresh states of every worker: ``own`` for this one, the files for the others."""
    states = [own]
    mine = f"{_PREFIX}{os.getpid()}.json"
    for path in Path(directory).glob(f"{_PREFIX}*.json"):
        if path.name == mine:
            continue
        state = _read(path)
        if state is not None and epoch - state.get("at", 0.0) <= FRESH_SECONDS:
            states.append(state)
    return states


def _read(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):  # a worker that died mid-write, or one that just exited
        return None
    return found if isinstance(found, dict) else None


def merge(states: list[dict[str, Any]], epoch: float, seconds: float) -> dict[str, Any]:
    """Window counts, percentiles, covered seconds and summed gauges of several workers."""
    sketch = Sketch("I")
    counts = [0, 0, 0]
    covered = 0.0
    for state in states:
        for slot in _live(state, epoch, seconds):
            counts[0] += slot["requests"]
            counts[1] += slot["errors"]
            counts[2] += slot["server_errors"]
            sketch.merge(_sketch(slot))
        covered = max(covered, _covered(state, epoch, seconds))
    p50, p95, p99 = sketch.quantiles((0.5, 0.95, 0.99))
    return {
        "requests": counts[0],
        "errors": counts[1],
        "server_errors": counts[2],
        "seconds": covered,
        "percentiles": (p50, p95, p99),
        "totals": [sum(state["totals"][i] for state in states) for i in range(3)],
        "gauges": {
            name: sum(state["gauges"][name] for state in states) for name in states[0]["gauges"]
        },
        "workers": len(states),
    }


def _live(state: dict[str, Any], epoch: float, seconds: float) -> Iterator[dict[str, Any]]:
    return (slot for slot in state["slots"] if slot["start"] > epoch - seconds)


def _sketch(slot: dict[str, Any]) -> Sketch:
    sketch = Sketch("I")
    sketch.counts.extend(slot["counts"])
    sketch.offset, sketch.zeros = slot["offset"], slot["zeros"]
    sketch.n = sketch.zeros + sum(slot["counts"])
    return sketch


def _covered(state: dict[str, Any], epoch: float, seconds: float) -> float:
    return covered(state["started"], epoch, seconds, seconds / SLOTS)
