"""The composition root: the handle, configure(), readers, the Prometheus endpoint, tracing."""
