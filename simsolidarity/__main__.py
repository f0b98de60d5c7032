"""``python -m simsolidarity``: the command line."""

from simsolidarity.cli import console

# Guarded: worker processes of a sweep import the parent's main module under another name.
if __name__ == "__main__":
    console()
