"""Run by Python at start-up in every process ``otelmetrics-instrument`` launches.

It makes every Flask and Starlette/FastAPI app instrument itself, then runs the
``sitecustomize`` this one hides (the next one on ``sys.path``), if any.
"""

from otelmetrics.launcher.patches import boot

boot(__file__)
