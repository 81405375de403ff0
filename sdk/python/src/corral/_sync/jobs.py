# Generated from ../_async by scripts/generate.py: edit that, not this.
"""Jobs: run one, follow its events, wait for it, prompt it, review its change."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from typing_extensions import Unpack

from .. import models
from .._errors import WaitTimeout
from .._io import sleep
from .._specs import JobOptions, job_spec
from .follow import follow
from .http import SyncHttp, segment

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "timed_out"})


class Job:
    """A job on the server; ``info`` is its record as last read."""

    def __init__(self, http: SyncHttp, info: models.Job) -> None:
        self._http = http
        self._path = f"/v1/jobs/{segment(info.id)}"
        self.info = info

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.state}>"

    @property
    def id(self) -> str:
        """Its id, ``j-`` and 16 hex digits."""
        return self.info.id

    @property
    def state(self) -> str:
        """Its state as last read: ``queued``, ``starting``, ``running``, or how it ended."""
        return self.info.state

    def refresh(self) -> models.Job:
        """Reads its record again."""
        response = self._http.request("GET", self._path)
        self.info = models.Job.model_validate_json(response.content)
        return self.info

    def events(self, after: int = 0) -> Iterator[models.Event]:
        """Its events after sequence number ``after``, live, until it ends.

        A dropped connection is resumed where it broke, without losing or
        repeating an event. ``corral.typed_data(event)`` gives an event's
        ``data`` as the model of its kind.
        """
        for event in follow(self._http, f"{self._path}/events/stream", after):
            yield event

    def history(self, after: int = 0, limit: int | None = None) -> list[models.Event]:
        """A page of its stored events after ``after``, without waiting for more.

        A page holds up to ``limit`` events (1000 when absent), fewer when
        they are large (about 4 MiB of data at most): read on from its last
        event's ``seq`` until a page comes back empty, or use
        :meth:`history_page`, which says whether more follow.
        """
        return (self.history_page(after, limit)).events

    def history_page(self, after: int = 0, limit: int | None = None) -> models.EventPage:
        """The page :meth:`history` returns, with ``more``: whether the job had
        stored events after its last when it was read (``None`` from a server
        of an older build, which does not say).
        """
        response = self._http.request(
            "GET", f"{self._path}/events", params={"after": after, "limit": limit}
        )
        return models.EventPage.model_validate_json(response.content)

    def wait(self, timeout: float | None = None) -> models.Job:
        """Waits until it ends and returns its final record.

        It reads the job's record, more and more seldom (up to once a
        second), rather than its whole event stream. Raises
        :class:`WaitTimeout` after ``timeout`` seconds (the job goes on).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.05
        while (self.refresh()).state not in TERMINAL:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout(f"job {self.id} is still {self.state} after {timeout} s")
                delay = min(delay, left)
            sleep(delay)
            delay = min(delay * 1.5, 1.0)
        return self.info

    def cancel(self) -> models.Job:
        """Cancels it: its container is stopped and removed; ``Conflict`` once it ended."""
        response = self._http.request("POST", f"{self._path}/cancel")
        self.info = models.Job.model_validate_json(response.content)
        return self.info

    def end(self) -> models.Job:
        """Ends an interactive job once the prompts before this are answered."""
        response = self._http.request("POST", f"{self._path}/end")
        self.info = models.Job.model_validate_json(response.content)
        return self.info

    def prompt(self, text: str) -> models.Prompt:
        """Sends a follow-up prompt to an interactive job (or continues an ended claude job)."""
        response = self._http.request("POST", f"{self._path}/prompts", json={"prompt": text})
        return models.Prompt.model_validate_json(response.content)

    def diff(self) -> models.JobDiff:
        """The change an ``isolate=True`` job made to its copy of the project."""
        response = self._http.request("GET", f"{self._path}/diff")
        return models.JobDiff.model_validate_json(response.content)

    def apply(self, allow_secrets: bool = False) -> dict[str, Any]:
        """Applies the change to the project's working tree.

        ``Conflict`` names the files when it does not apply, or the secrets
        the change holds unless ``allow_secrets``; nothing changes then.
        """
        response = self._http.request(
            "POST",
            f"{self._path}/apply",
            params={"allow_secrets": allow_secrets or None},
        )
        answer: dict[str, Any] = response.json()
        return answer

    def discard(self) -> dict[str, Any]:
        """Drops the change (its branch or patch); the project is left as it is."""
        response = self._http.request("POST", f"{self._path}/discard")
        answer: dict[str, Any] = response.json()
        return answer


class Jobs:
    """The server's jobs: ``client.jobs``."""

    def __init__(self, http: SyncHttp) -> None:
        self._http = http

    def run(
        self,
        cmd: str | Sequence[str] | None = None,
        *,
        prompt: str | None = None,
        **options: Unpack[JobOptions],
    ) -> Job:
        """Creates a job and returns at once (``job.wait()`` waits for its end).

        ``cmd`` (a list run as is, or a string run with ``sh -c``) makes an
        ``exec`` job; ``prompt`` a ``worker`` job, or a ``claude`` one with
        ``mode="claude"``. Options: ``image``, ``project`` (a host
        directory; with ``isolate=True`` the job changes its own copy, to
        review with ``diff``/``apply``/``discard``; with ``copy=True`` a
        copy that goes with the container), ``grants`` (secret names, or
        ``NAME=ENV``), ``allow_hosts`` and ``inject`` (egress), limits
        (``memory``, ``cpu_shares``, ``pids``, ``timeout``, ``tmpfs``),
        ``isolation`` (``runc``/``gvisor``), and for agents ``provider``,
        ``model``, ``interactive``, ``idle_timeout``, ``max_llm_calls``,
        ``max_tokens``, ``max_iterations``, ``claude``.
        """
        body = job_spec(cmd, prompt, options)
        response = self._http.request("POST", "/v1/jobs", json=body)
        return Job(self._http, models.Job.model_validate_json(response.content))

    def get(self, job_id: str) -> Job:
        """The job with this id."""
        response = self._http.request("GET", f"/v1/jobs/{segment(job_id)}")
        return Job(self._http, models.Job.model_validate_json(response.content))

    def list(
        self, state: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[Job]:
        """Jobs, newest first: ``limit`` of them, only in ``state``, older than ``before``."""
        response = self._http.request(
            "GET", "/v1/jobs", params={"state": state, "limit": limit, "before": before}
        )
        page = models.JobList.model_validate_json(response.content)
        return [Job(self._http, job) for job in page.jobs]
