"""The directory ``otelmetrics-instrument`` puts first on ``PYTHONPATH``."""
