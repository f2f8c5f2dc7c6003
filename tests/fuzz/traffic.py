"""What the fuzz tier sends (Hypothesis strategies), how (one raw client over Flask's test client
and Starlette's TestClient) and what every answer must satisfy (:func:`check`)."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from hypothesis import strategies as st
from starlette.testclient import TestClient

from otelmetrics.api.endpoints import ENDPOINTS

READ, ADMIN = "fuzz-read-token-0123456789", "fuzz-admin-token-0123456789"  # the app's tokens
PREFIX = "/api/metrics"
PAGE = "/api/metrics/dashboard"
PATHS = [PREFIX + e.path if e.path else PAGE for e in ENDPOINTS]
PATHS[PATHS.index(PREFIX + "/metric/{name}")] = PREFIX + "/metric/latency_p95_ms"
# Not JSON when they succeed: the page, the CSV export and the SSE stream.
OWN_TYPES = {
    PAGE: "text/html",
    PREFIX + "/export/csv": "text/csv",
    PREFIX + "/sse/metrics": "text/event-stream",
}
PUBLIC = {PREFIX + "/health", PAGE}
DESTRUCTIVE = {PREFIX + "/reset", PREFIX + "/clear", PREFIX + "/snapshot"}
SSE = PREFIX + "/sse/metrics"

METHODS = st.sampled_from(
    ["GET", "GET", "GET", "HEAD", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]
)
TRICKS = ["../", "%2e%2e/", "%2E%2E%2F", "..%2f", "./", "/", "//", "%2f", ".", "%00", "%ff", "~"]


@st.composite
def paths(draw: st.DrawFn) -> str:
    """An endpoint's path, now and then twisted: a dot segment, a doubled or encoded slash, an
    unknown or non-ASCII name, a trailing trick (on the page and the exports too)."""
    path = draw(st.sampled_from(PATHS))
    how = draw(st.integers(0, 5))
    if how == 1:
        head, _, tail = path.rpartition("/")
        path = f"{head}/{draw(st.sampled_from(TRICKS))}{tail}"
    elif how == 2:
        path = path + "/" + draw(st.sampled_from(TRICKS)) + draw(st.sampled_from(["", "reset"]))
    elif how == 3:
        path = draw(st.sampled_from(["/", "//"])) + path.lstrip("/")
    elif how == 4:
        name = draw(st.text(min_size=1, max_size=30))
        path = f"{PREFIX}/{draw(st.sampled_from(['', 'metric/']))}{quote(name, safe='')}"
    return path


VALUES = st.one_of(
    st.sampled_from(["", "0", "-1", "1", "5", "60", "NaN", "nan", "inf", "-inf", "1e309", "1.5"]),
    st.sampled_from(["9" * 5000, "-" + "9" * 40, "x" * 10240, "٣", "１０", " 5", "5 ", "0x10"]),
    st.sampled_from(["worker", "service", "latency_p95_ms", "%zz", "\x00", "a&b=c"]),
    st.integers().map(str),
    st.text(max_size=40),
)
KEYS = st.one_of(
    st.sampled_from(["minutes", "last_n", "scope", "max_events", "name", "breaker_window"]),
    st.text(max_size=12),
)
QUERIES = st.lists(st.tuples(KEYS, VALUES), max_size=4)  # repeated keys included


def credentials(read: str, admin: str) -> st.SearchStrategy[bytes | None]:
    """An ``Authorization`` value: none, a valid one, or a broken one."""
    return st.one_of(
        st.none(),
        st.sampled_from([f"Bearer {read}", f"Bearer {admin}", f"bearer  {read}"]).map(str.encode),
        st.sampled_from(
            [
                b"",
                b"Bearer",
                b"Bearer ",
                b"Bearer  ",
                b"Basic dXNlcjpwYXNz",
                f"Bearer {read[:-1]}".encode(),
                f"Bearer {admin}x".encode(),
                f"Token {admin}".encode(),
                "Bearer tökén".encode(),
                "Bearer tökén".encode("latin-1"),
                b"Bearer " + b"a" * 10240,
                b"Bearer \xff\xfe",
            ]
        ),
        st.binary(max_size=64).filter(lambda b: not set(b) & {0, 10, 13}),
    )


BODIES = st.one_of(
    st.none(),
    st.sampled_from([b"{", b"[" * 5000 + b"]" * 5000, b"\xff\xfe\x00", b"x" * 1_048_576]),
    st.recursive(st.integers() | st.text(max_size=10), lambda kids: st.lists(kids, max_size=3))
    .map(json.dumps)
    .map(str.encode),
)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def send(app: Any, method: str, url: str, auth: bytes | None, body: bytes | None) -> Answer:
    """One request through the framework's in-process test client."""
    if app.framework == "flask":
        headers = {} if auth is None else {"Authorization": auth.decode("latin-1")}
        response = app.app.test_client().open(url, method=method, headers=headers, data=body)
        content = response.data
    else:
        client = getattr(app, "client", None) or TestClient(
            app.app, raise_server_exceptions=False, follow_redirects=False
        )
        app.client = client
        headers_b = {} if auth is None else {"Authorization": auth}
        response = client.request(method, url, headers=headers_b, content=body)
        content = response.content
    return Answer(response.status_code, response.headers.get("content-type", ""), content)


def effective(path: str) -> str:
    """The path an endpoint would see once decoded and normalised (to classify the request)."""
    return posixpath.normpath("/" + unquote(path).lstrip("/")).replace("//", "/")


def role(auth: bytes | None, read: str, admin: str) -> str | None:
    """What the credential is worth: the reference the API must agree with."""
    scheme, _, token = (auth or b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return {admin: "admin", read: "read"}.get(token.strip())


def check(method: str, path: str, who: str | None, answer: Answer) -> None:
    """The invariants of one answer (``who``: the credential's role or None)."""
    where = f"{method} {path[:120]!r} as {who}: {answer.status} {answer.content_type}"
    target = effective(path)
    refused_stream = target == SSE and answer.status == 503  # too many, or a sync worker
    assert answer.status < 500 or refused_stream, f"{where}: {answer.body[:300]!r}"
    # Under the prefix as sent and once normalised (a client may resolve "../" before sending).
    under_prefix = _under_prefix(path) and _under_prefix(target)
    if 200 <= answer.status < 300 and (under_prefix or target.startswith(PREFIX)):
        assert who is not None or target in PUBLIC, f"{where}: served without a credential"
        if target in DESTRUCTIVE:
            assert who == "admin", f"{where}: a destructive endpoint took the read credential"
    if not under_prefix or 300 <= answer.status < 400:
        return  # a redirect carries no data: Werkzeug sends a doubled slash to the canonical path
    wanted = OWN_TYPES.get(target) if 200 <= answer.status < 300 else None
    assert answer.content_type.startswith(wanted or "application/json"), where
    if wanted is None and method != "HEAD":
        body = json.loads(answer.body)
        assert isinstance(body, dict) and (answer.status < 400) == ("error" not in body), where


def _under_prefix(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
