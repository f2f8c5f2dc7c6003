"""The trading demo: a simulated trading service that lights up every otelmetrics metric.

``otelmetrics demo`` (see ``otelmetrics demo --help``) runs a Flask dashboard with Flask-SocketIO
and a FastAPI API with a websocket price feed, both instrumented with one handle; a simulated
exchange feed, broker, circuit breaker and strategy engine recording into ``handle.trading``;
a load generator; and scenarios that make alerts fire on demand. One module per concept:

- :mod:`~otelmetrics.demo.simulation`: the seeded, stepped simulation and its real-time driver,
  over :mod:`~otelmetrics.demo.market`, :mod:`~otelmetrics.demo.feed`,
  :mod:`~otelmetrics.demo.broker`, :mod:`~otelmetrics.demo.breaker` and
  :mod:`~otelmetrics.demo.engine`;
- :mod:`~otelmetrics.demo.scenarios`: the scenario board; :mod:`~otelmetrics.demo.faults`
  (what they do to HTTP requests); :mod:`~otelmetrics.demo.control` (the admin endpoint);
- :mod:`~otelmetrics.demo.dashboard` (Flask), :mod:`~otelmetrics.demo.trading_api` (FastAPI),
  :mod:`~otelmetrics.demo.load`, :mod:`~otelmetrics.demo.servers`,
  :mod:`~otelmetrics.demo.app` (one running service) and :mod:`~otelmetrics.demo.service`
  (``run``, what the CLI calls).

Importing this package imports no web framework; the app modules do.
"""
