"""Local OTLP receivers (HTTP/protobuf and gRPC) on 127.0.0.1 that decode what they get."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as service
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as service_grpc


class Received:
    """Requests decoded so far, with helpers to read the newest value of a metric."""

    def __init__(self) -> None:
        self.requests: list[service.ExportMetricsServiceRequest] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def add(self, request: service.ExportMetricsServiceRequest, headers: dict[str, str]) -> None:
        with self.lock:
            self.requests.append(request)
            self.headers.append(headers)

    def points(self, name: str) -> list[tuple[dict[str, Any], Any, dict[str, Any]]]:
        """(resource attributes, data point, point attributes) of every point of ``name``."""
        found = []
        with self.lock:
            requests = list(self.requests)
        for request in requests:
            for group in request.resource_metrics:
                resource = _attributes(group.resource.attributes)
                for scope in group.scope_metrics:
                    for metric in scope.metrics:
                        if metric.name == name:
                            kind = metric.WhichOneof("data")
                            for point in getattr(metric, kind).data_points:
                                found.append((resource, point, _attributes(point.attributes)))
        return found

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(
            f"timed out after {timeout}s waiting for {what}; got {len(self.requests)} requests"
        )


def _attributes(items: Any) -> dict[str, Any]:
    out = {}
    for item in items:
        value = item.value
        out[item.key] = getattr(value, value.WhichOneof("value"))
    return out


class HttpReceiver:
    def __init__(self) -> None:
        self.received = Received()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = service.ExportMetricsServiceRequest.FromString(body)
                received.add(request, {k.lower(): v for k, v in self.headers.items()})
                payload = service.ExportMetricsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GrpcReceiver(service_grpc.MetricsServiceServicer):
    def __init__(self) -> None:
        self.received = Received()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        service_grpc.add_MetricsServiceServicer_to_server(self, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"http://127.0.0.1:{port}"
        self.server.start()

    def Export(self, request, context):  # noqa: N802
        self.received.add(request, dict(context.invocation_metadata()))
        return service.ExportMetricsServiceResponse()

    def close(self) -> None:
        self.server.stop(0)
