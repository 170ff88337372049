"""``python -m symcnn.cli``: the command line (same as ``python -m symcnn``)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
