"""A code-execution tool for a function-calling agent, backed by a corral sandbox.

The agent keeps one sandbox for the whole conversation, so files it writes
and servers it starts are there for its next call. `CODE_TOOL` is the tool's
JSON schema (OpenAI's `tools` format; Anthropic's `input_schema` is its
`parameters`), `run_code` its handler.

    python examples/python/code_tool.py

With OPENAI_BASE_URL and OPENAI_API_KEY set (and OPENAI_MODEL, default
gpt-4o-mini) it asks that model; without them a stand-in model that makes
the calls a model would make plays its part, so the example runs with no
network and no key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import httpx

from corral import Corral, Sandbox, visible

CODE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "run_code",
        "description": (
            "Run a shell command in a persistent, network-less Linux sandbox (busybox tools; "
            "whatever the image has). Files under /workspace, /tmp and $HOME and background "
            "processes persist between calls. Output is cut in the middle past 1 MiB a stream; "
            "secrets appear as [REDACTED:NAME]."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "A shell command line (sh -c)."},
                "files": {
                    "type": "object",
                    "description": "Files to write first: path (under /workspace) -> content.",
                    "additionalProperties": {"type": "string"},
                },
                "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 600},
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    },
}


def run_code(sandbox: Sandbox, arguments: dict[str, Any]) -> str:
    """The tool's handler: runs the call in the sandbox and answers what the model reads."""
    for path, content in (arguments.get("files") or {}).items():
        target = path if path.startswith("/") else f"/workspace/{path}"
        sandbox.files.write(target, content)
    result = sandbox.exec(arguments["command"], timeout=arguments.get("timeout_seconds", 60))
    return json.dumps(
        {
            "exit_code": result.exit_code,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "truncated": result.truncated,
            "timed_out": bool(result.timed_out),
        }
    )


Model = Callable[[list[dict[str, Any]]], dict[str, Any]]


def agent(sandbox: Sandbox, model: Model, task: str, max_turns: int = 8) -> str:
    """A minimal function-calling loop: the model asks for `run_code`, we answer, until it stops."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": task}]
    for _ in range(max_turns):
        reply = model(messages)
        messages.append(reply)
        calls = reply.get("tool_calls") or []
        if not calls:
            return str(reply.get("content") or "")
        for call in calls:
            arguments = json.loads(call["function"]["arguments"])
            print(f"-> run_code {visible(arguments['command'], one_line=True)}")
            answer = run_code(sandbox, arguments)
            print(f"<- {answer}")
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": answer})
    return "(gave up after max_turns)"


def openai_model() -> Model:
    """A model behind an OpenAI-compatible chat completions endpoint."""
    base = os.environ["OPENAI_BASE_URL"].rstrip("/")
    headers = {"Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"}
    model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")

    def call(messages: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"model": model, "messages": messages, "tools": [CODE_TOOL]}
        response = httpx.post(f"{base}/chat/completions", json=body, headers=headers, timeout=120)
        response.raise_for_status()
        message: dict[str, Any] = response.json()["choices"][0]["message"]
        return message

    return call


def stand_in_model() -> Model:
    """Plays a model's part offline: two tool calls, then an answer from what they returned."""

    def call(messages: list[dict[str, Any]]) -> dict[str, Any]:
        turn = sum(1 for message in messages if message["role"] == "assistant")
        if turn == 0:
            return tool_call(
                "c1",
                {
                    "command": "sh primes.sh 30 > primes.txt && wc -w < primes.txt",
                    "files": {
                        "primes.sh": (
                            "n=2; while [ $n -le $1 ]; do d=2; p=1; "
                            "while [ $((d*d)) -le $n ]; do [ $((n%d)) -eq 0 ] && p=0; "
                            "d=$((d+1)); done; [ $p -eq 1 ] && echo $n; n=$((n+1)); done\n"
                        )
                    },
                },
            )
        if turn == 1:
            return tool_call("c2", {"command": "tr '\\n' ' ' < primes.txt"})
        found = json.loads(messages[-1]["content"])["stdout"].strip()
        return {"role": "assistant", "content": f"The primes up to 30 are: {found}."}

    def tool_call(call_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
        function = {"name": "run_code", "arguments": json.dumps(arguments)}
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": function}],
        }

    return call


def main() -> None:
    """Runs the agent once in a fresh sandbox, deleted at the end."""
    online = "OPENAI_BASE_URL" in os.environ and "OPENAI_API_KEY" in os.environ
    model = openai_model() if online else stand_in_model()
    client = Corral()
    with client.sandbox(ttl="15m", idle_timeout="5m") as sandbox:
        print(f"sandbox {sandbox.id}")
        answer = agent(sandbox, model, "Which numbers up to 30 are prime? Use the sandbox.")
    print(f"answer: {visible(answer)}")


if __name__ == "__main__":
    main()
