"""The injected clock the tests move forward instead of sleeping."""


class Clock:
    """Seconds (epoch or monotonic: the test decides) that only move when a test moves them.

    ``calls`` counts the reads, for tests that check how often a clock was consulted.
    """

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
