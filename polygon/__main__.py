"""``python -m polygon`` is the ``polygon`` console script."""

import sys

from polygon.cli import main

if __name__ == "__main__":
    sys.exit(main())
