"""The ``alerts`` command: operator tools and the service's processes (the top layer)."""
