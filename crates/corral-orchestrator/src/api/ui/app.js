// corral's web UI: plain JavaScript, no build step, no CDN. It talks to the
// user API with the token kept in this browser's localStorage, follows a
// job's event stream with fetch (so the token goes in a header, not a URL)
// and resumes after a dropped connection from the last event it saw.
"use strict";

const main = document.getElementById("main");
const TOKEN_KEY = "corral.token";
/** Jobs a page of the list shows. */
const PAGE = 100;
let stopFollowing = null;

function token() { return localStorage.getItem(TOKEN_KEY); }

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: Object.assign({ authorization: "Bearer " + token() },
      body === undefined ? {} : { "content-type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) { signOut(); throw new Error("the token was refused"); }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) { throw new Error(data && data.error ? data.error : response.statusText); }
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function signOut() {
  localStorage.removeItem(TOKEN_KEY);
  route();
}

function showSignIn() {
  document.getElementById("signout").hidden = true;
  main.replaceChildren(document.getElementById("signin").content.cloneNode(true));
  document.getElementById("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
    try { await api("GET", "/v1/jobs?limit=1"); route(); }
    catch (error) { document.getElementById("signin-error").textContent = error.message; }
  });
}

// ---- job list ----

// A page of jobs, refreshed every two seconds: the newest, or the one
// created before the job `before` (reached through the page's `next`).
async function showJobs(before) {
  const table = el("table", {}, el("thead", {}, el("tr", {},
    el("th", {}, "job"), el("th", {}, "mode"), el("th", {}, "state"), el("th", {}, "what"),
    el("th", {}, "created"), el("th", {}, "reason"))));
  const body = el("tbody");
  table.append(body);
  const error = el("p", { class: "error" });
  const pages = el("p", { class: "pages" });
  main.replaceChildren(el("div", { class: "card" }, el("h2", {}, before ? "Older jobs" : "Jobs"), error, table, pages));
  let live = true;
  stopFollowing = () => { live = false; };
  while (live) {
    try {
      const query = "/v1/jobs?limit=" + PAGE + (before ? "&before=" + before : "");
      const { jobs, next } = await api("GET", query);
      pages.replaceChildren(...[
        before ? el("a", { href: "#/" }, "← newest") : null,
        next ? el("a", { href: "#/older/" + next, class: "older" }, "older jobs →") : null,
      ].filter(Boolean));
      body.replaceChildren(...jobs.map((job) => el("tr", { class: "job", onclick: () => { location.hash = "#/jobs/" + job.id; } },
        el("td", {}, el("code", {}, job.id)), el("td", {}, job.mode),
        el("td", { class: "state " + job.state }, job.state),
        el("td", {}, describe(job)), el("td", { class: "dim" }, new Date(job.created_at).toLocaleString()),
        el("td", { class: "dim" }, job.reason || ""))));
      error.textContent = "";
    } catch (failure) { error.textContent = failure.message; }
    await sleep(2000);
  }
}

function describe(job) {
  if (job.prompt) return job.prompt.split("\n")[0].slice(0, 100);
  if (Array.isArray(job.command)) return job.command.join(" ");
  return job.command || "";
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

// ---- one job ----

function showJob(id) {
  const header = el("div", { class: "card" });
  const usage = el("div", { class: "usage" });
  const stream = el("div", { class: "stream" });
  const prompt = el("form", { class: "card", hidden: "" },
    el("label", {}, "Follow-up prompt"), el("textarea", { name: "prompt", required: "" }),
    el("button", {}, "Send"), el("span", { class: "error" }));
  prompt.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = prompt.elements.prompt.value;
    try { await api("POST", `/v1/jobs/${id}/prompts`, { prompt: text }); prompt.elements.prompt.value = ""; }
    catch (error) { prompt.querySelector(".error").textContent = error.message; }
  });
  main.replaceChildren(header, prompt, el("div", { class: "card" }, usage, stream));
  const view = new EventView(stream, usage);
  let live = true;
  stopFollowing = () => { live = false; };
  const refresh = async () => {
    const job = await api("GET", "/v1/jobs/" + id);
    renderHeader(header, job);
    prompt.hidden = !(job.interactive && !["succeeded", "failed", "cancelled", "timed_out"].includes(job.state));
    return job;
  };
  refresh().catch((error) => header.replaceChildren(el("p", { class: "error" }, error.message)));
  follow(id, view, () => live, refresh);
}

