"""``python -m engine.docgen``: rewrite (or ``--check``) the generated documentation."""

import sys

from engine.docgen.build import main

sys.exit(main())
