"""Delivery: route -> silence -> dedup -> throttle/digest -> send -> record."""
