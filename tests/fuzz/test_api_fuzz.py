"""Property-based requests against the JSON API, the operations views, the page and the
exports, on Flask and FastAPI (in-process test clients): whatever arrives, no 5xx, JSON under
the prefix (the page, the CSV export and the stream have their own types), nothing but health
and the page served without a credential, nothing destructive for the read credential, and no
traceback in the log."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.profiles import seeded
from tests.fuzz.traffic import (
    ADMIN,
    BODIES,
    METHODS,
    OWN_TYPES,
    PATHS,
    QUERIES,
    READ,
    SSE,
    TRICKS,
    check,
    credentials,
    effective,
    paths,
    role,
    send,
)

VIEWS = {"performance", "trading", "errors", "security", "status", "dashboard-data", "all"}
OPERATIONS = [path for path in PATHS if path.rsplit("/", 1)[1] in VIEWS]


def request_once(app, caplog, method, path, query, auth, body):
    who = role(auth, READ, ADMIN)
    if effective(path) == SSE and who is not None:  # "sse/metrics/." too: clients resolve it
        query = [("max_events", "1"), *query]  # the first value wins: one event, then the end
    url = path + ("?" + urlencode(query) if query else "")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        answer = send(app, method, url, auth, body)
    check(method, path, who, answer)
    logged = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not logged, f"{method} {url[:120]!r}: {logged[0].getMessage()}"
    return answer


@seeded
@given(
    method=METHODS,
    path=paths(),
    query=QUERIES,
    auth=credentials(READ, ADMIN),
    body=BODIES,
)
def test_any_request_keeps_the_invariants(app, caplog, method, path, query, auth, body):
    request_once(app, caplog, method, path, query, auth, body)


@seeded
@given(path=st.sampled_from(OPERATIONS), query=QUERIES, token=st.sampled_from([READ, ADMIN]))
def test_the_operations_views_answer_200_or_name_the_bad_parameter(app, caplog, path, query, token):
    answer = request_once(app, caplog, "GET", path, query, f"Bearer {token}".encode(), None)
    assert answer.status in (200, 400), answer.body[:200]


@seeded
@given(
    path=st.sampled_from(sorted(OWN_TYPES)),
    trick=st.sampled_from(TRICKS),
    tail=st.sampled_from(["", "reset", "../reset", "export/json", "..%2freset"]),
    auth=credentials(READ, ADMIN),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
)
def test_path_tricks_on_the_page_and_the_exports(app, caplog, path, trick, tail, auth, method):
    request_once(app, caplog, method, f"{path}/{trick}{tail}", [], auth, None)
    request_once(app, caplog, method, f"{path}{trick}{tail}", [], auth, None)
