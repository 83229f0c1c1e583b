"""``python -m regionkit.cli``."""

from ._main import main

raise SystemExit(main())
