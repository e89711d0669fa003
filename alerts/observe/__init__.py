"""Observability: Prometheus metrics (multiprocess), structured logs, and their settings."""
