"""The YAML config file (``OTELMETRICS_CONFIG_FILE``): :func:`load` reads it.

The reader lives in :mod:`otelmetrics.settings.file`, below the environment reader that calls
it; its docstring shows the file's keys. This module only re-exports.
"""

from otelmetrics.settings.file import load

__all__ = ["load"]
