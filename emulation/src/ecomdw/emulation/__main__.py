"""`python -m ecomdw.emulation STATE_FILE PORT`: the long-lived emulator process."""

import sys
from pathlib import Path

from ecomdw.emulation.server import serve_forever

serve_forever(Path(sys.argv[1]), int(sys.argv[2]))
