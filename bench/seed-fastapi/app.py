"""The seed (the FastAPI + Dapr pub/sub snippet this API is a port of) as its users would run it.

Kept as the snippet has it: the same endpoint, a user_id taken from the body, an async
endpoint calling the synchronous Dapr client. Only the fixes it needs to run at all:
- one DaprClient created at start-up (the snippet opened one per call),
- `publish_event` not awaited (it is synchronous and returns a response, not a coroutine),
- `publish_metadata=` (the SDK has no `metadata=` argument).
The JWT check (HS256 with BENCH_JWT_SECRET) stands in for the snippet's `get_current_user`.
The client reads DAPR_RUNTIME_HOST, DAPR_GRPC_PORT, DAPR_HTTP_PORT and DAPR_API_TOKEN.
"""
import json
import logging
import os
from typing import Any, Dict

import jwt
from dapr.clients import DaprClient
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

logger = logging.getLogger(__name__)

JWT_SECRET = os.environ["BENCH_JWT_SECRET"]

dapr = DaprClient()


class CurrentUser(BaseModel):
    id: str


def get_current_user(authorization: str = Header(default="")) -> CurrentUser:
    if not authorization.startswith("Bearer "):
        raise HTTPException(status_code=401, detail="Not authenticated")
    try:
        claims = jwt.decode(authorization[len("Bearer ") :], JWT_SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(status_code=401, detail="Invalid token")
    return CurrentUser(id=str(claims["sub"]))


async def publish_todo_event(topic_name: str, event_data: Dict[str, Any], user_id: str) -> bool:
    try:
        event_json = json.dumps(event_data)
        dapr.publish_event(
            pubsub_name="kafka-pubsub",
            topic_name=topic_name,
            data=event_json,
            publish_metadata={"user_id": str(user_id), "content_type": "application/json"},
        )
        logger.info(f"Event published to topic '{topic_name}' for user '{user_id}'")
        return True
    except Exception as e:
        logger.error(f"Failed to publish event to topic '{topic_name}': {str(e)}")
        return False


app = FastAPI()


class TodoEvent(BaseModel):
    action: str
    task_id: int
    user_id: str
    details: Dict[str, Any] = {}


@app.post("/todos/{task_id}/trigger-event")
async def trigger_todo_event(task_id: int, event: TodoEvent, current_user: CurrentUser = Depends(get_current_user)):
    success = await publish_todo_event(topic_name="todo-events", event_data=event.dict(), user_id=current_user.id)
    if not success:
        raise HTTPException(status_code=500, detail="Failed to publish event")
    return {"message": "Event published successfully", "success": True}


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
