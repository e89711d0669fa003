"""bulletin-alerts: the core library (parsing, matching, delivery). It never imports Celery."""

__version__ = "0.1.0"
