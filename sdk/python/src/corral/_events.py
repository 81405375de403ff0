"""A typed view of an event's ``data``, chosen by its ``kind``."""

from __future__ import annotations

from pydantic import BaseModel

from . import models

EventData = (
    models.StatusData
    | models.MessageData
    | models.ToolCallData
    | models.ToolResultData
    | models.OutputData
    | models.LlmUsageData
    | models.Completion
    | models.NoticeData
    | models.NetworkData
    | models.ExecStartedData
    | models.ExecEndedData
)

# The `data` model of each event kind, as the server's `EventData` schema
# pairs them (a test checks this against the live document).
DATA_MODELS: dict[str, type[BaseModel]] = {
    "status": models.StatusData,
    "message": models.MessageData,
    "tool_call": models.ToolCallData,
    "tool_result": models.ToolResultData,
    "output": models.OutputData,
    "llm_usage": models.LlmUsageData,
    "result": models.Completion,
    "error": models.NoticeData,
    "warning": models.NoticeData,
    "network": models.NetworkData,
    "exec_started": models.ExecStartedData,
    "exec_ended": models.ExecEndedData,
}


def typed_data(event: models.Event) -> EventData | None:
    """``event.data`` as the model of its kind, or ``None`` for a kind this SDK does not know."""
    model = DATA_MODELS.get(event.kind)
    if model is None:
        return None
    data: EventData = model.model_validate(event.data)  # type: ignore[assignment]
    return data
