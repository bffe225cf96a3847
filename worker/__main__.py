"""`python -m worker`: the worker's own command line (see worker/cli.py)."""

import sys

from worker.cli import main

sys.exit(main())
