// A job's events as the page shows them, each with its time. Output is
// merged into terminal boxes that follow new text while the reader is at
// their bottom (and leave the view alone once they scroll up); a tool's
// streamed output goes inside that tool, which then gives only its status.
"use strict";

/** Whether a scrolling box shows its last line (a new, empty box does). */
function atBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight <= 4;
}

class EventView {
  constructor(stream, usage) {
    this.stream = stream;
    this.usage = usage;
    /** The terminal box that output goes to next, outside any tool. */
    this.terminal = null;
    /** Tool calls by id: their <details>, their own terminal, whether output streamed. */
    this.tools = new Map();
    /** The tool call whose result has not come yet: its output goes inside it. */
    this.running = null;
    /** Everything the job's processes wrote, for copy and download. */
    this.output = "";
    this.totals = { calls: 0, input: 0, output: 0, cost: 0 };
    /** Boxes written to in this flush, and whether each was scrolled to its end before. */
    this.touched = new Map();
  }

  note(text) { this.stream.append(el("div", { class: "ev-warning" }, text)); }

  flush(events) {
    if (events.length === 0) return;
    const followPage = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    const fragment = document.createDocumentFragment();
    for (const event of events) this.render(event, fragment);
    this.stream.append(fragment);
    for (const [box, stuck] of this.touched) if (stuck) box.scrollTop = box.scrollHeight;
    this.touched.clear();
    if (followPage) window.scrollTo(0, document.body.scrollHeight);
    const t = this.totals;
    setText(this.usage, t.calls ? `model: ${t.calls} calls, ${t.input} tokens in, ${t.output} out` +
      (t.cost ? `, $${t.cost.toFixed(4)}` : "") : "");
  }

  /** A terminal box to append to, noting whether it was at its bottom. */
  box(pre) {
    if (!this.touched.has(pre)) this.touched.set(pre, atBottom(pre));
    return pre;
  }

  outputEvent(event, data, into) {
    const text = data.text || "";
    this.output += text;
    const span = el("span", { class: data.stream === "stderr" ? "stderr" : null, title: clock(event.ts) }, text);
    const tool = this.running;
    if (tool) {
      if (!tool.terminal) {
        tool.terminal = el("pre", { class: "term" });
        tool.details.insertBefore(tool.terminal, tool.result);
        tool.details.open = true;
      }
      this.box(tool.terminal).append(span);
      return;
    }
    if (!this.terminal) {
      this.terminal = el("pre", { class: "term" });
      into.append(el("div", { class: "ev out" }, stamp(event), this.terminal));
    }
    this.box(this.terminal).append(span);
  }

  render(event, into) {
    const data = event.data || {};
    if (event.kind === "output") { this.outputEvent(event, data, into); return; }
    this.terminal = null;
    const line = (cls, ...children) => into.append(el("div", { class: "ev " + cls }, stamp(event), ...children));
    switch (event.kind) {
      case "status":
        if (data.state) line("ev-status", data.state + (data.reason ? ` (${data.reason})` : ""));
        else line("ev-status phase", String(data.text || data.phase || ""));
        break;
      case "message":
        line("ev-message " + (data.role === "user" || data.role === "system" ? data.role : "assistant"),
          el("div", { class: "text" }, typeof data.text === "string" ? data.text : JSON.stringify(data)));
        break;
      case "tool_call": this.toolCall(event, data, into); break;
      case "tool_result": this.toolResult(event, data, into); break;
      case "llm_usage":
        this.totals.calls += 1;
        this.totals.input += data.input_tokens || 0;
        this.totals.output += data.output_tokens || 0;
        this.totals.cost += data.cost_usd || 0;
        break;
      case "result":
        line("ev-message system", "result: " + String(data.summary || data.status || ""));
        break;
      case "exec_started": {
        const cmd = Array.isArray(data.cmd) ? data.cmd.join(" ") : String(data.cmd || "");
        line("ev-status exec", `exec ${data.exec} in ${data.cwd}: ${cmd}`);
        break;
      }
      case "exec_ended": {
        const code = data.exit_code === null || data.exit_code === undefined ? "no exit code" : "exit code " + data.exit_code;
        const took = typeof data.duration_ms === "number" ? ", " + duration(data.duration_ms / 1000) : "";
        line(data.exit_code === 0 ? "ev-status exec" : "ev-warning exec",
          `exec ${data.exec} ended: ${code}${took}${data.timed_out ? " (timed out)" : ""}${data.reason ? ": " + data.reason : ""}`);
        break;
      }
      case "warning": line("ev-warning", "warning: " + String(data.message || "")); break;
      case "error": line("ev-error", "error: " + String(data.message || "")); break;
      case "network": {
        const where = `${data.host}:${data.port}`;
        const text = data.allowed
          ? `network ${where} (${data.mode || "?"}, ${data.bytes_up || 0} up, ${data.bytes_down || 0} down)`
          : `network DENIED ${where}`;
        line(data.allowed ? "dim" : "ev-warning", text + (data.reason ? `: ${data.reason}` : ""));
        break;
      }
      default:
        line("dim", event.kind + " " + JSON.stringify(data));
    }
  }

  toolCall(event, data, into) {
    const state = el("span", { class: "tool-state dim" }, " running…");
    const result = el("pre", { class: "result", hidden: "" });
    const details = el("details", { class: "tool" },
      el("summary", {}, el("span", { class: "ts" }, clock(event.ts)), `${data.name} ${short(data.arguments)}`, state),
      el("pre", { class: "arguments" }, JSON.stringify(data.arguments, null, 2)), result);
    const tool = { details, state, result, terminal: null };
    this.tools.set(data.id, tool);
    this.running = tool;
    into.append(details);
  }

  // The result: its whole text, unless the tool's output streamed into it
  // already; then only the result's first line (the exit status), once.
  toolResult(event, data, into) {
    const output = String(data.output || "");
    const ok = data.ok !== false;
    let tool = this.tools.get(data.id);
    if (!tool) {
      this.toolCall(event, { name: data.name || "result", arguments: "" }, into);
      tool = this.running;
    }
    if (this.running === tool) this.running = null;
    const took = typeof data.duration_ms === "number" ? ", " + duration(data.duration_ms / 1000) : "";
    setText(tool.state, ` ${ok ? "ok" : "failed"}${took}`);
    if (!ok) tool.details.classList.add("failed");
    setText(tool.result, tool.terminal ? output.split("\n")[0] : output);
    tool.result.hidden = false;
  }
}

/** The time beside an event. */
function stamp(event) { return el("span", { class: "ts" }, clock(event.ts)); }

function short(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 90 ? text.slice(0, 90) + "…" : text;
}
