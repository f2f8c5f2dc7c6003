"""What the import contracts cannot say: no cycles, short modules and functions, no history.

The direction of imports is checked by ``lint-imports`` ([tool.importlinter] in
pyproject.toml); docs/architecture.md explains both. Each test lists every offender.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("otelmetrics", "tools")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40
# A function may pass MAX_FUNCTION_LINES if the line above its def (or decorator) says why.
LONG_MARKER = re.compile(r"#\s*long:\s*\S")
# References to the seed projects this package grew from ("seed 003", "seeds 002-004",
# "seed-004", SEED_003, "the seeds'", "seed's", "a seed name"). The demo's own random seed
# (`--seed`, `seed=`, `Random(seed)`, "the demo's seed", "seeded") never matches.
SEED_HISTORY = re.compile(
    r"\bseeds?[\s_-]*\{?'?0\d\d|\bthe\s+seeds\b|\bseed['’]s\b|\bseed\s+names?\b", re.IGNORECASE
)
SEED_SCAN_SUFFIXES = (".py", ".js", ".html", ".css", ".yml", ".yaml")


def _files(*suffixes: str) -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix in suffixes and "__pycache__" not in path.parts:
                yield path


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import cycles: each module with the modules it both reaches and is reached by."""
    cycles: list[list[str]] = []
    seen: set[str] = set()
    for module in sorted(graph.modules):
        if module in seen:
            continue
        members = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        if members:
            cycle = sorted(members | {module})
            seen.update(cycle)
            cycles.append(cycle)
    return cycles


def test_no_import_cycles() -> None:
    """Every import counts: module level, inside functions (lazy) and under TYPE_CHECKING.

    A lazy import that dodges a cycle at run time is still a cycle in the design. The implicit
    import of a parent package (``import a.b`` runs ``a/__init__.py``) is not counted.
    """
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False, cache_dir=None)
    cycles = _cycles(graph)
    report = [f"{len(cycle)} modules: {', '.join(cycle)}" for cycle in cycles]
    assert not cycles, f"{len(cycles)} import cycle(s):\n" + "\n".join(report)


def test_no_module_over_300_lines() -> None:
    too_long = []
    for path in _files(".py"):
        lines = len(path.read_bytes().splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{_name(path)}: {lines} lines")
    assert not too_long, (
        f"modules over {MAX_MODULE_LINES} lines (split them by concept):\n" + "\n".join(too_long)
    )


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str) and first.end_lineno is not None:
            return first.end_lineno - first.lineno + 1
    return 0


def _function_length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """From the ``def`` line to the last line, blanks and comments in, docstring out.

    The docstring is left out so that the Args/Returns sections the style guide asks for never
    push a function over the limit; decorators are left out too.
    """
    assert node.end_lineno is not None
    return node.end_lineno - node.lineno + 1 - _docstring_lines(node)


def _marked_long(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> bool:
    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
    above = {first - 1, node.lineno - 1}  # 1-based numbers of the lines above
    return any(number >= 1 and LONG_MARKER.match(lines[number - 1].strip()) for number in above)


def _long_functions(path: Path) -> Iterator[str]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = _function_length(node)
            if length > MAX_FUNCTION_LINES and not _marked_long(node, lines):
                yield f"{_name(path)}:{node.lineno} {node.name}(): {length} lines"


def test_no_function_over_40_lines() -> None:
    too_long = [offender for path in _files(".py") for offender in _long_functions(path)]
    assert not too_long, (
        f"functions over {MAX_FUNCTION_LINES} lines, docstring excluded (split them into named "
        "steps, or put `# long: <reason>` on the line above the def):\n" + "\n".join(too_long)
    )


def test_no_references_to_the_seed_projects() -> None:
    found = []
    for path in _files(*SEED_SCAN_SUFFIXES):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SEED_HISTORY.search(line):
                found.append(f"{_name(path)}:{number}: {line.strip()}")
    assert not found, (
        "history references (say what the code does, not which seed it came from):\n"
        + "\n".join(found)
    )


@pytest.mark.parametrize(
    ("line", "is_history"),
    [
        ("(seeds 002-004): the views", True),
        ("as seed 001 had them", True),
        ('"otelmetrics-seed-003-compat"', True),
        ("GROUPS = (ROLLUPS, SEED_003)", True),
        ("the seeds' p99 threshold", True),
        ("Seed 003's dashboards", True),
        ("(seed {'003' if exchange else '004'})", True),
        ("unless it is a seed name", True),
        ('add("--seed", type=int, help="seed of the simulation")', False),
        ("sim = Simulation(handle.trading, seed=7)", False),
        ("self.rng = random.Random(seed)", False),
        ('f"(seed {seed}: rerun with --seed {seed})"', False),
        ("the same seed gives the same orders; the seeded market", False),
        ("rng = random.Random(self.seed * 1000 + index)", False),
    ],
)
def test_seed_pattern_tells_history_from_the_demo_seed(line: str, is_history: bool) -> None:
    assert bool(SEED_HISTORY.search(line)) is is_history
