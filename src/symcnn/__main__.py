"""``python -m symcnn``: the command line (see :mod:`symcnn.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
