// The job list: a page of jobs, refreshed every two seconds in place (rows
// are kept and only changed cells rewritten, so a selected id stays
// selected), with a state filter (asked of the API) and a search box
// (over the page already loaded).
"use strict";

/** Jobs a page of the list shows. */
const PAGE = 100;
/** How often the list asks again. */
const LIST_REFRESH_MS = 2000;

/** `#/`, `#/?state=failed`, `#/older/j-…?state=failed`: which page, which filter. */
function listRoute(hash) {
  const [path, query] = hash.split("?");
  const older = path.match(/^#\/older\/(j-[0-9a-f]{16})$/);
  const state = new URLSearchParams(query || "").get("state");
  return { before: older ? older[1] : null, state: STATES.includes(state) ? state : "" };
}

function listHash(before, state) {
  return "#/" + (before ? "older/" + before : "") + (state ? "?state=" + state : "");
}

function showJobs(before, state) {
  const filter = el("select", { name: "state", "aria-label": "state" }, el("option", { value: "" }, "all states"),
    ...STATES.map((name) => el("option", { value: name }, name)));
  filter.value = state;
  filter.addEventListener("change", () => { location.hash = listHash(null, filter.value); });
  const search = el("input", { type: "search", name: "search", class: "search",
    placeholder: "search this page: id, command, prompt, image" });
  const table = el("table", { class: "jobs" }, el("thead", {}, el("tr", {},
    ...["job", "mode", "state", "what", "created", "duration", "reason"].map((name) => el("th", {}, name)))));
  const body = el("tbody");
  table.append(body);
  const error = el("p", { class: "error" });
  const pages = el("p", { class: "pages" });
  const empty = el("p", { class: "dim", hidden: "" }, "no jobs");
  main.replaceChildren(el("div", { class: "card" },
    el("div", { class: "toolbar" }, el("h2", {}, before ? "Older jobs" : "Jobs"), filter, search),
    error, table, empty, pages));
  const rows = new Map();
  const applySearch = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const { row, job } of rows.values()) {
      const haystack = [job.id, describeFull(job), job.image].join("\n").toLowerCase();
      row.hidden = !words.every((word) => haystack.includes(word));
      if (!row.hidden) shown += 1;
    }
    empty.hidden = shown > 0;
  };
  search.addEventListener("input", applySearch);
  let live = true;
  stopFollowing = () => { live = false; };
  (async () => {
    let refreshes = 0;
    while (live) {
      try {
        const query = "/v1/jobs?limit=" + PAGE + (state ? "&state=" + state : "") + (before ? "&before=" + before : "");
        const { jobs, next } = await api("GET", query);
        if (!live) return;
        fill(pages,
          before ? el("a", { href: listHash(null, state) }, "← newest") : null,
          next ? el("a", { href: listHash(next, state), class: "older" }, "older jobs →") : null);
        updateRows(body, rows, jobs);
        applySearch();
        setText(error, "");
      } catch (failure) { setText(error, failure.message); }
      refreshes += 1;
      table.dataset.refreshes = String(refreshes);
      await sleep(LIST_REFRESH_MS);
    }
  })();
}

/** What a search looks through: the whole command or prompt. */
function describeFull(job) {
  if (job.prompt) return job.prompt;
  if (Array.isArray(job.command)) return job.command.join(" ");
  return job.command || "";
}

/**
 * Brings `body`'s rows to `jobs`, keeping the rows of jobs still listed; a
 * row the user has selected text in is left as it is until they let go.
 */
function updateRows(body, rows, jobs) {
  const selection = window.getSelection();
  const held = (row) => selection && !selection.isCollapsed && selection.containsNode(row, true);
  for (const [job, entry] of keyedRows(body, rows, jobs, newRow, held)) {
    entry.job = job;
    if (held(entry.row)) continue;
    const { cells } = entry;
    setText(cells.mode, job.mode);
    const state = shownState(job);
    setText(cells.state, state);
    if (cells.state.className !== "state " + state) cells.state.className = "state " + state;
    setText(cells.what, describe(job));
    setText(cells.created, utc(job.created_at));
    setText(cells.duration, jobDuration(job));
    setText(cells.reason, job.reason || "");
  }
}

function newRow(job) {
  const cells = {
    mode: el("td"), state: el("td", { class: "state" }), what: el("td"),
    created: el("td", { class: "dim nowrap" }), duration: el("td", { class: "dim nowrap" }), reason: el("td", { class: "dim" }),
  };
  const row = el("tr", { class: "job", "data-id": job.id },
    el("td", {}, el("a", { href: "#/jobs/" + job.id }, el("code", {}, job.id))),
    cells.mode, cells.state, cells.what, cells.created, cells.duration, cells.reason);
  // A click opens the job, unless it ended a text selection (copying an id).
  row.addEventListener("click", (event) => {
    if (event.target.closest("a") || String(window.getSelection())) return;
    location.hash = "#/jobs/" + job.id;
  });
  return { row, cells, job };
}