function renderHeader(header, job) {
  const cancel = el("button", { class: "danger", onclick: async () => {
    try { await api("POST", `/v1/jobs/${job.id}/cancel`); } catch (error) { alert(error.message); }
  } }, "Cancel");
  const ended = ["succeeded", "failed", "cancelled", "timed_out"].includes(job.state);
  const facts = [
    ["mode", job.mode], ["image", job.image], ["project", job.project || "-"],
    ["model", job.llm ? job.llm.provider + "/" + job.llm.model : "-"],
    ["exit code", job.exit_code === null ? "-" : String(job.exit_code)],
    ["memory", Math.round(job.limits.memory_bytes / 1048576) + " MiB"], ["timeout", job.limits.timeout_secs + " s"],
  ];
  header.replaceChildren(
    el("h2", {}, el("code", {}, job.id), " ", el("span", { class: "state " + job.state }, job.state), " ", ended ? null : cancel),
    job.reason ? el("p", { class: "error" }, job.reason) : null,
    el("p", {}, describe(job)),
    el("div", { class: "grid" }, ...facts.map(([key, value]) => el("div", {}, el("span", { class: "dim" }, key + " "), value))));
}

// Reads the SSE stream with fetch; reconnects from the last id it saw.
async function follow(id, view, alive, refresh) {
  let last = 0;
  while (alive()) {
    try {
      const response = await fetch(`/v1/jobs/${id}/events/stream`, {
        headers: { authorization: "Bearer " + token(), "last-event-id": String(last) },
      });
      if (!response.ok) throw new Error("stream answered " + response.status);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done || !alive()) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        const batch = [];
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const message = parseBlock(block);
          if (message.event === "end") { view.flush(batch); await refresh(); return; }
          if (message.event === "stream_failed") throw new Error("the server could not go on");
          if (message.data) {
            const event = JSON.parse(message.data);
            last = event.seq;
            batch.push(event);
          }
        }
        view.flush(batch);
        if (batch.some((event) => event.kind === "status")) refresh().catch(() => {});
      }
    } catch (error) {
      view.note("stream interrupted (" + error.message + "); resuming after event " + last);
    }
    await sleep(1000);
  }
}

function parseBlock(block) {
  const message = { event: "message", data: "" };
  for (const line of block.split("\n")) {
    const at = line.indexOf(":");
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
    if (field === "event") message.event = value;
    else if (field === "data") message.data += (message.data ? "\n" : "") + value;
  }
  return message;
}

// Renders events in batches (one DOM append per batch), merging runs of
// output into one terminal block, so a job with thousands of events stays fast.
class EventView {
  constructor(stream, usage) {
    this.stream = stream;
    this.usage = usage;
    this.terminal = null;
    this.tools = new Map();
    this.totals = { calls: 0, input: 0, output: 0, cost: 0 };
  }

  note(text) { this.stream.append(el("div", { class: "ev-warning" }, text)); }

  flush(events) {
    if (events.length === 0) return;
    const fragment = document.createDocumentFragment();
    for (const event of events) this.render(event, fragment);
    events.length = 0;
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    this.stream.append(fragment);
    if (atBottom) window.scrollTo(0, document.body.scrollHeight);
    const t = this.totals;
    this.usage.textContent = t.calls ? `model: ${t.calls} calls, ${t.input} tokens in, ${t.output} out` +
      (t.cost ? `, $${t.cost.toFixed(4)}` : "") : "";
  }

  render(event, into) {
    const data = event.data || {};
    if (event.kind !== "output") this.terminal = null;
    switch (event.kind) {
      case "output": {
        if (!this.terminal) { this.terminal = el("pre", { class: "term" }); into.append(this.terminal); }
        const span = el("span", data.stream === "stderr" ? { class: "stderr" } : {}, data.text || "");
        this.terminal.append(span);
        break;
      }
      case "status":
        if (data.state) {
          into.append(el("div", { class: "ev-status" }, `#${event.seq} ${data.state}` + (data.reason ? ` (${data.reason})` : "")));
        } else {
          into.append(el("div", { class: "ev-status phase" }, `#${event.seq} ${data.text || data.phase}`));
        }
        break;
      case "message":
        into.append(el("div", { class: "ev-message " + (data.role || "assistant") }, data.text || JSON.stringify(data)));
        break;
      case "tool_call": {
        const details = el("details", { class: "tool" }, el("summary", {}, `${data.name} ${short(data.arguments)}`),
          el("pre", {}, JSON.stringify(data.arguments, null, 2)));
        this.tools.set(data.id, details);
        into.append(details);
        break;
      }
      case "tool_result": {
        const details = this.tools.get(data.id);
        const body = el("pre", {}, "→ " + (data.output || ""));
        if (details) {
          details.append(body);
          if (data.ok === false) details.classList.add("failed");
        } else {
          into.append(el("details", { class: "tool" + (data.ok === false ? " failed" : "") }, el("summary", {}, "result"), body));
        }
        break;
      }
      case "llm_usage":
        this.totals.calls += 1;
        this.totals.input += data.input_tokens || 0;
        this.totals.output += data.output_tokens || 0;
        this.totals.cost += data.cost_usd || 0;
        break;
      case "result":
        into.append(el("div", { class: "ev-message system" }, "result: " + (data.summary || data.status)));
        break;
      case "warning":
        into.append(el("div", { class: "ev-warning" }, "warning: " + (data.message || "")));
        break;
      case "error":
        into.append(el("div", { class: "ev-error" }, "error: " + (data.message || "")));
        break;
      case "network": {
        const where = `${data.host}:${data.port}`;
        const line = data.allowed
          ? `network ${where} (${data.mode || "?"}, ${data.bytes_up || 0} up, ${data.bytes_down || 0} down)`
          : `network DENIED ${where}`;
        into.append(el("div", { class: data.allowed ? "dim" : "ev-warning" }, line + (data.reason ? `: ${data.reason}` : "")));
        break;
      }
      default:
        into.append(el("div", { class: "dim" }, event.kind + " " + JSON.stringify(data)));
    }
  }
}

