// The popup's "Model folders" section: the Scan button, the scan job's progress (and its Cancel), as the host's
// `jobs` lists it (kind "scan", SPEC §10). A scan hashes every model file in the folders ComfyUI
// searches and asks CivitAI which versions they are; afterwards the page's versions can show as
// "On disk, not in catalog" (Adopt) or "Found elsewhere". When a scan the popup watched ends,
// this tab's rows and its page's badges are asked for again.
//
// popup-downloads.js's refreshJobs hands the newest scan job over (showScanJob) and keeps asking
// while it runs; popup.js's ping hands over the folders a scan walks (showScanFolders). Uses
// popup-page.js's helpers (hostOp, pageEl, bytesText, refreshPage, tellTabToRefresh). All text
// goes in with textContent.
"use strict";

const SCAN_ACTIVE = new Set(["queued", "running"]);
const SCAN_SHOWN_PROBLEMS = 5;

const SCAN_PHASES = {
  queued: "Waiting to start…",
  walking: "Looking for model files…",
  identifying: "Asking CivitAI which versions the new files are…",
  saving: "Saving what it found…",
};

const scanView = { available: false, job: null, busy: false, canceling: false, watching: false, error: null };

function scanActive(job) {
  return Boolean(job && SCAN_ACTIVE.has(job.state));
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function scanProgressText(job) {
  if (job.state === "queued") return SCAN_PHASES.queued;
  if (job.phase === "hashing") {
    const total = typeof job.total === "number" && job.total > 0 ? job.total : null;
    const parts = [];
    if (total) parts.push(`${Math.floor((100 * (job.bytes || 0)) / total)}%`);
    if (typeof job.files_total === "number") parts.push(`file ${job.files || 0} of ${job.files_total}`);
    parts.push(total ? `${bytesText(job.bytes || 0)} of ${bytesText(total)}` : bytesText(job.bytes || 0));
    return `Hashing: ${parts.join(" · ")}`;
  }
  const said = SCAN_PHASES[job.phase] || "Scanning…";
  return job.phase === "walking" && job.files_total ? `${said} ${job.files_total} found` : said;
}

function scanWhen(job) {
  const when = new Date(Number(job.updated) * 1000);
  return Number.isNaN(when.getTime()) ? "" : ` (${when.toLocaleTimeString()})`;
}

function scanSummary(job) {
  if (job.state === "failed") {
    const error = job.error || {};
    return `The last scan failed${scanWhen(job)}: ${error.message || error.code || "no reason given"}`;
  }
  if (job.state === "canceled") return `The last scan was canceled${scanWhen(job)}.`;
  const result = job.result || {};
  const files = Number(result.files) || 0;
  const parts = [
    `Last scan${scanWhen(job)}: ${plural(files, "model file", "model files")}`,
    `${Number(result.hashed) || 0} hashed, ${Number(result.from_cache) || 0} unchanged`,
    `${plural(Number(result.versions_identified) || 0, "version", "versions")} identified by CivitAI`,
  ];
  const problems = Number(result.problem_count) || 0;
  if (problems) parts.push(plural(problems, "problem", "problems"));
  return `${parts.join(" · ")}.`;
}

function renderScan() {
  const section = document.getElementById("scan");
  section.hidden = !scanView.available;
  const job = scanView.job;
  const active = scanActive(job);
  const state = !job ? "none" : job.state;
  section.dataset.state = state;
  document.getElementById("scan-button").disabled = scanView.busy || active;

  const progress = document.getElementById("scan-progress");
  progress.hidden = !active;
  const bar = document.getElementById("scan-bar");
  if (active && job.phase === "hashing" && typeof job.total === "number" && job.total > 0) {
    bar.value = Math.min(1, (job.bytes || 0) / job.total);
  } else {
    bar.removeAttribute("value"); // indeterminate: queued, walking, identifying, saving
  }
  document.getElementById("scan-progress-text").textContent = active ? scanProgressText(job) : "";
  document.getElementById("scan-cancel-actions").hidden = !active;
  document.getElementById("scan-cancel").disabled = scanView.canceling;

  const text = document.getElementById("scan-text");
  const problems = document.getElementById("scan-problems");
  problems.replaceChildren();
  if (scanView.error) {
    text.textContent = scanView.error;
    text.dataset.kind = "error";
  } else if (!job) {
    text.textContent =
      "Scan your model folders to see, on civitai.com, which versions you already have (also files in no catalog) and where moved files are.";
    text.dataset.kind = "info";
  } else if (active) {
    text.textContent = "Scanning your model folders…";
    text.dataset.kind = "info";
  } else {
    text.textContent = scanSummary(job);
    text.dataset.kind = job.state === "done" ? "ok" : "error";
    const listed = (job.result && Array.isArray(job.result.problems) ? job.result.problems : []).slice(0, SCAN_SHOWN_PROBLEMS);
    problems.replaceChildren(...listed.map((problem) => pageEl("li", {}, String(problem))));
    const more = (Number(job.result && job.result.problem_count) || 0) - listed.length;
    if (listed.length && more > 0) problems.append(pageEl("li", { class: "more" }, `and ${more} more`));
  }
}

// Called with each `jobs` answer: `jobs` = the host's list, or null when the host has none.
function showScanJob(jobs) {
  scanView.available = Array.isArray(jobs);
  const scans = (jobs || []).filter((job) => job && job.kind === "scan");
  const job = scans.length ? scans[scans.length - 1] : null; // the host lists oldest first
  const ended = scanView.watching && !scanActive(job);
  scanView.job = job;
  scanView.watching = scanActive(job);
  renderScan();
  if (ended) {
    // what the scan found shows in this tab's rows and in its page's badges
    tellTabToRefresh();
    refreshPage();
  }
  return scanView.watching;
}

async function startScan() {
  if (scanView.busy) return;
  scanView.busy = true;
  scanView.error = null;
  renderScan();
  const answer = await hostOp("scan", {});
  scanView.busy = false;
  if (answer.ok) {
    if (answer.result && answer.result.job) {
      scanView.job = answer.result.job;
      scanView.watching = scanActive(scanView.job);
    }
  } else {
    scanView.error = answer.error.hint || answer.error.message;
  }
  renderScan();
  await refreshJobs(); // popup-downloads.js: follows the job until it ends
}

// Cancel: the host stops the scan at its next chunk and keeps what it hashed (the next scan
// takes those files from its cache). A not_found means it ended meanwhile: `jobs` then says how.
async function cancelScan() {
  if (scanView.canceling) return;
  scanView.canceling = true;
  scanView.error = null;
  renderScan();
  const answer = await hostOp("cancel", { kind: "scan" });
  scanView.canceling = false;
  if (!answer.ok && answer.error.code !== "not_found") scanView.error = answer.error.hint || answer.error.message;
  renderScan();
  await refreshJobs(); // popup-downloads.js: shows the canceled job
}

// From the host's `ping`: the folders a scan walks (per kind, as ComfyUI searches them) and any
// extra_model_paths file that could not be used. The host lists as many as fit in its reply and
// counts the others (`model_folders_left_out`, `model_paths_problems_left_out`).
function showScanFolders(ping) {
  const rows = [];
  for (const [kind, folders] of Object.entries(ping.model_folders || {})) {
    for (const folder of Array.isArray(folders) ? folders : []) rows.push(`${kind}: ${folder}`);
  }
  const more = Number(ping.model_folders_left_out) || 0;
  const details = document.getElementById("scan-folders");
  details.hidden = rows.length === 0;
  details.querySelector("summary").textContent = `Scans ${plural(rows.length + more, "folder", "folders")}`;
  const items = rows.map((row) => pageEl("li", {}, row));
  if (more) items.push(pageEl("li", { class: "more" }, `and ${more} more (catalog-host doctor lists them all)`));
  details.querySelector("ul").replaceChildren(...items);
  const said = document.getElementById("scan-config-problems");
  const listed = Array.isArray(ping.model_paths_problems) ? ping.model_paths_problems.map(String) : [];
  const problemItems = listed.map((problem) => pageEl("li", {}, problem));
  const unsaid = Number(ping.model_paths_problems_left_out) || 0;
  if (unsaid) problemItems.push(pageEl("li", { class: "more" }, `and ${unsaid} more`));
  said.replaceChildren(...problemItems);
}

document.getElementById("scan-button").addEventListener("click", startScan);
document.getElementById("scan-cancel").addEventListener("click", cancelScan);
