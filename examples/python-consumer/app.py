"""An example downstream consumer of todo-events: a FastAPI app that subscribes through its Dapr
sidecar with the Dapr SDK's FastAPI extension.

For each event it
- validates the payload against the contract's JSON Schema (an invalid one is dropped: daprd moves
  it to this consumer's own dead-letter topic),
- drops duplicates by event_id (delivery is at least once),
- tells gaps and late events by sequence, per user,
- and prints a one-line summary of that user.

What it has processed is kept in SQLite (CONSUMER_STATE), so a restart loses and repeats nothing:
its sidecar's component uses a stable consumer group, so Kafka resumes after the last committed
offset, and whatever is redelivered is recognised by its event_id.
"""

import hmac
import os
from pathlib import Path
from typing import Any

from dapr.ext.fastapi import DaprApp
from fastapi import Body, FastAPI, Header, HTTPException

from consumer_state import ConsumerState
from event_schema import load_validator

HERE = Path(__file__).resolve().parent

PUBSUB_NAME = os.environ.get("PUBSUB_NAME", "kafka-pubsub")
TOPIC = os.environ.get("TODO_EVENTS_TOPIC", "todo-events")
DEAD_LETTER_TOPIC = os.environ.get("DEAD_LETTER_TOPIC", "todo-events-consumer-dlq")
SCHEMA_PATH = Path(os.environ.get("TODO_EVENT_SCHEMA", HERE.parent.parent / "schema" / "todo-event.schema.json"))
STATE_PATH = Path(os.environ.get("CONSUMER_STATE", HERE / "data" / "consumer.db"))
# daprd sends it as dapr-api-token on every call to the app; without it anyone who reaches the
# port could post events.
APP_API_TOKEN = os.environ.get("APP_API_TOKEN")

app = FastAPI(title="todo-events consumer")
dapr_app = DaprApp(app)
problems_of = load_validator(SCHEMA_PATH)
state = ConsumerState(STATE_PATH)


def _say(line: str) -> None:
    print(line, flush=True)


@dapr_app.subscribe(pubsub=PUBSUB_NAME, topic=TOPIC, dead_letter_topic=DEAD_LETTER_TOPIC)
def todo_event(cloud_event: dict[str, Any] = Body(...), dapr_api_token: str | None = Header(default=None)):
    if APP_API_TOKEN is not None and not hmac.compare_digest(dapr_api_token or "", APP_API_TOKEN):
        raise HTTPException(status_code=401, detail="missing or wrong dapr-api-token")
    payload = cloud_event.get("data")
    problems = problems_of(payload)
    if problems:
        state.note_rejected(cloud_event.get("id"), "; ".join(problems))
        _say(f"rejected {cloud_event.get('id')}: {'; '.join(problems[:3])}")
        # DROP: no retry would make it valid.
        return {"status": "DROP"}
    outcome = state.record(payload)
    if outcome.kind == "duplicate":
        note = f"duplicate of {payload['event_id']} dropped"
    else:
        note = f"#{payload['sequence']} {payload['action']} ({outcome.order})"
    _say(f"{outcome.summary.line()} | {note}")
    return {"status": "SUCCESS"}


@app.get("/summary")
def summary() -> dict[str, Any]:
    """Per user what arrived; for operators and tests (serve it on an internal port only)."""
    return {
        "users": {user.user_id: user.__dict__ for user in state.summaries()},
        "rejected": state.rejected(),
    }


@app.get("/users/{user_id}/events")
def events_of(user_id: str) -> list[dict[str, Any]]:
    return state.events_of(user_id)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
