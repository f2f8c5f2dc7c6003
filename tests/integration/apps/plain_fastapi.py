"""An unmodified FastAPI app (it never imports otelmetrics) for the zero-code launcher tests."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}
