"""The ``otelmetrics`` command: ``otelmetrics demo`` runs the instrumented sample service."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="otelmetrics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the instrumented demo service")
    demo.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    demo.add_argument("--no-traffic", action="store_true", help="no background traffic")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from otelmetrics import demo as demo_module

    return demo_module.run(args.host, args.port, traffic=not args.no_traffic)
