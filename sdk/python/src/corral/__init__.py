"""corral from Python: run AI-agent jobs and drive sandboxes in locked-down containers.

>>> from corral import Corral
>>> client = Corral()
>>> job = client.jobs.run(["echo", "hi"])
>>> job.wait().state
'succeeded'
>>> with client.sandbox() as sb:
...     sb.files.write("/workspace/a.txt", "1")
...     sb.exec("cat a.txt").stdout
'1'

:class:`AsyncCorral` has the same methods, awaited. Every failure raises a
:class:`CorralError` subclass; the models in :mod:`corral.models` are
generated from the server's OpenAPI document.
"""

from importlib.metadata import PackageNotFoundError, version

from . import models
from ._async.client import AsyncCorralBase
from ._async.jobs import AsyncJob, AsyncJobs
from ._async.sandboxes import AsyncExecStream, AsyncFiles, AsyncSandbox, AsyncSandboxes
from ._async.secrets import AsyncSecrets
from ._clients import AsyncCorral, Corral, SandboxStarting
from ._errors import (
    BadGateway,
    BadRequest,
    ConfigurationError,
    Conflict,
    CorralError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServerError,
    ServerUnavailable,
    TooManyRequests,
    Unauthorized,
    WaitTimeout,
)
from ._events import EventData, typed_data
from ._specs import JobOptions, SandboxOptions
from ._sync.client import CorralBase
from ._sync.jobs import Job, Jobs
from ._sync.sandboxes import ExecStream, Files, Sandbox, Sandboxes
from ._sync.secrets import Secrets
from ._visible import visible
from .models import Event, ExecResult, FileEntry, MessageData, OutputData, StatusData

try:
    __version__ = version("corral-sdk")
except PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0.0.0"

__all__ = [
    "AsyncCorral",
    "AsyncCorralBase",
    "AsyncExecStream",
    "AsyncFiles",
    "AsyncJob",
    "AsyncJobs",
    "AsyncSandbox",
    "AsyncSandboxes",
    "AsyncSecrets",
    "BadGateway",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "Corral",
    "CorralBase",
    "CorralError",
    "Event",
    "EventData",
    "ExecResult",
    "ExecStream",
    "FileEntry",
    "Files",
    "Forbidden",
    "Job",
    "JobOptions",
    "Jobs",
    "MessageData",
    "NotFound",
    "OutputData",
    "PayloadTooLarge",
    "Sandbox",
    "SandboxOptions",
    "SandboxStarting",
    "Sandboxes",
    "Secrets",
    "ServerError",
    "ServerUnavailable",
    "StatusData",
    "TooManyRequests",
    "Unauthorized",
    "WaitTimeout",
    "models",
    "typed_data",
    "visible",
]
