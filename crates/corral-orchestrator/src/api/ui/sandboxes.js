// The sandboxes view: every sandbox with its state, age, idle time, limits
// and running execs, refreshed every two seconds, with pause, resume, stop,
// start and delete; a sandbox's id opens its page (the job page: its execs,
// their output, its events).
"use strict";

/** How often the sandboxes view asks again. */
const SANDBOX_REFRESH_MS = 2000;

function showSandboxes() {
  const table = el("table", { class: "sandboxes" }, el("thead", {}, el("tr", {},
    ...["sandbox", "state", "age", "idle", "execs", "limits", "image", ""].map((name) => el("th", {}, name)))));
  const body = el("tbody");
  table.append(body);
  const error = el("p", { class: "error" });
  const empty = el("p", { class: "dim", hidden: "" }, "no sandboxes: corral sandbox create, or POST /v1/sandboxes");
  main.replaceChildren(el("div", { class: "card" },
    el("div", { class: "toolbar" }, el("h2", {}, "Sandboxes")), error, table, empty));
  let live = true;
  stopFollowing = () => { live = false; };
  (async () => {
    let refreshes = 0;
    while (live) {
      try {
        const { sandboxes } = await api("GET", "/v1/sandboxes?limit=200");
        if (!live) return;
        body.replaceChildren(...sandboxes.map((sandbox) => sandboxRow(sandbox, error)));
        empty.hidden = sandboxes.length > 0;
        setText(error, "");
      } catch (failure) { setText(error, failure.message); }
      refreshes += 1;
      table.dataset.refreshes = String(refreshes);
      await sleep(SANDBOX_REFRESH_MS);
    }
  })();
}

/** The actions a sandbox in `state` takes. */
function sandboxActions(state) {
  switch (state) {
    case "running": return ["pause", "stop", "delete"];
    case "paused": return ["resume", "stop", "delete"];
    case "stopped": return ["start", "delete"];
    case "starting": return ["delete"];
    default: return [];
  }
}

function sandboxRow(sandbox, error) {
  const job = sandbox.job;
  const now = Date.now();
  const since = (when) => when ? duration((now - Date.parse(when)) / 1000) : "";
  const limits = `${size(job.limits.memory_bytes)} memory, ${size(job.limits.tmpfs_bytes)} tmpfs, ` +
    `ttl ${duration(sandbox.ttl_secs)}, idle ${duration(sandbox.idle_timeout_secs)}`;
  const buttons = sandboxActions(sandbox.state).map((action) => {
    const button = el("button", { class: "action", "data-action": action }, action);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        if (action === "delete") await api("DELETE", "/v1/sandboxes/" + sandbox.id);
        else await api("POST", `/v1/sandboxes/${sandbox.id}/${action}`);
        setText(error, "");
      } catch (failure) { setText(error, failure.message); }
    });
    return button;
  });
  return el("tr", { class: "sandbox", "data-id": sandbox.id },
    el("td", {}, el("a", { href: "#/jobs/" + sandbox.id }, el("code", {}, sandbox.id))),
    el("td", { class: "state " + sandbox.state }, sandbox.state),
    el("td", { class: "dim nowrap" }, since(job.created_at)),
    el("td", { class: "dim nowrap" }, sandbox.idle_since ? since(sandbox.idle_since) : ""),
    el("td", {}, String(sandbox.execs_running)),
    el("td", { class: "dim" }, limits),
    el("td", { class: "dim" }, job.image),
    el("td", { class: "nowrap" }, ...buttons));
}
