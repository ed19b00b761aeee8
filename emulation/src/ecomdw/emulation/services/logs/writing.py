"""Writing what an emulated AWS service printed into the emulator's CloudWatch Logs."""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import suppress

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings

BATCH = 1000  # well under PutLogEvents' limits of 10,000 events and 1 MB


def append_lines(settings: Settings, group: str, stream: str, lines: Iterable[str]) -> None:
    """Append the non-empty `lines` to `group`/`stream`, creating both when missing."""
    logs = client("logs", settings)
    with suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    with suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines if line]
    for first in range(0, len(events), BATCH):
        logs.put_log_events(
            logGroupName=group, logStreamName=stream, logEvents=events[first : first + BATCH]
        )
