"""The demo's servers refuse a host or port they cannot serve on, saying the fix; its load
clients outlive any broken reply."""

from __future__ import annotations

import gc
import socket
import threading
import urllib.request

import pytest

from otelmetrics.demo.load import _fetch as fetch
from otelmetrics.demo.servers import UvicornServer, WerkzeugServer

SERVERS = [WerkzeugServer, UvicornServer]


async def _app(scope, receive, send):  # never called: nothing is served
    raise AssertionError(scope)


@pytest.mark.parametrize("server", SERVERS)
def test_a_host_that_names_no_address_says_so(server):
    with pytest.raises(SystemExit) as refused:
        server(_app, "no-such-host.invalid", 0)
    message = str(refused.value)
    assert "--host 'no-such-host.invalid' is no address of this machine" in message
    assert "pass --host 127.0.0.1" in message and "in use" not in message


# uvicorn leaves the socket whose bind failed to the garbage collector, and the error it logs
# holds the socket's frame: both are let go here, not in another test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("server", SERVERS)
def test_a_port_in_use_says_to_take_a_free_one(server, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as refused:
            server(_app, "127.0.0.1", port)
    message = str(refused.value)
    assert f"127.0.0.1:{port}" in message and " 0 for a free port" in message
    del refused
    caplog.clear()
    gc.collect()


@pytest.mark.parametrize("server", SERVERS)
def test_port_zero_takes_a_free_port(server):
    running = server(_app, "127.0.0.1", 0)
    try:
        assert running.port > 0
    finally:
        running.close()


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes.",  # cut short: IncompleteRead
        b"HTTP/1.1 2",  # a status line cut short: BadStatusLine
        b"",  # closed without a reply: RemoteDisconnected
    ],
)
def test_a_load_client_takes_a_broken_reply_as_data(reply):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(reply)

        thread = threading.Thread(target=answer)
        thread.start()
        fetch(urllib.request.Request(f"http://127.0.0.1:{port}/"))  # returns, raises nothing
        thread.join(5)
