"""``python -m symcnn.docsgen``: build the formula site (see :mod:`symcnn.docsgen`).

An entry point: it may import the command line (the package itself does not) and passes it in, so the site's
CLI page runs the real ``symcnn`` command in this process.
"""

import sys

from ..cli import main as cli_main
from . import main

if __name__ == "__main__":
    sys.exit(main(cli=cli_main))
