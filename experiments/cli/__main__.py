"""`python -m experiments.cli` is `smesim`."""

import sys

from experiments.cli import main

sys.exit(main())
