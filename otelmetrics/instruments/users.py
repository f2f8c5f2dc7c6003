"""Active users: distinct user ids seen within a timeout window, as the ``app.users.active`` gauge.

The Flask and FastAPI adapters note the user of each request once it is answered; the id comes
from an extractor you can replace::

    from otelmetrics.flask import OtelMetrics
    OtelMetrics(app, user_id=lambda request: request.headers.get("X-Account"))

    otelmetrics.users.set_user_id_extractor(my_extractor)    # for every app without its own

The default, :func:`user_id_from`, tries a Flask session user (``session["user_id"]``, then
flask_login's logged-in user), a Starlette request-state user (``request.state.user_id``,
``request.state.user``, then an authenticated ``request.user``), then the ``X-User-Id``
header (see :mod:`otelmetrics.instruments.user_ids`). An extractor that raises is logged once
and the request goes on. Ids never become metric attributes.

Memory is bounded: an id longer than 64 characters is kept as a 33-character digest, and at most
``max_users`` ids (``OTELMETRICS_MAX_USERS``) are kept; beyond it new ids are not kept.
They are counted instead by an overflow estimate (linear counting over a fixed 64 KiB bitmap per
timeout window, within about 1 % up to 200 000 users beyond the cap), so the gauge stays
honest: exact up to the cap, an estimate above it. A warning is logged when the cap is first hit.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otelmetrics.core.once import LogOnce
from otelmetrics.instruments import gauges

__all__ = ["ActiveUsers"]

_logger = logging.getLogger(__name__)

SKETCH_SLOTS = 1 << 16
# Real user ids (a number, a UUID, an e-mail) are short; a client-supplied header is not bound
# to be. Longer ids are kept as a fixed-size digest: still one distinct user each.
MAX_ID_LENGTH = 64


def bounded_id(user_id: str) -> str:
    """``user_id`` if it is at most ``MAX_ID_LENGTH`` long, else ``#`` and a 128-bit digest."""
    if len(user_id) <= MAX_ID_LENGTH:
        return user_id
    digest = hashlib.blake2b(user_id.encode(errors="surrogatepass"), digest_size=16)
    return "#" + digest.hexdigest()


class _OverflowSketch:
    """Distinct ids beyond the cap, estimated by linear counting, one bitmap per window.

    The estimate is the larger of the current window's and the previous one's, so it covers
    between one and two timeout windows.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self.started = -math.inf
        self.current = bytearray(SKETCH_SLOTS)
        self.zeros = SKETCH_SLOTS
        self.previous_estimate = 0

    def add(self, user_id: str, now: float) -> None:
        self.rotate(now)
        slot = hash(user_id) & (SKETCH_SLOTS - 1)
        if not self.current[slot]:
            self.current[slot] = 1
            self.zeros -= 1

    def estimate(self, now: float) -> int:
        self.rotate(now)
        return max(self._estimate(), self.previous_estimate)

    def rotate(self, now: float) -> None:
        if now - self.started < self.window:
            return
        fresh = now - self.started < 2 * self.window
        self.previous_estimate = self._estimate() if fresh else 0
        self.started = now
        if self.zeros != SKETCH_SLOTS:
            self.current = bytearray(SKETCH_SLOTS)
            self.zeros = SKETCH_SLOTS

    def _estimate(self) -> int:
        if self.zeros == SKETCH_SLOTS:
            return 0
        zeros = max(self.zeros, 1)  # saturated: report the largest estimate it can make
        return round(-SKETCH_SLOTS * math.log(zeros / SKETCH_SLOTS))


class ActiveUsers:
    """User ids seen in the last ``timeout`` seconds, at most ``max_users`` of them kept.

    Each :meth:`seen` is O(1) amortized: ids sit in last-seen order, so expired ones are
    dropped from the front. Thread-safe.

    Example::

        users = ActiveUsers(timeout=300, max_users=10_000)
        users.seen("alice")
        users.count()      # 1, for the next 300 s

    Args:
        timeout: Seconds a user counts as active after their last request.
        max_users: Ids kept; beyond it the :meth:`overflow` estimate counts new ids.
        clock: Monotonic seconds (injected in tests).
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_users: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.max_users = max_users
        self.clock = clock
        self._lock = threading.Lock()
        self._last_seen: OrderedDict[str, float] = OrderedDict()
        self._sketch = _OverflowSketch(timeout)
        self._log_once = LogOnce(_logger, later=None)

    @property
    def tables(self) -> tuple[()]:
        return ()

    def seen(self, user_id: str, now: float | None = None) -> None:
        """Note a request by ``user_id`` (at ``now``, default: the clock); an id longer than
        ``MAX_ID_LENGTH`` is kept as its digest (:func:`bounded_id`)."""
        now = self.clock() if now is None else now
        if len(user_id) > MAX_ID_LENGTH:
            user_id = bounded_id(user_id)
        with self._lock:
            last_seen = self._last_seen
            if user_id in last_seen:
                last_seen.move_to_end(user_id)
                last_seen[user_id] = now
                return
            self._expire(now)
            if len(last_seen) < self.max_users:
                last_seen[user_id] = now
                return
            self._sketch.add(user_id, now)
            self._log_once(
                "capped",
                "active users reached max_users=%d; further users are estimated, not "
                "kept (raise OTELMETRICS_MAX_USERS for exact counts)",
                self.max_users,
            )

    def count(self, now: float | None = None) -> int:
        """Users seen within the timeout: exact up to ``max_users``, plus the overflow estimate."""
        now = self.clock() if now is None else now
        with self._lock:
            self._expire(now)
            return len(self._last_seen) + self._sketch.estimate(now)

    def overflow(self, now: float | None = None) -> int:
        """The estimated users beyond ``max_users`` (0 below the cap)."""
        now = self.clock() if now is None else now
        with self._lock:
            return self._sketch.estimate(now)

    def ids(self, now: float | None = None) -> list[str]:
        """The kept ids seen within the timeout, most recent last (for admins only)."""
        now = self.clock() if now is None else now
        with self._lock:
            self._expire(now)
            return list(self._last_seen)

    def register(self, meter: Meter, *, limit: int) -> None:
        """Register the ``app.users.active`` observable gauge on ``meter``."""
        gauges.register(
            meter,
            "app.users.active",
            self._observe,
            "{user}",
            "Distinct users seen within the user timeout (estimated beyond max_users).",
            limit=limit,
        )

    def reset(self) -> None:
        """Forget every user (after a fork: the child starts from zero)."""
        self._lock = threading.Lock()
        self._last_seen = OrderedDict()
        self._sketch = _OverflowSketch(self.timeout)

    def _observe(self, options: CallbackOptions) -> Iterator[Observation]:
        yield Observation(self.count())

    def _expire(self, now: float) -> None:
        """Drop ids last seen before the window. Call with the lock."""
        last_seen = self._last_seen
        cutoff = now - self.timeout
        while last_seen:
            oldest = next(iter(last_seen.values()))
            if oldest >= cutoff:
                return
            last_seen.popitem(last=False)
