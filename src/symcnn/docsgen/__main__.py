"""``python -m symcnn.docsgen``: build the formula site (see :mod:`symcnn.docsgen`)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
