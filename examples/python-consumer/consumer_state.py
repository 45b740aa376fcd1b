"""What the consumer has processed, in SQLite, so that a restart neither loses nor repeats work:
the id of every event (a redelivered copy is dropped by it) and, per user, the sequences seen (a
gap, and an event that arrives after a later one, are told from them). One transaction per event.
"""

import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  arrival INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  action TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_user ON events (user_id, sequence);
CREATE TABLE IF NOT EXISTS users (
  user_id TEXT PRIMARY KEY,
  duplicates INTEGER NOT NULL DEFAULT 0,
  late INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rejected (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cloud_event_id TEXT,
  reason TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class UserSummary:
    user_id: str
    events: int
    last_sequence: int
    #: Sequences below the highest one seen that have not arrived (yet).
    missing: list[int] = field(default_factory=list)
    duplicates: int = 0
    #: Events that arrived after one with a higher sequence.
    late: int = 0

    def line(self) -> str:
        gaps = "no gaps" if not self.missing else f"missing {_ranges(self.missing)}"
        return (
            f"{self.user_id}: {self.events} events, last sequence {self.last_sequence}, {gaps}, "
            f"{self.duplicates} duplicates dropped, {self.late} late"
        )


@dataclass(frozen=True)
class Outcome:
    #: "new", or "duplicate" for an event_id already processed.
    kind: str
    #: For a new event: "in order", "gap" (sequences were skipped) or "late".
    order: str
    summary: UserSummary


class ConsumerState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # FastAPI runs handlers on a thread pool; one connection behind a lock keeps it simple.
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def record(self, event: dict[str, Any]) -> Outcome:
        """Records a valid event once; a second copy only counts as a duplicate."""
        user_id, sequence = event["user_id"], event["sequence"]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT OR IGNORE INTO users (user_id) VALUES (?)", (user_id,))
                highest = self._highest_sequence(user_id)
                inserted = self._db.execute(
                    "INSERT OR IGNORE INTO events (event_id, user_id, sequence, action) VALUES (?, ?, ?, ?)",
                    (event["event_id"], user_id, sequence, event["action"]),
                ).rowcount
                if inserted == 0:
                    self._db.execute("UPDATE users SET duplicates = duplicates + 1 WHERE user_id = ?", (user_id,))
                    kind, order = "duplicate", "-"
                elif sequence < highest:
                    self._db.execute("UPDATE users SET late = late + 1 WHERE user_id = ?", (user_id,))
                    kind, order = "new", "late"
                else:
                    kind, order = "new", "in order" if sequence == highest + 1 else "gap"
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return Outcome(kind, order, self._summary(user_id))

    def note_rejected(self, cloud_event_id: Any, reason: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO rejected (cloud_event_id, reason) VALUES (?, ?)",
                (None if cloud_event_id is None else str(cloud_event_id), reason),
            )

    def rejected(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM rejected").fetchone()[0]

    def summaries(self) -> list[UserSummary]:
        with self._lock:
            users = [row[0] for row in self._db.execute("SELECT user_id FROM users ORDER BY user_id")]
            return [self._summary(user_id) for user_id in users]

    def events_of(self, user_id: str) -> list[dict[str, Any]]:
        """The user's events in the order they were processed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id, sequence, action FROM events WHERE user_id = ? ORDER BY arrival", (user_id,)
            )
            return [{"event_id": row[0], "sequence": row[1], "action": row[2]} for row in rows]

    def _highest_sequence(self, user_id: str) -> int:
        row = self._db.execute("SELECT MAX(sequence) FROM events WHERE user_id = ?", (user_id,)).fetchone()
        return row[0] or 0

    def _summary(self, user_id: str) -> UserSummary:
        rows = self._db.execute("SELECT sequence FROM events WHERE user_id = ?", (user_id,)).fetchall()
        sequences = {row[0] for row in rows}
        duplicates, late = self._db.execute(
            "SELECT duplicates, late FROM users WHERE user_id = ?", (user_id,)
        ).fetchone()
        highest = max(sequences, default=0)
        missing = [sequence for sequence in range(1, highest + 1) if sequence not in sequences]
        return UserSummary(user_id, len(rows), highest, missing, duplicates, late)


def _ranges(numbers: list[int]) -> str:
    """[2, 3, 4, 7] -> "2-4, 7"."""
    parts: list[str] = []
    start = previous = numbers[0]
    for number in numbers[1:] + [None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ", ".join(parts)
