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
  // An action's failure stays until the next action: a refresh clears only
  // its own.
  const actionError = el("p", { class: "error" });
  const empty = el("p", { class: "dim", hidden: "" }, "no sandboxes: corral sandbox create, or POST /v1/sandboxes");
  main.replaceChildren(el("div", { class: "card" },
    el("div", { class: "toolbar" }, el("h2", {}, "Sandboxes")), error, actionError, table, empty));
  const rows = new Map();
  let live = true;
  let wake = null;
  let again = false;
  stopFollowing = () => { live = false; if (wake) wake(); };
  // An action asks again at once, so its new state shows without the wait
  // (one ended while a request was out asks again right after it).
  const refreshNow = () => { again = true; if (wake) wake(); };
  (async () => {
    let refreshes = 0;
    while (live) {
      try {
        const { sandboxes } = await api("GET", "/v1/sandboxes?limit=200");
        if (!live) return;
        updateSandboxRows(body, rows, sandboxes, actionError, refreshNow);
        empty.hidden = sandboxes.length > 0;
        setText(error, "");
      } catch (failure) { setText(error, failure.message); }
      refreshes += 1;
      table.dataset.refreshes = String(refreshes);
      if (!again) {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, SANDBOX_REFRESH_MS);
          wake = () => { clearTimeout(timer); resolve(); };
        });
        wake = null;
      }
      again = false;
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

/**
 * Brings `body`'s rows to `sandboxes`, keeping each listed sandbox's row and
 * its cells: a refresh only changes text, and a row's buttons are made anew
 * only when its state offers other actions, so a click is never lost to a
 * refresh replacing the button under the pointer.
 */
function updateSandboxRows(body, rows, sandboxes, error, refreshNow) {
  const now = Date.now();
  const since = (when) => when ? duration((now - Date.parse(when)) / 1000) : "";
  for (const [sandbox, entry] of keyedRows(body, rows, sandboxes, newSandboxRow)) {
    const job = sandbox.job;
    const { cells } = entry;
    setText(cells.state, sandbox.state);
    if (cells.state.className !== "state " + sandbox.state) cells.state.className = "state " + sandbox.state;
    setText(cells.age, since(job.created_at));
    setText(cells.idle, sandbox.idle_since ? since(sandbox.idle_since) : "");
    setText(cells.execs, String(sandbox.execs_running));
    setText(cells.limits, `${size(job.limits.memory_bytes)} memory, ${size(job.limits.tmpfs_bytes)} tmpfs, ` +
      `ttl ${duration(sandbox.ttl_secs)}, idle ${duration(sandbox.idle_timeout_secs)}`);
    setText(cells.image, job.image);
    const actions = sandboxActions(sandbox.state);
    const offered = actions.join(" ");
    if (entry.actions !== offered) {
      entry.actions = offered;
      fill(cells.actions, ...sandboxButtons(sandbox.id, actions, error, refreshNow));
    }
  }
}

function newSandboxRow({ id }) {
  const cells = {
    state: el("td", { class: "state" }), age: el("td", { class: "dim nowrap" }),
    idle: el("td", { class: "dim nowrap" }), execs: el("td"), limits: el("td", { class: "dim" }),
    image: el("td", { class: "dim" }), actions: el("td", { class: "nowrap" }),
  };
  const row = el("tr", { class: "sandbox", "data-id": id },
    el("td", {}, el("a", { href: "#/jobs/" + id }, el("code", {}, id))),
    cells.state, cells.age, cells.idle, cells.execs, cells.limits, cells.image, cells.actions);
  return { row, cells, actions: null };
}

function sandboxButtons(id, actions, error, refreshNow) {
  return actions.map((action) => {
    const button = el("button", { class: "action", "data-action": action }, action);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const path = "/v1/sandboxes/" + encodeURIComponent(id);
        if (action === "delete") await api("DELETE", path);
        else await api("POST", `${path}/${action}`);
        setText(error, "");
      } catch (failure) {
        setText(error, `${action} ${id}: ${failure.message}`);
      } finally {
        button.disabled = false;
      }
      refreshNow();
    });
    return button;
  });
}
