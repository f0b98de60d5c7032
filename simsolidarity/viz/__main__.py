"""``python -m simsolidarity.viz viz|viz-assets ...``: the app's subcommands without the full command line."""

import sys

from .commands import main

sys.exit(main())
