// corral's web UI, shared pieces: the API client (the token is kept in this
// browser's localStorage and sent in a header), the element builder that
// puts every piece of job text in as text (never as HTML), and corral's one
// human format for times and durations.
"use strict";

const main = document.getElementById("main");
const TOKEN_KEY = "corral.token";
/** States a job never leaves. */
const ENDED = ["succeeded", "failed", "cancelled", "timed_out"];
/** Every state, in life order, for the list's filter. */
const STATES = ["queued", "starting", "running", "stopped", ...ENDED];
/** Stops whatever the current page keeps doing (polls, streams, timers). */
let stopFollowing = null;

function token() { return localStorage.getItem(TOKEN_KEY); }

function isEnded(job) { return ENDED.includes(job.state); }
/** A job's state as shown: an interactive job between turns is `waiting`. */
function shownState(job) { return job.waiting_since && !isEnded(job) ? "waiting" : job.state; }

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: Object.assign({ authorization: "Bearer " + token() },
      body === undefined ? {} : { "content-type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) { signOut(); throw new Error("the token was refused"); }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) { throw new Error(data && data.error ? data.error : response.status + " " + response.statusText); }
  return data;
}

/**
 * Characters that make text read other than its code points, as the CLI
 * finds them (`corral-client`'s `sanitize`): C0 controls but `\n` and
 * `\t`, DEL, C1 controls, and invisible format characters: bidi
 * overrides, isolates and marks ("Trojan Source"), zero-width characters,
 * tags, the line and paragraph separators.
 */
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\u{110bd}\u{110cd}\u{13430}-\u{1343f}\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0001}\u{e0020}-\u{e007f}]/gu;

/**
 * `text` with every `HIDDEN` character shown as the CLI shows it: C0
 * controls and DEL in caret notation (`^[`, `^?`), the rest as `<U+XXXX>`.
 * Every text a page shows goes through it: a job writes most of it.
 */
function visible(text) {
  return String(text).replace(HIDDEN, (char) => {
    const code = char.codePointAt(0);
    if (code < 0x20) return "^" + String.fromCharCode(code + 0x40);
    if (code === 0x7f) return "^?";
    return "<U+" + code.toString(16).toUpperCase().padStart(4, "0") + ">";
  });
}

/** An element; strings among `children` become text nodes, null and undefined are left out. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  return fill(node, ...children);
}

/** Appends `children` to `node` (replacing what it held), skipping null and undefined. */
function fill(node, ...children) {
  node.replaceChildren(...children
    .filter((child) => child !== null && child !== undefined && child !== false)
    .map((child) => typeof child === "string" ? visible(child) : child));
  return node;
}

/** Sets a node's text only when it changed, so a selection inside it survives. */
function setText(node, text) {
  const shown = visible(text);
  if (node.textContent !== shown) node.textContent = shown;
}

/**
 * Brings `body`'s rows to `items` (each with an `id`), in their order: an
 * item still listed keeps its row (made by `make` the first time), a row
 * no longer listed goes unless `held` keeps it. Each item with its entry.
 */
function keyedRows(body, rows, items, make, held = () => false) {
  const listed = new Set(items.map((item) => item.id));
  for (const [id, entry] of rows) {
    if (!listed.has(id) && !held(entry.row)) { entry.row.remove(); rows.delete(id); }
  }
  return items.map((item, index) => {
    let entry = rows.get(item.id);
    if (!entry) { entry = make(item); rows.set(item.id, entry); }
    const at = body.children[index];
    if (at !== entry.row) body.insertBefore(entry.row, at || null);
    return [item, entry];
  });
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

// ---- one format for times and durations (as the CLI writes them) ----

/** `2025-01-31 14:05:09 UTC`. */
function utc(when) {
  if (!when) return "-";
  const date = new Date(when);
  return Number.isNaN(date.getTime()) ? "-" : date.toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

/** `14:05:09` (UTC), beside each event. */
function clock(when) {
  const date = new Date(when);
  return Number.isNaN(date.getTime()) ? "--:--:--" : date.toISOString().slice(11, 19);
}

/** `12s`, `1m 05s`, `2h 03m`. */
/** A size as the CLI and corral.toml write it: `512m`, `1g`, else bytes. */
function size(bytes) {
  for (const [scale, unit] of [[2 ** 40, "t"], [2 ** 30, "g"], [2 ** 20, "m"], [2 ** 10, "k"]]) {
    if (bytes >= scale && bytes % scale === 0) return bytes / scale + unit;
  }
  return String(bytes);
}

function duration(seconds) {
  let rest = Math.max(0, Math.floor(seconds));
  if (rest === 0) return "0s";
  let text = "";
  for (const [scale, unit] of [[86400, "d"], [3600, "h"], [60, "m"], [1, "s"]]) {
    if (rest === 0) break;
    const count = Math.floor(rest / scale);
    rest %= scale;
    if (text) text += String(count).padStart(2, "0") + unit;
    else if (count > 0) text = count + unit;
  }
  return text;
}

/** How long a job ran: live while it runs, finished - started once ended; "-" before it starts. */
function jobDuration(job) {
  if (!job.started_at) return "-";
  const end = job.finished_at ? new Date(job.finished_at) : (isEnded(job) ? null : new Date());
  if (!end) return "-";
  const seconds = (end - new Date(job.started_at)) / 1000;
  // Under a second, milliseconds (a job that ran 40 ms did not take
  // "0.0s"); under ten, tenths (1.9 s is not "1s"): as the CLI writes them.
  if (seconds < 1) return Math.max(0, Math.floor(seconds * 1000)) + "ms";
  return seconds < 10 ? (Math.floor(seconds * 10) / 10).toFixed(1) + "s" : duration(seconds);
}

/** A job's command or the first line of its prompt. */
function describe(job) {
  if (job.prompt) return job.prompt.split("\n")[0].slice(0, 100);
  if (Array.isArray(job.command)) return job.command.join(" ");
  return job.command || "";
}

// ---- signing in ----

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
    catch (error) { setText(document.getElementById("signin-error"), error.message); }
  });
}

// ---- copy and download ----

/** Copies `text`; falls back to a hidden text area where the clipboard API is missing (plain http). */
async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); return; }
  } catch { /* fall back below */ }
  const area = el("textarea", { readonly: "", class: "offscreen" });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

/** Saves `text` as the file `name`. */
function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const link = el("a", { href: url, download: name, class: "offscreen" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
