"""``python -m engine.language.schemagen``: rewrite ``schemas/*.schema.json`` from the kinds."""

import sys

from engine.language.schemagen.generate import main

sys.exit(main())
