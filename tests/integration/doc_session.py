"""A page's shell session: its file blocks written to a temp dir, its runnable shell blocks
run there as one bash script, in order, on free 127.0.0.1 ports, each output compared with
what the page shows under the command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration import doc_blocks
from tests.integration.doc_blocks import PORT, SHELLS, Block, Command, commands, matches
from tests.integration.processes import ROOT, free_port

# Waits until a server started in the background accepts connections (or has died).
WAIT = """
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit(f"the server on :{port} exited")
        time.sleep(0.1)
sys.exit(f"nothing listens on :{port} after 30 s")
"""


def runnable(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.language in SHELLS and b.no_run_reason is None]


def remap(text: str, ports: dict[str, int]) -> str:
    return PORT.sub(lambda m: str(ports.get(m[1], m[1])), text)


def _line(index: int, command: Command, ports: dict[str, int]) -> str:
    text = remap(command.text, ports)
    if command.background:
        found = PORT.findall(text)  # the server's own port is the last one it names
        assert found, f"a background command without a port: {command.text!r}"
        return f'{text}\n"$PY" wait.py {found[-1]} $! > out_{index} 2>&1; echo $? > rc_{index}'
    if text.strip() == "kill $!":
        return f"kill $!; wait $! 2>/dev/null; echo 0 > rc_{index}"
    return f"{{ {text}\n}} > out_{index} 2>&1; echo $? > rc_{index}"


def script(blocks: list[Block], ports: dict[str, int]) -> tuple[str, list[tuple[Block, Command]]]:
    steps = [(block, command) for block in runnable(blocks) for command in commands(block)]
    lines = ["set -u"]
    lines += [_line(i, command, ports) for i, (_, command) in enumerate(steps)]
    return "\n".join(lines) + "\n", steps


def run(blocks: list[Block], workdir: Path, ports: dict[str, int]) -> list[str]:
    """Run the page's session in ``workdir``; the problems found, each with where it is."""
    for block in blocks:
        if block.language == "python" and (name := block.option("file")):
            (workdir / name).write_text(block.text)
    (workdir / "wait.py").write_text(WAIT)
    text, steps = script(blocks, ports)
    if not steps:
        return []
    (workdir / "session.sh").write_text(text)
    _execute(workdir)
    problems = []
    for index, (block, command) in enumerate(steps):
        out = workdir / f"out_{index}"
        rc = workdir / f"rc_{index}"
        output = out.read_text() if out.exists() else ""
        if not rc.exists() or rc.read_text().strip() != "0":
            problems.append(f"{block.where}: `{command.text}` failed:\n{output}")
        elif missing := matches(command.expected, output):
            problems.append(f"{block.where}: `{command.text}` did not print {missing}:\n{output}")
    return problems


def _execute(workdir: Path) -> None:
    venv = str(ROOT / ".venv" / "bin")
    env = {
        **os.environ,
        "PATH": f"{venv}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "PY": sys.executable,
    }
    with open(workdir / "session.log", "wb") as log:
        process = subprocess.Popen(
            ["bash", "session.sh"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.wait(timeout=240)
        finally:  # servers a page forgot to stop, and any left after a timeout
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


def free_ports(blocks: list[Block], fixed: dict[str, int]) -> dict[str, int]:
    """A free port for each port the page's runnable commands name (``fixed`` ones kept)."""
    return {port: fixed.get(port) or free_port() for port in doc_blocks.ports(runnable(blocks))}
