import logging
import threading
import tracemalloc
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from otelmetrics.instruments import user_ids
from otelmetrics.instruments.user_ids import UserTracker, set_user_id_extractor, user_id_from
from otelmetrics.instruments.users import ActiveUsers
from tests.clock import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def users(clock):
    return ActiveUsers(timeout=300, max_users=100, clock=clock)


@pytest.fixture(autouse=True)
def default_extractor():
    yield
    set_user_id_extractor(None)


def test_users_count_within_the_timeout_and_expire_after_it(users, clock):
    users.seen("alice")
    clock.now += 100
    users.seen("bob")
    users.seen("alice")  # seen again: her window restarts
    assert users.count() == 2
    clock.now += 250  # bob 250 s ago, alice 250 s ago
    assert users.count() == 2
    clock.now += 51  # both just over 300 s
    assert users.count() == 0
    assert users.ids() == []


def test_a_repeat_visit_keeps_a_user_active(users, clock):
    users.seen("alice")
    clock.now += 200
    users.seen("bob")
    users.seen("alice")
    clock.now += 200  # alice's first visit is 400 s old, her last 200 s
    assert users.ids() == ["bob", "alice"]


def test_explicit_now_overrides_the_clock(users):
    users.seen("alice", now=10.0)
    assert users.count(now=309.0) == 1
    assert users.count(now=311.0) == 0


def test_ids_are_most_recent_last(users):
    for name in ("a", "b", "c"):
        users.seen(name)
    users.seen("a")
    assert users.ids() == ["b", "c", "a"]


def test_memory_is_bounded_and_the_overflow_is_estimated(clock, caplog):
    users = ActiveUsers(timeout=300, max_users=1000, clock=clock)
    with caplog.at_level(logging.WARNING, logger="otelmetrics.instruments.users"):
        for i in range(21_000):
            users.seen(f"user-{i}")
            users.seen(f"user-{i}")  # a second request by an untracked user is not a new user
    assert len(users.ids()) == 1000
    assert users.ids()[0] == "user-0"  # the first thousand are kept, exactly
    assert abs(users.overflow() - 20_000) < 20_000 * 0.03
    assert abs(users.count() - 21_000) < 20_000 * 0.03
    warnings = [r for r in caplog.records if "max_users=1000" in r.getMessage()]
    assert len(warnings) == 1


def test_long_ids_cost_a_fixed_size_and_still_count_as_distinct_users(clock):
    users = ActiveUsers(timeout=300, max_users=10_001, clock=clock)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(10_000):  # spoofed X-User-Id headers of 8 KB each (80 MB if kept as they are)
        users.seen(f"{i:08d}" + "x" * 8_192)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 4_000_000, f"{grown / 1e6:.1f} MB for 10,000 ids"
    assert users.count() == 10_000
    kept = users.ids()
    assert {len(found) for found in kept} == {33} and kept[0].startswith("#")
    users.seen("00000000" + "x" * 8_192)  # the same long id again: the same user
    assert users.count() == 10_000
    users.seen("alice@example.com")  # short ids are kept as they are, for GET /users
    assert users.ids()[-1] == "alice@example.com"


def test_the_overflow_estimate_expires_with_the_window(clock):
    users = ActiveUsers(timeout=300, max_users=10, clock=clock)
    for i in range(500):
        users.seen(f"user-{i}")
    assert 450 < users.overflow() < 550
    clock.now += 301  # the first window ended: the estimate covers it for one more window
    assert 450 < users.overflow() < 550
    clock.now += 300
    assert users.overflow() == 0
    assert users.count() == 0


def test_tracked_users_expiring_make_room_below_the_cap(clock):
    users = ActiveUsers(timeout=300, max_users=2, clock=clock)
    users.seen("a")
    users.seen("b")
    clock.now += 301
    users.seen("c")
    assert users.ids() == ["c"]
    assert users.overflow() == 0


def test_concurrent_seen_from_threads_counts_each_user_once(clock):
    users = ActiveUsers(timeout=300, max_users=100_000, clock=clock)

    def visit(offset: int) -> None:
        for i in range(2000):
            users.seen(f"user-{(i + offset) % 3000}")

    threads = [threading.Thread(target=visit, args=(n * 500,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert users.count() == 3000
    assert len(set(users.ids())) == 3000


def test_reset_forgets_every_user(users):
    users.seen("alice")
    users.reset()
    assert users.count() == 0


def starlette_request(state=None, headers=(), user=None) -> Request:
    scope = {"type": "http", "headers": list(headers), "state": state or {}}
    if user is not None:
        scope["user"] = user
    return Request(scope)


def test_the_default_extractor_reads_request_state_then_the_header():
    assert user_id_from(starlette_request({"user_id": 7})) == "7"
    assert user_id_from(starlette_request({"user": "alice"})) == "alice"
    assert user_id_from(starlette_request({"user": SimpleNamespace(id="u-1")})) == "u-1"
    login = SimpleNamespace(is_authenticated=True, identity="carol")
    assert user_id_from(starlette_request(user=login)) == "carol"
    anonymous = SimpleNamespace(is_authenticated=False, identity="")
    assert user_id_from(starlette_request(user=anonymous)) is None
    assert user_id_from(starlette_request(headers=[(b"x-user-id", b"dave")])) == "dave"
    assert user_id_from(starlette_request(headers=[(b"x-user-id", b"")])) is None
    assert user_id_from(starlette_request()) is None


def test_tracker_uses_the_app_then_the_module_extractor(users):
    request = starlette_request(headers=[(b"x-user-id", b"from-header")])
    UserTracker(users)(request)
    set_user_id_extractor(lambda r: "from-module")
    UserTracker(users)(request)
    UserTracker(users, lambda r: 42)(request)
    assert users.ids() == ["from-header", "from-module", "42"]


def test_the_asgi_path_builds_a_request_only_for_a_custom_extractor(users):
    scope = {"type": "http", "headers": [(b"x-user-id", b"erin")], "state": {}}
    built = []

    def make_request(scope):
        built.append(scope)
        return Request(scope)

    UserTracker(users).asgi(scope, make_request)
    assert built == []
    UserTracker(users, lambda r: r.headers["x-user-id"].upper()).asgi(scope, make_request)
    assert built == [scope]
    assert users.ids() == ["erin", "ERIN"]


def test_an_extractor_that_raises_is_logged_once_and_never_raises(users, caplog):
    def broken(request):
        raise KeyError("no user table")

    tracker = UserTracker(users, broken)
    with caplog.at_level(logging.ERROR, logger="otelmetrics.instruments.user_ids"):
        tracker(object())
        tracker.asgi({}, Request)
    assert users.count() == 0
    assert len([r for r in caplog.records if "extractor" in r.getMessage()]) == 1


def test_setting_a_non_callable_extractor_fails_loudly():
    with pytest.raises(TypeError, match="callable"):
        set_user_id_extractor("user_id")  # type: ignore[arg-type]
    assert user_ids._extractor is None


def test_the_gauge_reports_active_users_without_attributes(metrics):
    metrics.handle.users.seen("alice")
    metrics.handle.users.seen("bob")
    [point] = metrics.collect()["app.users.active"]
    assert point.value == 2
    assert dict(point.attributes) == {}
