"""The fenced code blocks of README.md and docs/*.md, parsed, checked and run as written.

A block's info string says what it is: ``python`` (``file=NAME`` also writes it where the
page's shell session runs), ``console`` (``$ `` commands, each followed by the output it
shows), ``bash`` / ``sh`` (commands only), ``yaml``, ``json`` (``response=PATH``: its keys are
compared with what the endpoint returns), or ``text`` (a diagram). ``no-run <reason>`` keeps a
shell block from running, with the reason in the page itself; it is still checked statically.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.processes import ROOT

SHELLS = ("console", "bash", "sh")
KNOWN = (*SHELLS, "python", "yaml", "json", "text")
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
PORT = re.compile(r"(?:(?<=:)|(?<=--port ))(\d{4,5})\b")
BUILTINS = {"export", "for", "do", "done", "kill", "sleep", "cd", "echo", "set", "wait"}


@dataclass
class Block:
    """One fenced block: where it is, its language, options and text."""

    doc: str
    line: int
    language: str
    options: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line} ({self.language})"

    def option(self, name: str) -> str | None:
        match = re.search(rf"(?:^|\s){name}=(\S+)", self.options)
        return match[1] if match else None

    @property
    def no_run_reason(self) -> str | None:
        match = re.search(r"(?:^|\s)no-run(.*)$", self.options)
        return match[1].strip() if match else None


@dataclass
class Command:
    """A shell command as the page shows it, with the output lines shown under it."""

    text: str
    expected: list[str] = field(default_factory=list)

    @property
    def background(self) -> bool:
        return self.text.rstrip().endswith("&")


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        language, _, options = match[1].strip().partition(" ")
        line = text.count("\n", 0, match.start()) + 1
        doc = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
        found.append(Block(doc, line, language, options.strip(), match[2]))
    return found


def commands(block: Block) -> list[Command]:
    """``$ `` lines (joined over trailing backslashes) and their output; every line in bash."""
    found: list[Command] = []
    lines = block.text.splitlines()
    prompt = block.language == "console"
    i = 0
    while i < len(lines):
        line = lines[i]
        if prompt and not line.startswith("$ "):
            if found:
                found[-1].expected.append(line)
            i += 1
            continue
        text = line[2:] if prompt else line
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text += "\n" + lines[i]
        if text.strip() and not text.lstrip().startswith("#"):
            found.append(Command(text))
        i += 1
    return found


def static_problems(block: Block) -> list[str]:
    """What is wrong with a shell block without running it: syntax, commands, extras."""
    script = "\n".join(c.text for c in commands(block))
    problems = []
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    if checked.returncode:
        problems.append(f"{block.where}: bash -n: {checked.stderr.strip()}")
    for command in commands(block):
        text = command.text.replace("\\\n", " ")
        words = [w for w in shlex.split(text, comments=True) if not re.fullmatch(r"[A-Z_]+=.*", w)]
        if words and not _exists(words[0]):
            problems.append(f"{block.where}: no command {words[0]!r} here")
    extras = _extras()
    for extra in re.findall(r"otelmetrics\[([^\]]+)\]", script):
        problems += [f"{block.where}: no extra [{e}]" for e in extra.split(",") if e not in extras]
    return problems


def _exists(word: str) -> bool:
    venv = ROOT / ".venv" / "bin"
    return (
        word in BUILTINS
        or shutil.which(word) is not None
        or (venv / word).exists()
        or (ROOT / word).exists()
    )


def _extras() -> set[str]:
    """The extras pyproject.toml declares (``name = [`` lines of optional-dependencies)."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^([a-z][a-z0-9-]*) = \[", section, re.M))


def matches(expected: list[str], actual: str) -> list[str]:
    """The expected lines no line of ``actual`` matches (``…`` stands for any text)."""
    lines = actual.splitlines()
    missing = []
    for want in expected:
        pattern = re.compile(".*?".join(re.escape(part) for part in want.split("…")))
        hit = next((i for i, line in enumerate(lines) if pattern.fullmatch(line)), None)
        if hit is None:
            missing.append(want)
        else:
            del lines[hit]  # a line shown twice needs two lines
    return missing


def ports(blocks_: list[Block]) -> list[str]:
    """The port numbers the runnable commands of a page use, in order of first use."""
    seen: list[str] = []
    for block in blocks_:
        for command in commands(block):
            seen += [p for p in PORT.findall(command.text) if p not in seen]
    return seen
