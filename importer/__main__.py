"""``python -m importer`` runs the command line."""

import sys

from importer.cli import main

sys.exit(main())
