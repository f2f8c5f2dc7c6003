"""The trading instruments behind ``handle.trading`` (the face is :mod:`otelmetrics.trading`).

:class:`~otelmetrics.instruments.trading.facade.TradingMetrics` takes its calls from one module
per concept: ``orders.py``, ``positions.py``, ``breakers.py``, ``feeds.py``, ``engine.py`` and
``brokers.py``, functions of the state the calls share (``shared.py``: lock, tables, labels,
state, caches, clock). ``checks.py`` says what an invalid call leads to, ``labels.py`` bounds
attribute values. The instruments are ``tables.py`` (counters and histograms) and ``gauges.py``
(observable gauges over ``state.py``, with ``windows.py``); ``snapshot.py`` is the JSON view of
the state.
"""
