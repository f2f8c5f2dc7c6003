"""A small instrumented FastAPI app for tests that need a real server process.

``uvicorn tests.integration.apps.fastapi_app:app --workers 2`` serves it. It configures from the
environment (in each worker, as the worker starts).
"""

from fastapi import FastAPI

import otelmetrics

app = FastAPI()


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


otelmetrics.instrument(app)
