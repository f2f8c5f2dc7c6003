"""The fuzz tier's Hypothesis profiles and seed (see tests/fuzz/conftest.py)."""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, seed, settings

# Per test and framework: about 20 s for the whole tier here (OTELMETRICS_FUZZ_EXAMPLES: more).
EXAMPLES = int(os.environ.get("OTELMETRICS_FUZZ_EXAMPLES") or 500)
_COMMON = {
    "max_examples": EXAMPLES,
    "deadline": None,  # a loaded CI machine is slow, not wrong
    "print_blob": True,
    # caplog is function-scoped on purpose: each example clears it and reads it again.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("dev", **_COMMON)
PROFILE = os.environ.get("OTELMETRICS_FUZZ_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)
SEED = int(os.environ.get("OTELMETRICS_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
seeded = seed(SEED)  # decorates each fuzz test (ignored when derandomized)
