"""Named results: what each task found and did, printable as text or JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    REPLACED = "replaced"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    DRIFT = "drift"  # differs from the spec and cannot be changed in place: reported only


CHANGING = frozenset({Action.CREATED, Action.UPDATED, Action.REPLACED, Action.DELETED})


@dataclass(frozen=True)
class Change:
    """One object a task looked at: its kind ("user", "endpoint"...), name and what happened."""

    kind: str
    name: str
    action: Action
    detail: str = ""

    def line(self) -> str:
        text = f"{self.kind} {self.name}: {self.action}"
        return f"{text} ({self.detail})" if self.detail else text

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "action": str(self.action),
                "detail": self.detail}


@dataclass
class TaskResult:
    """Everything one task run did, in order."""

    task: str
    changes: list[Change] = field(default_factory=list)

    def add(self, kind: str, name: str, action: Action, detail: str = "") -> Change:
        change = Change(kind, name, action, detail)
        self.changes.append(change)
        return change

    @property
    def changed(self) -> bool:
        return any(c.action in CHANGING for c in self.changes)

    @property
    def drift(self) -> list[Change]:
        return [c for c in self.changes if c.action is Action.DRIFT]

    def counts(self) -> dict[str, int]:
        counted = Counter(c.action for c in self.changes)
        return {str(action): counted.get(action, 0) for action in Action}

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{counts[a]} {a}" for a in ("created", "updated", "unchanged")]
        parts += [f"{counts[a]} {a}" for a in ("replaced", "deleted", "drift") if counts[a]]
        verdict = "changed" if self.changed else "nothing changed"
        return f"{self.task}: {', '.join(parts)}: {verdict}"

    def as_dict(self) -> dict[str, Any]:
        return {"task": self.task, "changed": self.changed, "counts": self.counts(),
                "changes": [c.as_dict() for c in self.changes]}
