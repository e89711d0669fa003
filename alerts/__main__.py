"""``python -m alerts`` is the ``alerts`` command."""

from alerts.commands.main import main

raise SystemExit(main())
