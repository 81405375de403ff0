"""Request bodies built from keyword arguments, shared by the sync and async clients."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from pydantic import BaseModel

from . import models

Duration = str | int
"""``45s``, ``5m``, ``2h``, ``1d``, or a number of seconds."""
Size = str | int
"""``256m``, ``1g``, ``512k`` (binary suffixes), or a number of bytes."""
Grant = str | models.GrantSpec
"""A stored secret's name (its environment variable too), ``NAME=ENV``, or a GrantSpec."""


class ContainerOptions(TypedDict, total=False):
    """What a job and a sandbox are both made with."""

    image: str
    project: str | os.PathLike[str]
    copy: bool
    grants: Sequence[Grant]
    allow_hosts: Sequence[str]
    inject: Sequence[models.InjectRule]
    isolation: Literal["runc", "gvisor"]
    memory: Size
    cpu_shares: int
    pids: int
    tmpfs: Size
    provider: str
    model: str


class JobOptions(ContainerOptions, total=False):
    """A job's settings beyond its command or prompt (see :meth:`corral.Jobs.run`)."""

    mode: Literal["exec", "worker", "claude"]
    isolate: bool
    allow_project_overlap: bool
    timeout: Duration
    interactive: bool
    idle_timeout: Duration
    max_llm_calls: int
    max_tokens: int
    max_iterations: int
    claude: models.ClaudeSpec


class SandboxOptions(ContainerOptions, total=False):
    """A sandbox's settings (see :meth:`corral.Sandboxes.create`)."""

    ttl: Duration
    idle_timeout: Duration
    llm: bool


def _grants(grants: Sequence[Grant]) -> list[models.GrantSpec]:
    out = []
    for grant in grants:
        if isinstance(grant, models.GrantSpec):
            out.append(grant)
            continue
        name, _, env = grant.partition("=")
        out.append(models.GrantSpec(secret=name, env=env or None))
    return out


def _project(options: Mapping[str, Any]) -> str | models.ProjectSpec1 | None:
    path = options.get("project")
    if path is None:
        for flag in ("copy", "isolate", "allow_project_overlap"):
            if options.get(flag):
                raise ValueError(f"{flag}= needs project=")
        return None
    # The server takes absolute paths only; a relative one is the caller's.
    path = str(os.path.abspath(os.fspath(path)))
    if options.get("isolate") and options.get("copy"):
        raise ValueError("isolate= and copy= exclude each other")
    if options.get("isolate"):
        mode: Literal["bind", "branch", "copy"] = "branch"
    elif options.get("copy"):
        mode = "copy"
    elif options.get("allow_project_overlap"):
        mode = "bind"
    else:
        return path
    overlap = bool(options.get("allow_project_overlap"))
    return models.ProjectSpec1(path=path, mode=mode, allow_overlap=overlap)


def _egress(options: Mapping[str, Any]) -> models.EgressSpec | None:
    allow, inject = options.get("allow_hosts"), options.get("inject")
    if not allow and not inject:
        return None
    return models.EgressSpec(allow=list(allow or []), inject=list(inject or []))


def _limits(options: Mapping[str, Any], names: Sequence[str]) -> models.LimitsSpec:
    return models.LimitsSpec(**{name: options[name] for name in names if name in options})


def _llm(options: Mapping[str, Any]) -> models.LlmSpec | None:
    if "provider" not in options and "model" not in options:
        return None
    return models.LlmSpec(provider=options.get("provider"), model=options.get("model"))


def job_spec(
    command: str | Sequence[str] | None, prompt: str | None, options: JobOptions
) -> dict[str, Any]:
    """The body of ``POST /v1/jobs``."""
    _refuse_unknown(options, JobOptions.__optional_keys__)
    if command is not None and prompt is not None:
        raise ValueError("give a command or a prompt, not both")
    mode = options.get("mode") or ("exec" if prompt is None else "worker")
    spec = models.JobSpec(
        mode=mode,
        command=_command(command),
        prompt=prompt,
        image=options.get("image"),
        project=_project(options),
        limits=_limits(
            options,
            (
                "memory",
                "cpu_shares",
                "pids",
                "timeout",
                "tmpfs",
                "idle_timeout",
                "max_llm_calls",
                "max_tokens",
                "max_iterations",
            ),
        ),
        grants=_grants(options.get("grants", ())),
        llm=_llm(options),
        interactive=options.get("interactive", False),
        claude=options.get("claude"),
        isolation=options.get("isolation"),
        egress=_egress(options),
    )
    return _body(spec)


def sandbox_spec(options: SandboxOptions) -> dict[str, Any]:
    """The body of ``POST /v1/sandboxes``."""
    _refuse_unknown(options, SandboxOptions.__optional_keys__)
    llm = _llm(options)
    if options.get("llm") and llm is None:
        llm = models.LlmSpec()
    spec = models.SandboxSpec(
        image=options.get("image"),
        project=_project(options),
        limits=_limits(options, ("memory", "cpu_shares", "pids", "tmpfs")),
        grants=_grants(options.get("grants", ())),
        llm=llm,
        isolation=options.get("isolation"),
        egress=_egress(options),
        ttl=options.get("ttl"),
        idle_timeout=options.get("idle_timeout"),
    )
    return _body(spec)


def exec_spec(
    cmd: str | Sequence[str],
    cwd: str | None,
    env: Mapping[str, str] | None,
    stdin: bytes | str | None,
    timeout: Duration | None,
) -> dict[str, Any]:
    """The body of ``POST /v1/sandboxes/{id}/exec``."""
    spec = models.ExecSpec(
        cmd=_command(cmd),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=stdin if isinstance(stdin, str) else None,
        stdin_base64=base64.b64encode(stdin).decode() if isinstance(stdin, bytes) else None,
        timeout=timeout,
    )
    return _body(spec)


def _command(command: str | Sequence[str] | None) -> str | list[str] | None:
    if command is None or isinstance(command, str):
        return command
    return list(command)


def _body(spec: BaseModel) -> dict[str, Any]:
    body: dict[str, Any] = spec.model_dump(mode="json", exclude_none=True)
    return body


def _refuse_unknown(options: Mapping[str, Any], known: frozenset[str]) -> None:
    """A TypeError naming what is not an option (the TypedDict's keys, inherited ones too)."""
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unexpected option(s): {', '.join(unknown)}")
