import sys

from schema.cli import main

sys.exit(main())
