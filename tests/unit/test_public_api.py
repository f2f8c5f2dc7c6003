import subprocess
import sys

import otelmetrics


def test_all_is_sorted_and_complete():
    assert otelmetrics.__all__ == sorted(otelmetrics.__all__)
    public = {name for name in vars(otelmetrics) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(otelmetrics, name)).__name__ == "module"}
    assert set(otelmetrics.__all__) - {"__version__"} == public - modules


def test_import_does_not_import_a_framework():
    code = (
        "import sys, otelmetrics; "
        "print(sorted(m for m in ('flask', 'fastapi', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
