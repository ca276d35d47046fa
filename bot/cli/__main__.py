"""`python -m bot.cli`, as `phonebot`."""

import sys

from bot.cli import main

sys.exit(main())
