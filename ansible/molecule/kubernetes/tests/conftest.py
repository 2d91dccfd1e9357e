"""The all-in-one scenario's tests directory on the path: its API helpers (stack_api) and its
API checks are imported from there, not copied."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "default" / "tests"))
