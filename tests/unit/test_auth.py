"""Roles for API requests: the hook, the bearer tokens (constant-time), public reads."""

import logging
import secrets

import pytest

from otelmetrics.api.auth import RequestInfo, role_for
from otelmetrics.settings import Settings

READ = secrets.token_urlsafe()
ADMIN = secrets.token_urlsafe()


def info(authorization=None, **headers):
    if authorization is not None:
        headers["authorization"] = authorization
    return RequestInfo("GET", "/api/metrics/current", "10.0.0.7", headers)


def settings(**options):
    return Settings.from_env(environ={}, **options)


TOKENS = settings(api_token=READ, api_admin_token=ADMIN)


@pytest.mark.parametrize(
    ("authorization", "role"),
    [
        (f"Bearer {READ}", "read"),
        (f"Bearer {ADMIN}", "admin"),
        (f"bearer {ADMIN}", "admin"),  # the scheme is case-insensitive
        (f"Bearer  {READ} ", "read"),
        ("Bearer wrong", None),
        (f"Bearer {READ}x", None),
        (f"Basic {READ}", None),
        (READ, None),
        ("Bearer ", None),
        (None, None),
    ],
)
def test_bearer_tokens(authorization, role):
    assert role_for(TOKENS, None, info(authorization)) == role


def test_no_token_configured_admits_nobody():
    assert role_for(settings(), None, info("Bearer ")) is None
    assert role_for(settings(), None, info(f"Bearer {READ}")) is None


def test_public_gives_read_only():
    public = settings(api_public=True, api_admin_token=ADMIN)
    assert role_for(public, None, info()) == "read"
    assert role_for(public, None, info(f"Bearer {ADMIN}")) == "admin"


def test_the_hook_comes_first_and_none_falls_through_to_the_tokens():
    def hook(request):
        return {"boss": "admin", "alice": "read"}.get(request.headers.get("x-user"))

    assert role_for(TOKENS, hook, info(**{"x-user": "boss"})) == "admin"
    assert role_for(TOKENS, hook, info(**{"x-user": "alice"})) == "read"
    assert role_for(TOKENS, hook, info(f"Bearer {ADMIN}")) == "admin"
    assert role_for(TOKENS, hook, info()) is None


@pytest.mark.parametrize("returned", ["root", True, 1, "READ", ["admin"], {"role": "admin"}])
def test_a_hook_returning_something_else_denies(returned, caplog):
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.api.auth"):
        assert role_for(TOKENS, lambda request: returned, info()) is None
    assert "return 'read', 'admin' or None" in caplog.text


def test_a_hook_that_raises_denies_and_logs_once_at_error(caplog):
    def hook(request):
        raise RuntimeError("session store down")

    with caplog.at_level(logging.DEBUG, logger="otelmetrics.api.auth"):
        for _ in range(3):
            assert role_for(TOKENS, hook, info(f"Bearer {READ}")) == "read"  # tokens still work
            assert role_for(TOKENS, hook, info()) is None
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) <= 1  # once per process: an earlier test may have logged it already
    assert all(record.exc_info for record in caplog.records)
