"""The default scenario's stack_api (the APIs through the LB) is this scenario's too."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "default" / "tests"))
