"""``python -m cnnlab`` is the ``cnnlab`` command."""

import sys

from cnnlab.cli import main

sys.exit(main())
