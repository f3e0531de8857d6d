"""``python -m neurograph``: the command line (see :mod:`neurograph._main`)."""

from ._main import main

raise SystemExit(main())
