"""`python -m retrowalk`: the same command as `retrowalk`."""

import sys

from .cli import main

sys.exit(main())
