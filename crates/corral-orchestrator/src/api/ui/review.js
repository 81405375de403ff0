// Review of an ended branch-mode job: its change as text with a stat, and
// apply or discard. A change that writes a stored secret is applied only
// when the user says so, and the server's own words show on any refusal.
"use strict";

async function showReview(card, job) {
  const status = el("p", { class: "review-status" });
  const stat = el("div", { class: "stat" });
  const patch = el("pre", { class: "diff term" });
  const secrets = el("div", { class: "secrets", hidden: "" });
  const allow = el("input", { type: "checkbox", name: "allow_secrets" });
  const apply = el("button", { type: "button", class: "apply" }, "Apply");
  const discard = el("button", { type: "button", class: "discard danger" }, "Discard");
  const buttons = el("p", {}, apply, " ", discard);
  const where = job.isolation.branch ? "branch " + job.isolation.branch : "a patch";
  fill(card, el("h3", {}, "Changes"), el("p", { class: "dim" }, "This job worked on its own copy (" + where + "); apply writes its change into " + (job.project || "the project") + "."),
    stat, secrets, buttons, status, patch);
  card.hidden = false;
  const say = (text, bad) => { setText(status, text); status.className = "review-status" + (bad ? " error" : ""); };

  // What the user already did with it, as the server recorded it.
  const reviewed = job.isolation.reviewed;
  if (reviewed) {
    say(reviewed.outcome === "applied"
      ? "applied " + utc(reviewed.at) + ": the change is in " + (job.project || "the project")
      : "discarded " + utc(reviewed.at) + ": the job's copy is gone");
    apply.disabled = true;
    if (reviewed.outcome === "discarded") { discard.disabled = true; patch.hidden = true; return; }
  }

  let diff = null;
  try {
    diff = await api("GET", `/v1/jobs/${job.id}/diff`);
  } catch (error) {
    say(error.message, true);
  }
  if (diff) {
    fill(stat, ...diffStat(diff));
    setText(patch, diff.patch || "");
    patch.hidden = !diff.patch;
    if (diff.secrets && diff.secrets.length) {
      fill(secrets, el("p", { class: "ev-warning" },
        "This change writes stored secrets into the project: " + diff.secrets.join(", ") + "."),
      el("label", {}, allow, " apply it anyway, secrets included"));
      secrets.hidden = false;
    }
  } else {
    patch.hidden = true;
  }

  // A change the page does not show all of (a file git calls binary,
  // which it also calls a text file past 1 MiB; a diff cut short; no diff
  // at all) could hide what it writes: the first click says so, the
  // second applies.
  const files = diff ? diff.files || [] : [];
  const unseen = !diff || files.some(notShown) || (diff.patch || "").includes("[corral: the diff is cut");
  let warned = !unseen;
  // The second click counts only after a pause, so a double click is not
  // a yes.
  let warnedAt = 0;
  apply.addEventListener("click", async () => {
    if (!warned || Date.now() - warnedAt < 700) {
      if (!warned) warnedAt = Date.now();
      warned = true;
      setText(apply, "Apply all of it?");
      say("Part of this change is not shown here (" + (diff ? "files marked not shown, or a diff cut short" : "the diff did not load")
        + "): read it on the job's branch or in its patch first. Click again to apply all of it.", true);
      return;
    }
    const query = allow.checked ? "?allow_secrets=true" : "";
    try {
      await api("POST", `/v1/jobs/${job.id}/apply${query}`);
      setText(apply, "Apply");
      say("applied to " + (job.project || "the project"));
      apply.disabled = true;
      discard.disabled = true;
    } catch (error) { say(error.message, true); }
  });
  // Discarding cannot be undone: the first click asks, the second does it.
  let armed = false;
  discard.addEventListener("click", async () => {
    if (!armed) { armed = true; setText(discard, "Discard for good?"); return; }
    try {
      const answer = await api("POST", `/v1/jobs/${job.id}/discard`);
      say(answer && answer.review === "applied"
        ? "removed the job's copy; its change was applied and stays in the project"
        : "discarded: the job's copy is gone");
      apply.disabled = true;
      discard.disabled = true;
      patch.hidden = true;
    } catch (error) { say(error.message, true); armed = false; setText(discard, "Discard"); }
  });
}

/** `3 files changed, +10 −2`, then a line per file. */
function diffStat(diff) {
  const files = diff.files || [];
  if (files.length === 0) return [el("p", { class: "dim" }, "no changes")];
  const added = files.reduce((sum, file) => sum + (file.added || 0), 0);
  const removed = files.reduce((sum, file) => sum + (file.removed || 0), 0);
  const lines = files.map((file) => el("div", { class: "file" },
    el("code", {}, file.path), " ",
    notShown(file)
      ? el("span", { class: "dim" }, "not shown: binary, or text over 1 MiB")
      : el("span", {}, el("span", { class: "added" }, "+" + file.added), " ", el("span", { class: "removed" }, "−" + (file.removed || 0)))));
  return [el("p", { class: "summary" }, `${files.length} file${files.length === 1 ? "" : "s"} changed, +${added} −${removed}`), ...lines];
}

/** Whether git gave no line counts for a file: binary, or past 1 MiB. */
function notShown(file) {
  return file.added === null || file.added === undefined;
}
