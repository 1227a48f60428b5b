"""``python -m dflib``: see :mod:`dflib.cli`."""

import sys

from dflib.cli import main

sys.exit(main())
