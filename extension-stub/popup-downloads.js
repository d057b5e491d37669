// The popup's "Downloads" section: every download the host knows of (`jobs {}`: the unfinished
// ones and those of the last 24 h), whichever page started it, with its progress, the failure in
// words, Cancel and Retry. Shown only when there is at least one. First asked by popup.js's host check
// (so `body[data-checked]` means that check's requests were all answered). Uses popup-page.js's
// helpers (hostOp, pageEl, progressText, jobErrorText, refreshPage, tellTabToRefresh,
// ACTIVE_JOB, POLL_MS); scan jobs go to popup-scan.js (showScanJob).
"use strict";

const JOB_STATES = {
  queued: "Queued",
  downloading: "Downloading",
  verifying: "Verifying",
  done: "Done",
  failed: "Failed",
  canceled: "Canceled",
};

const jobsView = { jobs: [], leftOut: 0, busy: new Set(), refreshes: 0, answers: 0, pollTimer: null };

function renderJobs() {
  const section = document.getElementById("downloads");
  const list = document.getElementById("jobs");
  const jobs = jobsView.jobs;
  section.hidden = jobs.length === 0;
  // newest first: what the person just started is on top
  const rows = [...jobs].reverse().map((job) => {
    const vid = String(job.version_id);
    const state = JOB_STATES[job.state] ? job.state : "queued";
    const row = pageEl("li", { class: "job", "data-version-id": vid });
    const head = pageEl("div", { class: "head" });
    head.append(pageEl("span", { class: "name" }, `${job.dest ? `${job.dest}/` : ""}${job.file || `version ${vid}`}`));
    head.append(pageEl("span", { class: `badge ${state}`, "data-state": state }, JOB_STATES[state]));
    row.append(head);
    if (ACTIVE_JOB.has(state)) {
      const progress = pageEl("div", { class: "progress" });
      const bar = pageEl("progress", { max: "1" });
      if (state === "downloading" && typeof job.total === "number" && job.total > 0) {
        bar.value = Math.min(1, (job.bytes || 0) / job.total);
      } else if (state === "verifying") {
        bar.value = 1;
      }
      progress.append(bar, pageEl("span", { class: "progress-text" }, progressText(job)));
      row.append(progress);
      row.append(jobButton(vid, "cancel", "Cancel"));
    } else if (state === "failed") {
      row.append(jobButton(vid, "retry", "Retry download"));
      row.append(pageEl("p", { class: "message error", "data-kind": "error" }, jobErrorText(job)));
    }
    return row;
  });
  list.replaceChildren(...rows);
  // the host lists the unfinished and the newest ended jobs that fit one reply; it counts the rest
  const leftOut = document.getElementById("jobs-left-out");
  leftOut.hidden = jobsView.leftOut === 0;
  leftOut.textContent = jobsView.leftOut === 0 ? "" : `${jobsView.leftOut} older jobs of the last 24 h are not listed.`;
  document.body.dataset.jobsBusy = String(jobsView.busy.size);
}

function jobButton(vid, action, label) {
  const actions = pageEl("div", { class: "actions" });
  const button = pageEl("button", { type: "button", "data-action": action }, label);
  button.disabled = jobsView.busy.has(vid);
  button.addEventListener("click", () => jobAction(action, vid));
  actions.append(button);
  return actions;
}

async function refreshJobs() {
  const seq = ++jobsView.refreshes;
  clearTimeout(jobsView.pollTimer);
  const answer = await hostOp("jobs", {});
  if (seq !== jobsView.refreshes) return;
  jobsView.answers += 1;
  // a host without downloads (older version) answers unknown_op: no section, nothing to poll
  const listed = answer.ok && Array.isArray(answer.result.jobs) ? answer.result.jobs : null;
  const jobs = listed || [];
  jobsView.jobs = jobs.filter((job) => job && job.kind === "download");
  const leftOut = listed ? answer.result.left_out : 0;
  jobsView.leftOut = Number.isInteger(leftOut) && leftOut > 0 ? leftOut : 0;
  renderJobs();
  const scanning = showScanJob(listed); // popup-scan.js: the newest scan job
  document.body.dataset.jobs = String(jobsView.answers);
  if (scanning || jobsView.jobs.some((job) => ACTIVE_JOB.has(job.state))) {
    jobsView.pollTimer = setTimeout(refreshJobs, POLL_MS);
  }
}

// Cancel (a not_found means it ended meanwhile: the list then says how), or retry a failed one
// (`download` queues it again and resumes its partial file).
async function jobAction(action, vid) {
  if (jobsView.busy.has(vid)) return;
  jobsView.busy.add(vid);
  renderJobs();
  await hostOp(action === "retry" ? "download" : "cancel", { version_id: vid });
  jobsView.busy.delete(vid);
  tellTabToRefresh();
  refreshPage(); // the row of this version, if it is on this page
  await refreshJobs();
}
