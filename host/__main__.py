"""`python -m host`: serve native messages (or run a subcommand); see host.cli."""

import sys

from host.cli import main

sys.exit(main())
