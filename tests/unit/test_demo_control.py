"""The demo's scenario endpoint: a bad ``duration`` names the parameter, the value and the fix."""

import secrets

import pytest

from otelmetrics.demo.control import Control
from otelmetrics.demo.scenarios import Scenarios
from otelmetrics.settings import Settings

ADMIN_TOKEN = secrets.token_urlsafe()
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def control():
    settings = Settings.from_env({}, api_token=secrets.token_urlsafe(), api_admin_token=ADMIN_TOKEN)
    return Control(settings, Scenarios(), lambda: 10.0)


@pytest.mark.parametrize("duration", ["abc", "-1", "0", "nan", "inf", "3601", "1e309", "x" * 500])
def test_a_bad_duration_answers_400_naming_duration(control, duration):
    reply = control.trigger("error_burst", ADMIN, "10.0.0.7", duration)
    assert reply.status == 400
    assert reply.body["parameter"] == "duration"
    message = reply.body["error"]
    assert message.startswith(f"duration={duration[:40]!r} is invalid: use a number of seconds")
    assert "(0, 3600]" in message and len(message) < 160
    assert "could not convert" not in message


def test_a_good_duration_starts_the_scenario(control):
    reply = control.trigger("error_burst", ADMIN, "10.0.0.7", "20")
    assert reply.status == 202 and reply.body["end"] - reply.body["start"] == 20
