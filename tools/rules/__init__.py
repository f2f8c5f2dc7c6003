"""Recording and alerting rules, defined once and rendered to Prometheus, Grafana and the docs.

Modules: model (what a rule is), profiles (default and fast durations), promql (shared
idioms), one module per area (http and slo, services, trading and markets, crypto_bot for the
crypto-ai-bot compatibility names, pipeline), the promtool inputs they share (http_inputs,
trading_inputs), catalog (all groups), and one renderer per target (prometheus, grafana,
docs/alerts.md). Metric and label names come from :mod:`tools.names`.
"""
