"""A minimal OTLP/HTTP metrics sink on 127.0.0.1, started by http_bench.py.

Run:  .venv/bin/python bench/otlp_sink.py --port 14318 --dump sink-dump

Answers every POST with 200 and an empty ExportMetricsServiceResponse. With --dump, keeps the
newest body per path as DIR/<path>.pb (replaced atomically) and the number of exports per
path in DIR/<path>.count, so the bench can decode what each variant last exported.
"""

from __future__ import annotations

import argparse
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def make_handler(dump: str | None) -> type[BaseHTTPRequestHandler]:
    counts: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if dump:
                name = self.path.strip("/").replace("/", "_") or "root"
                with lock:
                    counts[name] = counts.get(name, 0) + 1
                    _write(os.path.join(dump, name + ".pb"), body)
                    _write(os.path.join(dump, name + ".count"), str(counts[name]).encode())
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _write(path: str, data: bytes) -> None:
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=14318)
    parser.add_argument("--dump", default=None)
    args = parser.parse_args()
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.dump))
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
