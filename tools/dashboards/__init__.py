"""Grafana dashboards as code (grafana-foundation-sdk), rendered to grafana/dashboards/*.json."""
