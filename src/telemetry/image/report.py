"""Progress lines while building and the summary at the end."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TextIO


class State(StrEnum):
    PENDING = "pending"
    BUILDING = "building"
    BUILT = "built"
    SKIPPED = "skipped"
    FAILED = "failed"
    PARENT_FAILED = "parent-failed"


DONE_OK = (State.BUILT, State.SKIPPED)


@dataclass
class ImageResult:
    name: str
    reference: str
    content_hash: str
    state: State = State.PENDING
    seconds: float = 0.0
    log: str = ""
    detail: str = ""


class Progress:
    """Prints one line per state change with the time since the run started."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, result: ImageResult, state: State, detail: str = "") -> None:
        result.state = state
        result.detail = detail or result.detail
        suffix = f" ({detail})" if detail else ""
        with self._lock:
            print(f"[{self.elapsed():7.1f}s] {result.name:<26} {state.value}{suffix}",
                  file=self.stream, flush=True)


def summary_table(results: list[ImageResult], total_seconds: float) -> str:
    lines = [f"{'image':<26} {'state':<14} {'time':>8}  log / detail"]
    for result in results:
        note = result.log if result.state == State.FAILED else result.detail
        lines.append(f"{result.name:<26} {result.state.value:<14} {result.seconds:7.1f}s  {note}")
    counts = {state: sum(r.state == state for r in results) for state in State}
    lines.append(
        f"built {counts[State.BUILT]}, skipped {counts[State.SKIPPED]}, "
        f"failed {counts[State.FAILED]}, parent-failed {counts[State.PARENT_FAILED]} "
        f"in {total_seconds:.1f}s")
    failed = [r for r in results if r.state == State.FAILED]
    if failed:
        lines.append("read the failed build logs: " + ", ".join(r.log for r in failed))
    return "\n".join(lines)


def write_summary_json(path: Path, results: list[ImageResult], total_seconds: float) -> None:
    by_state = {state.value: [r.name for r in results if r.state == state] for state in State
                if state not in (State.PENDING, State.BUILDING)}
    document = {
        **by_state,
        "total_seconds": round(total_seconds, 2),
        "images": [{**asdict(r), "state": r.state.value, "seconds": round(r.seconds, 2)}
                   for r in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
