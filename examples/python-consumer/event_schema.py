"""Checks todo events against the contract's JSON Schema, schema/todo-event.schema.json (the
payload schema of schema/asyncapi.yaml, exported by `npm run schema`).

The contract states two limits of `details` that JSON Schema has no keyword for as the extension
keywords x-max-json-bytes and x-max-depth; they are taught to the validator here.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError


def _json_bytes(value: Any) -> int:
    # The API measures JSON.stringify's output: no spaces, non-ASCII characters as they are.
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _depth(value: Any) -> int:
    """How deep objects and arrays nest in value, value itself being level 1 (0 for a scalar)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        current, level = pending.pop()
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def _max_json_bytes(_validator, max_bytes: int, instance: Any, _schema) -> Iterator[ValidationError]:
    size = _json_bytes(instance)
    if size > max_bytes:
        yield ValidationError(f"is {size} bytes as JSON, more than {max_bytes}")


def _max_depth(_validator, max_depth: int, instance: Any, _schema) -> Iterator[ValidationError]:
    depth = _depth(instance)
    if depth > max_depth:
        yield ValidationError(f"nests {depth} levels deep, more than {max_depth}")


TodoEventValidator = validators.extend(
    Draft7Validator, {"x-max-json-bytes": _max_json_bytes, "x-max-depth": _max_depth}
)


def load_validator(schema_path: Path) -> Callable[[Any], list[str]]:
    """Returns a function that lists what is wrong with an event payload (nothing when it is valid)."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    TodoEventValidator.check_schema(schema)
    # FormatChecker() knows every format jsonschema can check: uuid, and date-time (rfc3339-validator).
    validator = TodoEventValidator(schema, format_checker=FormatChecker())

    def problems(payload: Any) -> list[str]:
        return [
            f"{'/'.join(str(part) for part in error.absolute_path) or 'payload'}: {error.message}"
            for error in validator.iter_errors(payload)
        ]

    return problems
