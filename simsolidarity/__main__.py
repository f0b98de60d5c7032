"""``python -m simsolidarity``: the command line."""

import sys

from simsolidarity.cli import main

# Guarded: worker processes of a sweep import the parent's main module under another name.
if __name__ == "__main__":
    sys.exit(main())