function short(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 90 ? text.slice(0, 90) + "…" : text;
}

// ---- new job ----

function showNew() {
  const form = el("form", { class: "card" },
    el("h2", {}, "New job"),
    el("label", {}, "Mode"),
    el("select", { name: "mode" }, el("option", { value: "exec" }, "exec: a command"),
      el("option", { value: "worker" }, "worker: corral's agent"), el("option", { value: "claude" }, "claude: Claude Code")),
    el("label", {}, "Command (exec) or prompt (agents)"), el("textarea", { name: "text", required: "" }),
    el("label", {}, "Project directory (absolute host path, optional)"), el("input", { name: "project", size: "60" }),
    el("label", {}, "Project mode"),
    el("select", { name: "project_mode" }, el("option", { value: "bind" }, "bind: the directory itself, read-write"),
      el("option", { value: "branch" }, "branch: its own copy, to review with diff/apply"),
      el("option", { value: "copy" }, "copy: unpacked in the container, changes dropped")),
    el("label", {}, "Grants (secret names, comma separated)"), el("input", { name: "grants", size: "60" }),
    el("label", {}, "Allowed hosts (egress, comma separated: pypi.org, *.github.com, git.example.com:8443, tcp://db.example.com:5432)"), el("input", { name: "allow_hosts", size: "60" }),
    el("div", { class: "grid" },
      el("div", {}, el("label", {}, "Memory"), el("input", { name: "memory", placeholder: "512m" })),
      el("div", {}, el("label", {}, "Timeout"), el("input", { name: "timeout", placeholder: "10m" })),
      el("div", {}, el("label", {}, "Model (agents)"), el("input", { name: "model" })),
      el("div", {}, el("label", {}, "Max model calls"), el("input", { name: "max_llm_calls", type: "number", min: "1" }))),
    el("label", {}, el("input", { type: "checkbox", name: "interactive" }), " interactive (take follow-up prompts)"),
    el("p", {}, el("button", {}, "Create")), el("p", { class: "error" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    const spec = { mode: f.mode.value, limits: {} };
    if (spec.mode === "exec") spec.command = f.text.value; else spec.prompt = f.text.value;
    if (f.project.value) spec.project = { path: f.project.value, mode: f.project_mode.value };
    const grants = f.grants.value.split(",").map((name) => name.trim()).filter(Boolean);
    if (grants.length) spec.grants = grants.map((secret) => ({ secret }));
    const hosts = f.allow_hosts.value.split(",").map((host) => host.trim()).filter(Boolean);
    if (hosts.length) spec.egress = { allow: hosts };
    if (f.memory.value) spec.limits.memory = f.memory.value;
    if (f.timeout.value) spec.limits.timeout = f.timeout.value;
    if (f.max_llm_calls.value) spec.limits.max_llm_calls = Number(f.max_llm_calls.value);
    if (f.model.value) spec.llm = { model: f.model.value };
    if (f.interactive.checked) spec.interactive = true;
    try {
      const job = await api("POST", "/v1/jobs", spec);
      location.hash = "#/jobs/" + job.id;
    } catch (error) { form.querySelector(".error").textContent = error.message; }
  });
  main.replaceChildren(form);
}

// ---- routing ----

function route() {
  if (stopFollowing) { stopFollowing(); stopFollowing = null; }
  if (!token()) { showSignIn(); return; }
  document.getElementById("signout").hidden = false;
  const hash = location.hash || "#/";
  const job = hash.match(/^#\/jobs\/(j-[0-9a-f]{16})$/);
  const older = hash.match(/^#\/older\/(j-[0-9a-f]{16})$/);
  if (job) showJob(job[1]);
  else if (hash === "#/new") showNew();
  else showJobs(older ? older[1] : null);
}

document.getElementById("signout").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
route();
