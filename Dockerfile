# The otelmetrics trading demo, for docker-compose.yml: the package installed with its demo
# extra at the tested versions (constraints.txt), the Flask dashboard app on 0.0.0.0:8000 and
# the FastAPI API on 0.0.0.0:8051.
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package build needs (pyproject names README.md as the readme).
COPY pyproject.toml README.md constraints.txt ./
COPY otelmetrics ./otelmetrics
RUN pip install -c constraints.txt ".[demo]" \
    && useradd --system --uid 10001 --no-create-home otelmetrics

USER 10001
EXPOSE 8000 8051
# 0.0.0.0: reachable from the other containers and the published port. The in-app /metrics
# still answers loopback clients only unless OTELMETRICS_METRICS_TOKEN is set.
CMD ["otelmetrics", "demo", "--host", "0.0.0.0", "--port", "8000", "--api-port", "8051"]
