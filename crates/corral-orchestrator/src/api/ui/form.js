// The new-job form: every field maps to the API's job spec; the server
// checks it and its words show on a refusal.
"use strict";

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
    } catch (error) { setText(form.querySelector(".error"), error.message); }
  });
  main.replaceChildren(form);
}
