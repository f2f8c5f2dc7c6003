"""``otelmetrics-instrument COMMAND [ARGS...]``: run a command with every web app instrumented.

    otelmetrics-instrument --service_name orders gunicorn -w 4 'orders:create_app()'
    otelmetrics-instrument uvicorn orders:app --workers 2
    python -m otelmetrics instrument flask --app orders run

Each flag sets the variable it is named after (``--service_name`` -> ``OTEL_SERVICE_NAME``,
``--api_public`` -> ``OTELMETRICS_API_PUBLIC``), as ``opentelemetry-instrument``'s do. The
settings are checked before the command starts; then the command replaces this process
(``execvp``), so its signals, output and exit status are its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from otelmetrics.settings.launch import launch_environ, setting_flags

__all__ = ["BOOTSTRAP_DIR", "main"]

BOOTSTRAP_DIR = str(Path(__file__).resolve().parent / "bootstrap")
NOT_FOUND = 127  # the shell's status for a command that is not found

_EPILOG = """\
Every Flask, FastAPI and Starlette app the command creates (factories, pre-fork workers, uvicorn
--reload and --workers included) is instrumented as otelmetrics.instrument(app) does: request
metrics, /metrics and the JSON API. A flag wins over its variable. See docs/zero-code.md.
"""


def main(argv: Sequence[str] | None = None, prog: str = "otelmetrics-instrument") -> int:
    """Check the settings, then exec the command; returns only when that cannot happen."""
    parser = _parser(prog)
    args = parser.parse_args(argv)
    given = {
        variable: value
        for flag, (variable, _) in setting_flags().items()
        if (value := getattr(args, flag)) is not None
    }
    try:
        env = launch_environ(given, BOOTSTRAP_DIR)
    except ValueError as exc:
        parser.exit(2, f"{prog}: {exc}\n(nothing was started)\n")
    if shutil.which(args.command, path=env.get("PATH")) is None:
        parser.exit(NOT_FOUND, f"{prog}: command not found: {args.command}\n")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(args.command, [args.command, *args.command_args], env)
    except OSError as exc:
        parser.exit(126, f"{prog}: cannot run {args.command}: {exc.strerror}\n")
    return 0  # not reached: exec replaced this process


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(
            2,
            f"{self.prog}: {message}\nGive settings as --FLAG VALUE before the command; each "
            "flag mirrors a variable (--service_name: OTEL_SERVICE_NAME). See --help.\n",
        )


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        usage="%(prog)s [--SETTING VALUE ...] COMMAND [ARGS ...]",
        description="Run COMMAND with every Flask/FastAPI/Starlette app it creates instrumented.",
        epilog=_EPILOG,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    settings = parser.add_argument_group("settings (each flag sets the variable in brackets)")
    for flag, (variable, setting) in setting_flags().items():
        settings.add_argument(
            f"--{flag}", metavar="VALUE", help=f"[{variable}] setting {setting}", default=None
        )
    parser.add_argument("command", help="the program to run, e.g. gunicorn, uvicorn, flask")
    parser.add_argument("command_args", nargs=argparse.REMAINDER, help="its arguments")
    return parser
