// corral's web UI: plain JavaScript, no build step, no CDN. core.js holds
// the API client and formats, list.js the job list, job.js and events.js a
// job's page, review.js a branch-mode job's review, form.js the new-job
// form, sandboxes.js the sandboxes view; this file routes between them.
"use strict";

function route() {
  if (stopFollowing) { stopFollowing(); stopFollowing = null; }
  if (!token()) { showSignIn(); return; }
  document.getElementById("signout").hidden = false;
  const hash = location.hash || "#/";
  const job = hash.match(/^#\/jobs\/(j-[0-9a-f]{16})$/);
  if (job) showJob(job[1]);
  else if (hash === "#/new") showNew();
  else if (hash === "#/sandboxes") showSandboxes();
  else {
    const { before, state } = listRoute(hash);
    showJobs(before, state);
  }
}

document.getElementById("signout").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
route();
