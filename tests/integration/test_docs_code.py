"""Every fenced code block of README.md and docs/*.md works as written.

Python blocks run; ``file=`` blocks are also the apps the page's shell blocks start for real
(flask, gunicorn, uvicorn, otelmetrics-instrument) on free 127.0.0.1 ports, and what each
command prints must contain the lines the page shows (``…`` stands for what changes between
runs: instance ids, times). An OTLP endpoint on :4318 is a real receiver that must get the
app's requests. YAML and JSON blocks parse; a ``response=PATH`` JSON block has the keys the
endpoint returns (after a request that succeeded, one that failed, a trading error and a
disconnected broker). Shell blocks marked ``no-run <reason>`` are checked without running:
``bash -n``, every command exists here, every ``otelmetrics[extra]`` exists.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import otelmetrics
from tests.integration import doc_blocks, doc_session
from tests.integration.api_apps import make_flask
from tests.integration.processes import ROOT
from tests.integration.receivers import HttpReceiver

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OTLP_PORT = "4318"


def block_problems(block: doc_blocks.Block, tmp_path: Path) -> list[str]:
    """What is wrong with one block, short of the page's shell session."""
    if block.language not in doc_blocks.KNOWN:
        return [f"{block.where}: say what the block is: one of {', '.join(doc_blocks.KNOWN)}"]
    if block.language in doc_blocks.SHELLS:
        reason = block.no_run_reason
        if reason is not None and len(reason.split()) < 2:
            return [f"{block.where}: `no-run` needs its reason in the info string"]
        return doc_blocks.static_problems(block)
    if block.language == "python":
        return _run_python(block, tmp_path)
    try:
        if block.language == "yaml":
            yaml.safe_load(block.text)
        elif block.language == "json":
            json.loads(block.text)
    except (ValueError, yaml.YAMLError) as exc:
        return [f"{block.where}: does not parse: {exc}"]
    return []


def _run_python(block: doc_blocks.Block, tmp_path: Path) -> list[str]:
    folder = tmp_path / f"python_{block.line}"
    folder.mkdir()
    script = folder / (block.option("file") or "block.py")
    script.write_text(block.text)
    env = {"PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run(
        [sys.executable, script.name], cwd=folder, env=env, capture_output=True, timeout=60
    )
    if done.returncode:
        return [f"{block.where}: exits {done.returncode}:\n{done.stderr.decode()[-2000:]}"]
    return []


def key_shape(value: Any) -> Any:
    """The keys of every object in ``value``, nested; the first item stands for a list."""
    if isinstance(value, dict):
        return {key: key_shape(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [key_shape(value[0])]
    return None


def response_problems(block: doc_blocks.Block, token: str) -> list[str]:
    path = block.option("response")
    if block.language != "json" or path is None:
        return []
    handle = otelmetrics.configure(
        exporters=("prometheus",), set_global=False, api_token=token, api_admin_token=token
    )
    try:
        handle.events.record_error("trading", "order rejected")  # the examples' data:
        handle.trading.broker_status("mt5", connected=False)  # an error scope, a broker
        client = make_flask(handle).test_client()
        client.get("/ok"), client.get("/fail")
        answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
        shown, real = key_shape(json.loads(block.text)), key_shape(answer.get_json())
    finally:
        handle.shutdown()
    if shown != real:
        return [f"{block.where}: the keys differ from GET {path}'s:\n{shown}\n!=\n{real}"]
    return []


def document_problems(doc: Path, tmp_path: Path) -> list[str]:
    """Every problem of every block of ``doc``, its shell session run for real."""
    blocks = doc_blocks.blocks(doc)
    problems = [p for block in blocks for p in block_problems(block, tmp_path)]
    problems += [p for block in blocks for p in response_problems(block, "docs-token")]
    receiver = HttpReceiver()
    try:
        fixed = {OTLP_PORT: int(receiver.endpoint.rsplit(":", 1)[1])}
        ports = doc_session.free_ports(blocks, fixed)
        workdir = tmp_path / "session"
        workdir.mkdir()
        problems += doc_session.run(blocks, workdir, ports)
        if OTLP_PORT in ports:
            problems += otlp_problems(blocks, receiver)
    finally:
        receiver.close()
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_block_works_as_written(doc: Path, tmp_path: Path) -> None:
    problems = document_problems(doc, tmp_path)
    assert not problems, "\n\n".join(problems)


BROKEN = """
```python file=app.py
from flask import Flask

import otelmetrics

app = Flask(__name__)
otelmetrics.instrument(app)


@app.get("/items/<int:item_id>")
def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}
```

```console
$ flask --app app run --port 8000 &
$ curl -s localhost:8000/items/42
{"id":43}
$ curl -s localhost:8000/metrics | grep -c '^http_server_request_duration_seconds_count'
1
$ kill $!
```

```console no-run
$ true
```

```bash no-run (the command and the extra do not exist)
nosuchcommand --flag
pip install 'otelmetrics[flask,nosuch]'
```

```ruby
puts 1
```

```yaml
a: [1
```

```python
raise SystemExit(3)
```
"""


def test_a_broken_block_fails_the_test(tmp_path: Path) -> None:
    doc = tmp_path / "broken.md"
    doc.write_text(BROKEN)
    problems = "\n".join(document_problems(doc, tmp_path))
    assert "did not print ['{\"id\":43}']" in problems  # the app answers {"id":42}
    assert "did not print ['1']" not in problems  # the one request is counted once
    assert "`no-run` needs its reason" in problems
    assert "no command 'nosuchcommand' here" in problems
    assert "no extra [nosuch]" in problems and "no extra [flask]" not in problems
    assert "say what the block is" in problems
    assert "does not parse" in problems
    assert "exits 3" in problems


def otlp_problems(blocks: list[doc_blocks.Block], receiver: HttpReceiver) -> list[str]:
    """The page pushed to :4318: the receiver got its requests, from the service it named."""
    shell = "\n".join(b.text for b in doc_session.runnable(blocks))
    named = set(re.findall(r"OTEL_SERVICE_NAME=(\S+)", shell))
    points = receiver.received.points("http.server.request.duration")
    services = {resource.get("service.name") for resource, _, _ in points}
    if not points or not named <= services:
        return [f"the OTLP receiver got {len(points)} request points from {services}: {named}"]
    return []


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``path``."""
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S)
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_reaches_its_file_and_heading(doc: Path) -> None:
    text = re.sub(r"^```.*?^```", "", doc.read_text(), flags=re.M | re.S)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}: no such heading")
    assert not broken, broken
