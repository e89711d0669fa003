"""The use cases the workers run: ingest a bulletin, poll a source, deliver, reconcile.

Each is one call over ``Services`` (stores, rules, delivery, clock, how to queue the next
step); a Celery task decodes its arguments, makes that call, and retries when told to. No
Celery here: the workers pass their queues in (``Queues``).
"""
