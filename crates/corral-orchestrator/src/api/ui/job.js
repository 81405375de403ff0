// One job's page: its facts (state and duration kept current), its event
// stream followed live with fetch (the token goes in a header, not a URL,
// and a dropped connection resumes from the last event seen), copy and
// download of its output, follow-up prompts, and its continuations.
"use strict";

function showJob(id) {
  const header = el("div", { class: "card" }, el("p", { class: "dim" }, "loading " + id));
  const review = el("div", { class: "card review", hidden: "" });
  const prompt = promptForm(id);
  const usage = el("div", { class: "usage" });
  const stream = el("div", { class: "stream" });
  const view = new EventView(stream, usage);
  const copied = el("span", { class: "dim" });
  const tools = el("div", { class: "toolbar" }, el("h3", {}, "Events"),
    el("button", { type: "button", class: "copy", onclick: async () => {
      try { await copyText(view.output); setText(copied, "copied"); } catch (error) { setText(copied, error.message); }
    } }, "Copy output"),
    el("button", { type: "button", class: "download", onclick: () => download(id + ".log", view.output) }, "Download .log"),
    copied);
  main.replaceChildren(header, review, prompt.form, el("div", { class: "card" }, tools, usage, stream));
  let live = true;
  let shown = null;
  let reviewed = false;
  const ticker = setInterval(() => { if (shown && !isEnded(shown)) updateDuration(header, shown); }, 1000);
  stopFollowing = () => { live = false; clearInterval(ticker); };
  // Answers can come back out of order (a throttled ask still out when the
  // job's end is asked at once): one older than the last shown is dropped.
  let asks = 0;
  let shownAsk = 0;
  const refresh = async () => {
    const ask = ++asks;
    const job = await api("GET", "/v1/jobs/" + id);
    if (!live || ask < shownAsk) return job;
    shownAsk = ask;
    if (JSON.stringify(job) !== JSON.stringify(shown)) renderHeader(header, job);
    // The server's account wins over a state an older event put up.
    const badge = header.querySelector("h2 .state");
    if (badge) { setText(badge, shownState(job)); badge.className = "state " + shownState(job); }
    shown = job;
    prompt.update(job);
    if (isEnded(job) && !reviewed) {
      reviewed = true;
      if (job.isolation) showReview(review, job);
      if (job.mode === "claude") findContinuations(job).then((found) => addContinuations(header, found)).catch(() => {});
    }
    return job;
  };
  // The job is asked again after a status event, at most twice a second
  // however many events a job sends.
  let pending = null;
  let asked = 0;
  const refreshSoon = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      asked = Date.now();
      refresh().catch(() => {});
    }, Math.max(0, 500 - (Date.now() - asked)));
  };
  // A state change moves the header at once, then the job is asked again:
  // at once for its end (stored before its last status event, so its times
  // come with the badge), else within half a second.
  const onState = (state) => {
    const badge = header.querySelector("h2 .state");
    if (badge && state) { setText(badge, state); badge.className = "state " + state; }
    if (ENDED.includes(state)) refresh().catch(() => {});
    else refreshSoon();
  };
  refresh().catch((error) => fill(header, el("p", { class: "error" }, error.message)));
  follow(id, view, () => live, refresh, onState);
}

