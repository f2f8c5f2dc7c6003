"""The JSON API, its auth and rate limits, SSE and the live page, for Flask and Starlette."""
