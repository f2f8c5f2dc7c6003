"""Recording and alerting rules, defined once and rendered to Prometheus, Grafana and README.

Modules: model (what a rule is), profiles (default and fast durations), one module per area
(http, services, trading, pipeline), catalog (all groups), and one renderer per target
(prometheus, grafana, readme).
"""
