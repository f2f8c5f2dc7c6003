import importlib
import subprocess
import sys

import pytest

import otelmetrics


def test_all_is_sorted_and_complete():
    assert otelmetrics.__all__ == sorted(otelmetrics.__all__)
    public = {name for name in vars(otelmetrics) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(otelmetrics, name)).__name__ == "module"}
    assert set(otelmetrics.__all__) - {"__version__"} == public - modules


def test_import_does_not_import_a_framework():
    code = (
        "import sys, otelmetrics; "
        "print(sorted(m for m in ('flask', 'fastapi', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# Every import path the README and docs/ document, old and new: users' code does not change when a
# module moves inside the package (CHANGELOG, "What moved").
DOCUMENTED = [
    ("otelmetrics.flask", "OtelMetrics"),
    ("otelmetrics.fastapi", "instrument_app"),
    ("otelmetrics.fastapi", "uninstrument_app"),
    ("otelmetrics.fastapi", "OtelMetricsMiddleware"),
    ("otelmetrics.socketio", "instrument_socketio"),
    ("otelmetrics.websockets", "instrument_socketio"),
    ("otelmetrics.websockets", "uninstrument_socketio"),
    ("otelmetrics.websockets", "WebsocketMetrics"),
    ("otelmetrics.gunicorn", "post_fork"),
    ("otelmetrics.trading", "TradingMetrics"),
    ("otelmetrics.trading", "get"),
    ("otelmetrics.users", "set_user_id_extractor"),
    ("otelmetrics.users", "user_id_from"),
    ("otelmetrics.auth", "RequestInfo"),
    ("otelmetrics.auth", "role_for"),
    ("otelmetrics.snapshots", "SnapshotLog"),
    ("otelmetrics.settings", "Settings"),
    ("otelmetrics.config_file", "load"),
]


@pytest.mark.parametrize(("module", "name"), DOCUMENTED)
def test_documented_import_paths_keep_working(module, name):
    found = getattr(importlib.import_module(module), name)
    assert callable(found), f"{module}.{name} is not what the docs document"


def test_moved_names_are_the_same_objects_at_their_old_paths():
    from otelmetrics import auth, snapshots, trading, users, websockets
    from otelmetrics.api.auth import RequestInfo
    from otelmetrics.insights.snapshots import SnapshotLog
    from otelmetrics.instruments.trading.facade import TradingMetrics
    from otelmetrics.instruments.user_ids import set_user_id_extractor
    from otelmetrics.instruments.websockets import WebsocketMetrics

    assert auth.RequestInfo is RequestInfo and snapshots.SnapshotLog is SnapshotLog
    assert (
        trading.TradingMetrics is TradingMetrics and websockets.WebsocketMetrics is WebsocketMetrics
    )
    assert users.set_user_id_extractor is set_user_id_extractor


def test_the_websockets_face_imports_no_socketio_until_called():
    code = (
        "import sys, otelmetrics.websockets; "
        "print(sorted(m for m in ('flask_socketio', 'socketio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
