"""Active users counted through real Flask and FastAPI requests, with each extractor."""

import logging
import secrets
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi import FastAPI, Request
from flask import Flask, session
from flask_login import LoginManager, UserMixin, login_user
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.testclient import TestClient

from otelmetrics.fastapi import instrument_app
from otelmetrics.flask import OtelMetrics
from otelmetrics.users import set_user_id_extractor


@pytest.fixture(autouse=True)
def default_extractor() -> Iterator[None]:
    yield
    set_user_id_extractor(None)


class User(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def make_flask_app(metrics, *, with_login: bool = True, **options) -> Flask:
    app = Flask(__name__)
    app.secret_key = secrets.token_urlsafe()
    if with_login:
        LoginManager(app).user_loader(User)

    @app.post("/session/<name>")
    def session_login(name: str) -> str:
        session["user_id"] = name
        return "ok"

    @app.post("/login/<name>")
    def flask_login(name: str) -> str:
        login_user(User(name))
        return "ok"

    @app.get("/hello")
    def hello() -> str:
        return "hello"

    OtelMetrics(app, handle=metrics.handle, **options)
    return app


def test_flask_session_user(metrics):
    client = make_flask_app(metrics).test_client()
    client.post("/session/alice")  # the login request carries no session cookie yet
    assert metrics.handle.users.ids() == []
    assert client.get("/hello").status_code == 200
    assert metrics.handle.users.ids() == ["alice"]


def test_flask_login_user(metrics):
    client = make_flask_app(metrics).test_client()
    client.post("/login/bob")
    client.get("/hello")
    assert metrics.handle.users.ids() == ["bob"]


def test_flask_header_user_and_anonymous_requests(metrics):
    client = make_flask_app(metrics, with_login=False).test_client()
    anonymous = client.get("/hello")
    assert "Vary" not in anonymous.headers  # the session was not read (flask_login reads it)
    client.get("/hello", headers={"X-User-Id": "carol"})
    client.get("/hello", headers={"X-User-Id": "carol"})
    assert metrics.handle.users.ids() == ["carol"]
    [point] = metrics.collect()["app.users.active"]
    assert (point.value, dict(point.attributes)) == (1, {})


def test_flask_app_and_module_extractors(metrics):
    client = make_flask_app(
        metrics, user_id=lambda request: request.args.get("account")
    ).test_client()
    client.get("/hello?account=acct-1")
    other = make_flask_app(metrics).test_client()
    set_user_id_extractor(lambda request: "module-user")
    other.get("/hello", headers={"X-User-Id": "ignored"})
    client.get("/hello?account=acct-2")  # the app's own extractor wins over the module's
    assert metrics.handle.users.ids() == ["acct-1", "module-user", "acct-2"]


def test_flask_extractor_that_raises_never_breaks_the_request(metrics, caplog):
    def broken(request):
        raise LookupError("user service down")

    client = make_flask_app(metrics, user_id=broken).test_client()
    with caplog.at_level(logging.ERROR, logger="otelmetrics.instruments.user_ids"):
        responses = [client.get("/hello") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert metrics.handle.users.count() == 0
    assert len([r for r in caplog.records if "extractor" in r.getMessage()]) == 1
    assert metrics.count(http_route="/hello") == 3


class HeaderLogin(AuthenticationBackend):
    async def authenticate(self, conn):
        name = conn.headers.get("X-Login")
        return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None


def make_fastapi_app(metrics, **options) -> FastAPI:
    app = FastAPI()
    app.add_middleware(AuthenticationMiddleware, backend=HeaderLogin())

    @app.get("/state-id/{name}")
    async def state_id(request: Request, name: str) -> str:
        request.state.user_id = name
        return "ok"

    @app.get("/state-user/{name}")
    async def state_user(request: Request, name: str) -> str:
        request.state.user = SimpleNamespace(id=name, email="user@example.test")
        return "ok"

    @app.get("/hello")
    async def hello() -> str:
        return "hello"

    instrument_app(app, handle=metrics.handle, **options)
    return app


def test_fastapi_default_extractors(metrics):
    with TestClient(make_fastapi_app(metrics)) as client:
        client.get("/state-id/dana")
        client.get("/state-user/erin")
        client.get("/hello", headers={"X-Login": "frank"})
        client.get("/hello", headers={"X-User-Id": "grace"})
        client.get("/hello")
    assert metrics.handle.users.ids() == ["dana", "erin", "frank", "grace"]


def test_fastapi_app_extractor_and_a_raising_one(metrics, caplog):
    with TestClient(make_fastapi_app(metrics, user_id=lambda r: r.query_params.get("u"))) as c:
        c.get("/hello?u=heidi")
    assert metrics.handle.users.ids() == ["heidi"]

    def broken(request):
        raise RuntimeError("no user")

    with TestClient(make_fastapi_app(metrics, user_id=broken)) as client:
        with caplog.at_level(logging.ERROR, logger="otelmetrics.instruments.user_ids"):
            assert [client.get("/hello").status_code for _ in range(2)] == [200, 200]
    assert metrics.handle.users.ids() == ["heidi"]
    assert len([r for r in caplog.records if "extractor" in r.getMessage()]) == 1


def test_users_expire_after_the_timeout(metrics):
    now = [5000.0]
    metrics.handle.users.clock = lambda: now[0]
    with TestClient(make_fastapi_app(metrics)) as client:
        client.get("/hello", headers={"X-User-Id": "ivan"})
        now[0] += 200
        client.get("/hello", headers={"X-User-Id": "judy"})
        assert metrics.handle.users.count() == 2
        now[0] += 101  # ivan was last seen 301 s ago; the default timeout is 300 s
        assert metrics.handle.users.ids() == ["judy"]
        [point] = metrics.collect()["app.users.active"]
        assert point.value == 1
