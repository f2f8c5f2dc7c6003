"""An unmodified Flask app (it never imports otelmetrics) for the zero-code launcher tests.

``gunicorn tests.integration.apps.plain_flask:app`` or the factory,
``gunicorn 'tests.integration.apps.plain_flask:create_app()'``; ``flask --app ... run`` too.
"""

from flask import Flask


def create_app() -> Flask:
    app = Flask("plain_flask")

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


app = create_app()
