# The otelmetrics demo service, for docker-compose.yml: the package installed with its Flask
# extra, running `otelmetrics demo` on 0.0.0.0:8000.
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package build needs (pyproject names README.md as the readme).
COPY pyproject.toml README.md ./
COPY otelmetrics ./otelmetrics
RUN pip install ".[flask]" \
    && useradd --system --uid 10001 --no-create-home otelmetrics

USER 10001
EXPOSE 8000
# 0.0.0.0: reachable from the other containers and the published port. The in-app /metrics
# still answers loopback clients only unless OTELMETRICS_METRICS_TOKEN is set.
CMD ["otelmetrics", "demo", "--host", "0.0.0.0", "--port", "8000"]
