"""`python -m edgeswarm` is the `edgeswarm` console script."""

from __future__ import annotations

import sys

from edgeswarm.cli import main

sys.exit(main())
