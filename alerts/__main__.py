"""``python -m alerts`` is the ``alerts`` command."""

from alerts.cli import main

raise SystemExit(main())
