"""A review flow: an agent works on its own copy of a project; you read the diff, then apply.

    python examples/python/review.py [PROJECT] [--apply | --discard]

PROJECT is a git repository (without one, the example makes a scratch
repository). The job runs with `isolate=True`: the agent changes a branch
`corral/<job-id>` of a clone, never the project itself, until `apply`. The
prompt goes to the server's model; with `corral serve --llm
scripted:examples/demo-model.json` the scripted agent leaves a GREETING.md.
Without --apply or --discard it asks, on a terminal, once you have read the
diff; elsewhere it leaves the change for `corral apply` or `corral discard`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from corral import Corral, MessageData, typed_data, visible


def scratch_project() -> Path:
    """A new git repository with one commit."""
    root = Path(tempfile.mkdtemp(prefix="corral-review-")) / "project"
    root.mkdir()
    (root / "README.md").write_text("# a project\n")
    git = ["git", "-C", str(root), "-c", "user.name=you", "-c", "user.email=you@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)
    return root


def main(argv: list[str]) -> int:
    """Runs the agent, prints its change, then applies or discards it."""
    choice = "apply" if "--apply" in argv else "discard" if "--discard" in argv else None
    paths = [arg for arg in argv if not arg.startswith("--")]
    project = Path(paths[0]).resolve() if paths else scratch_project()
    client = Corral()
    job = client.jobs.run(
        prompt="Look at the project and leave a short note in it.",
        project=project,
        isolate=True,
        max_llm_calls=10,
        timeout="10m",
    )
    print(f"job {job.id} on {project}")
    for event in job.events():
        data = typed_data(event)
        if isinstance(data, MessageData) and data.role == "assistant" and data.text:
            print(f"agent: {visible(data.text)}")
    final = job.wait()
    if final.state != "succeeded":
        print(f"the job {final.state}: {visible(final.reason or '')}", file=sys.stderr)
        return 1
    diff = job.diff()
    print("changed: " + ", ".join(visible(change.path, one_line=True) for change in diff.files))
    # What a job wrote is printed with its control characters shown, never obeyed.
    print(visible(diff.patch))
    if choice is None and sys.stdin.isatty():
        answer = input("apply this change to the project? [y/N] ").strip().lower()
        choice = "apply" if answer in ("y", "yes") else "discard"
    if choice == "apply":
        job.apply()
        for change in diff.files:
            exists = (project / change.path).exists()
            print(f"applied: {visible(change.path, one_line=True)} exists = {exists}")
    elif choice == "discard":
        job.discard()
        print("discarded: the project is as it was")
    else:
        print(f"left for review: corral apply {job.id}   or: corral discard {job.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