function renderHeader(header, job) {
  const cancel = el("button", { type: "button", class: "danger", onclick: async (event) => {
    try { await api("POST", `/v1/jobs/${job.id}/cancel`); } catch (error) { setText(event.target.nextSibling || event.target, error.message); }
  } }, "Cancel");
  // An interactive job ends as its user means it: after its current turn, succeeded.
  const end = el("button", { type: "button", class: "end", title: "finish after the current turn", onclick: async (event) => {
    try { await api("POST", `/v1/jobs/${job.id}/end`); setText(event.target, "Ending…"); event.target.disabled = true; }
    catch (error) { setText(event.target.nextSibling || event.target, error.message); }
  } }, "End");
  const state = shownState(job);
  const limits = job.limits || {};
  const facts = [
    ["mode", job.mode], ["image", job.image], ["project", job.project || "-"],
    ["project mode", job.project_mode + (job.isolation && job.isolation.branch ? " (" + job.isolation.branch + ")" : "")],
    ["model", job.llm ? job.llm.provider + "/" + job.llm.model : "-"],
    ["exit code", job.exit_code === null || job.exit_code === undefined ? "-" : String(job.exit_code)],
    ["created", utc(job.created_at)], ["started", utc(job.started_at)], ["finished", utc(job.finished_at)],
    ["duration", jobDuration(job)],
    ["memory", size(limits.memory_bytes)], ["timeout", duration(limits.timeout_secs || 0)],
  ];
  const continues = job.claude && job.claude.continues;
  fill(header,
    el("h2", {}, el("code", {}, job.id), " ", el("span", { class: "state " + state }, state), " ",
      job.interactive && !isEnded(job) ? end : null, job.interactive && !isEnded(job) ? " " : null,
      isEnded(job) ? null : cancel, isEnded(job) ? null : el("span", { class: "error" })),
    job.waiting_since && !isEnded(job) ? el("p", { class: "waiting" }, "waiting for a prompt since " + utc(job.waiting_since) + ": send one below, or End") : null,
    job.reason ? el("p", { class: "error reason" }, job.reason) : null,
    el("p", { class: "what" }, describe(job)),
    continues ? el("p", { class: "links" }, "continues ", el("a", { href: "#/jobs/" + continues, class: "continues" }, continues)) : null,
    el("div", { class: "grid" }, ...facts.map(([key, value]) =>
      el("div", { "data-fact": key }, el("span", { class: "dim" }, key + " "), el("span", { class: "value" }, value)))));
}

function updateDuration(header, job) {
  const value = header.querySelector('[data-fact="duration"] .value');
  if (value) setText(value, jobDuration(job));
}

/** The follow-up box: for a live interactive job, or an ended claude job (its session goes on in a new job). */
function promptForm(id) {
  const label = el("label", {}, "Follow-up prompt");
  const error = el("span", { class: "error" });
  const form = el("form", { class: "card prompt", hidden: "" },
    label, el("textarea", { name: "prompt", required: "" }), el("button", {}, "Send"), " ", error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const sent = await api("POST", `/v1/jobs/${id}/prompts`, { prompt: form.elements.prompt.value });
      form.elements.prompt.value = "";
      setText(error, "");
      if (sent && sent.continued_in) location.hash = "#/jobs/" + sent.continued_in;
    } catch (failure) { setText(error, failure.message); }
  });
  const update = (job) => {
    const resumes = job.mode === "claude" && isEnded(job);
    form.hidden = !(resumes || (job.interactive && !isEnded(job)));
    setText(label, resumes ? "Continue this Claude session (a new job)" : "Follow-up prompt");
  };
  return { form, update };
}

/** Jobs that continue `job`'s Claude session: newer jobs, so the newest pages are enough. */
async function findContinuations(job) {
  const { jobs } = await api("GET", "/v1/jobs?limit=100&continues=" + encodeURIComponent(job.id));
  return jobs.map((other) => other.id);
}

function addContinuations(header, ids) {
  if (ids.length === 0) return;
  header.append(el("p", { class: "links" }, "continued in ",
    ...ids.flatMap((next, index) => [index ? ", " : null, el("a", { href: "#/jobs/" + next, class: "continued-in" }, next)])
      .filter(Boolean)));
}

// Reads the SSE stream with fetch; reconnects from the last id it saw.
async function follow(id, view, alive, refresh, onState) {
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
        let ended = false;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const message = parseBlock(block);
          if (message.event === "end") { ended = true; break; }
          if (message.event === "stream_failed") throw new Error("the server could not go on");
          if (message.data) {
            const event = JSON.parse(message.data);
            last = event.seq;
            batch.push(event);
          }
        }
        // Read the states before the view takes the batch.
        const states = batch.filter((event) => event.kind === "status" && event.data && event.data.state);
        const phases = batch.filter((event) => event.kind === "status" && event.data && event.data.phase);
        const prompted = batch.some((event) => event.kind === "message" && event.data && event.data.role === "user");
        view.flush(batch);
        if (ended) { await refresh(); return; }
        if (states.length) onState(states[states.length - 1].data.state);
        else if (phases.length || prompted) onState(null);
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
