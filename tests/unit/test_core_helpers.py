import logging
import os

from otelmetrics.core.forks import ForkGuard
from otelmetrics.core.once import LogOnce


def test_log_once_is_loud_once_per_key_then_debug(caplog):
    log_once = LogOnce(logging.getLogger("otelmetrics.test"))
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.test"):
        assert log_once("read", "read %s failed", "cpu") is True
        assert log_once("read", "read %s failed", "cpu") is False
        assert log_once("write", "write failed") is True
    levels = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert levels == [
        ("WARNING", "read cpu failed"),
        ("DEBUG", "read cpu failed"),
        ("WARNING", "write failed"),
    ]


def test_log_once_forgets_a_key_after_a_recovery(caplog):
    log_once = LogOnce(logging.getLogger("otelmetrics.test"), logging.ERROR)
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.test"):
        log_once("disk", "full")
        log_once.forget("disk")
        log_once("disk", "full")
        log_once.forget()
        log_once("disk", "full")
    assert [record.levelname for record in caplog.records] == ["ERROR"] * 3


def test_fork_guard_notices_a_new_process_once():
    guard = ForkGuard()
    assert guard.forked() is False
    guard.pid = os.getpid() + 1  # as a child sees the parent's pid
    assert guard.forked() is True
    assert guard.forked() is False


def test_log_once_can_drop_the_repeats(caplog):
    log_once = LogOnce(logging.getLogger("otelmetrics.test"), later=None)
    with caplog.at_level(logging.DEBUG, logger="otelmetrics.test"):
        for _ in range(3):
            log_once("cap", "limit reached")
    assert [record.levelname for record in caplog.records] == ["WARNING"]
