// The popup's "This page" section (its helpers for sizes, progress and job errors are also used
// by popup-downloads.js): the versions the active tab's content script found on its
// civitai.com model page, their state in the catalog, and every action that changes the catalog
// or the models folder (Add, Add & download, Download, Cancel, Promote, Remove, Adopt).
//
// These actions live here, in extension UI, because a web page can hide, cover, move or fake
// anything drawn inside it (a transparent panel over a lure turns a click into an add nobody
// saw). The page only decides *which* version ids are listed (it could list any), never what a
// click here does; every id is shown. All text goes in with textContent.
"use strict";

const pageApi = globalThis.browser ?? globalThis.chrome; // Firefox, else Chrome

const ACTIVE_JOB = new Set(["queued", "downloading", "verifying"]);
const POLL_MS = 1000; // while a download runs, ask the host again this often

const STATES = {
  present: { text: "Downloaded", title: "In your catalog and the file is on disk" },
  missing: { text: "In catalog", title: "In your catalog; the file is not on disk" },
  queued: { text: "Queued", title: "Waiting for its turn to download" },
  downloading: { text: "Downloading", title: "The file is being downloaded" },
  verifying: { text: "Verifying", title: "Checking the downloaded file's SHA256" },
  failed: { text: "Download failed", title: "The download stopped; see why below" },
  elsewhere: { text: "Found elsewhere", title: "In your catalog; its file is not where the entry says, but a file with its SHA256 is" },
  untracked: { text: "On disk, not in catalog", title: "The last scan found its file on disk; it is in no catalog" },
  other: { text: "Other version in catalog", title: "Another version of this model is in your catalog" },
  absent: { text: "Not in catalog", title: "Not in your catalog" },
  unknown: { text: "Host unavailable", title: "The catalog host could not be asked" },
};

const LABELS = {
  add: "Add",
  add_download: "Add & download",
  download: "Download",
  retry: "Retry download",
  cancel: "Cancel",
  promote: "Promote",
  remove: "Remove",
  adopt: "Adopt",
};

// SPEC §9 job error codes -> what a person can do about it (when the host gave no message).
const JOB_ERRORS = {
  login_required:
    "CivitAI wants a logged-in download for this file: set your CivitAI API key (civitai_api_key in the host's config, or CIVITAI_API_KEY), then retry.",
  early_access:
    "This version is in early access: wait until it opens to everyone (or get access on civitai.com), then retry.",
  no_access:
    "CivitAI refused this download: check on civitai.com that your account may download it and that your API key is set, then retry.",
  gone: "CivitAI no longer has this file (the version was removed or archived).",
  rate_limited: "CivitAI asks to slow down: wait a few minutes, then retry.",
  not_a_model_file:
    "CivitAI sent a web page instead of the model file (often a login page): set your API key, then retry. Nothing was saved.",
  hash_mismatch: "The downloaded file did not match CivitAI's SHA256 and was deleted: retry.",
  size_mismatch: "The downloaded file did not have the expected size and was deleted: retry.",
  disk_full: "Not enough free space in your models folder: free some space, then retry.",
  file_exists:
    "A different file already has this name in your models folder: move or rename it, then retry.",
  network:
    "The connection kept failing: check your connection, then retry (the download resumes where it stopped).",
  write_failed:
    "The file could not be written in your models folder (permissions?): fix that, then retry.",
  file_not_on_civitai:
    "The catalog entry names a file this version does not have on CivitAI: remove the entry and add the version again.",
};

const pageView = {
  tabId: null,
  page: null, // {modelId, versions: [{id, name, baseModel}], current}
  lookup: null, // {by_version, by_model}
  error: null, // of the last failed lookup
  messages: new Map(), // version id -> {kind, text}
  busy: new Set(), // version ids with an action in flight
  refreshes: 0,
  lookups: 0,
  pollTimer: null,
};

function pageEl(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

async function askBackground(message) {
  try {
    const answer = await pageApi.runtime.sendMessage(message);
    return answer || { ok: false, error: { code: "no_answer", message: "no answer", hint: "The extension did not answer." } };
  } catch (e) {
    const text = String(e && e.message ? e.message : e);
    return { ok: false, error: { code: "extension_error", message: text, hint: text } };
  }
}

function hostOp(op, params) {
  return askBackground({ type: "host", op, params });
}

function entryOf(vid) {
  return (pageView.lookup && (pageView.lookup.by_version || {})[vid]) || null;
}

function stateOf(vid) {
  if (!pageView.lookup) return "unknown";
  const entry = entryOf(vid);
  if (entry) return STATES[entry.status] ? entry.status : "missing";
  const siblings = (pageView.lookup.by_model || {})[pageView.page.modelId] || [];
  return siblings.length ? "other" : "absent";
}

function isLoraInModels(entry) {
  const dest = String(entry.dest || "");
  return entry.catalog === "models" && (dest === "loras" || dest.startsWith("loras/"));
}

function actionsFor(vid) {
  const state = stateOf(vid);
  const entry = entryOf(vid);
  switch (state) {
    case "absent":
    case "other":
      return ["add", "add_download"];
    case "missing":
      return ["download", ...(isLoraInModels(entry) ? ["promote"] : []), "remove"];
    case "failed":
      return ["retry", ...(isLoraInModels(entry) ? ["promote"] : []), "remove"];
    case "queued":
    case "downloading":
    case "verifying":
      return ["cancel"];
    case "present":
      return isLoraInModels(entry) ? ["promote"] : [];
    case "untracked":
      return ["adopt"];
    case "elsewhere": // downloading it again would be a second copy: move the file, or Remove
      return [...(isLoraInModels(entry) ? ["promote"] : []), "remove"];
    default:
      return [];
  }
}

// --- sizes and progress -------------------------------------------------------------------------

function bytesText(n) {
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function progressText(job) {
  if (job.state === "queued") return "Waiting to start…";
  if (job.state === "verifying") return "Checking the file's SHA256…";
  const total = typeof job.total === "number" && job.total > 0 ? job.total : null;
  const parts = [];
  if (total) parts.push(`${Math.floor((100 * (job.bytes || 0)) / total)}%`);
  parts.push(total ? `${bytesText(job.bytes || 0)} of ${bytesText(total)}` : bytesText(job.bytes || 0));
  if (typeof job.rate === "number" && job.rate > 0) parts.push(`${bytesText(job.rate)}/s`);
  return parts.join(" · ");
}

// The host's message already says what to do (SPEC §9); the table is for a host that sent
// only a code.
function jobErrorText(job) {
  const error = (job && job.error) || {};
  return (error.message && String(error.message)) || JOB_ERRORS[error.code] || "The download failed.";
}

// A lookup answered from one catalog because the other could not be read (`catalog_errors`).
function unreadableText(result) {
  const errors = result && result.catalog_errors;
  if (!errors || typeof errors !== "object") return "";
  return Object.entries(errors)
    .map(([name, why]) => {
        const said = String(why);
        return `Left out of these badges: ${said.includes(`${name}.json`) ? said : `${name}.json: ${said}`}`;
      })
    .join(" ");
}

// --- results of actions -------------------------------------------------------------------------

function describeResult(op, result) {
  switch (result.status) {
    case "added":
      return { kind: "ok", text: `Added "${result.name}" → ${result.dest}/${result.file}` };
    case "promoted":
      return { kind: "ok", text: `Promoted ${result.file} to style LoRAs (${result.category})` };
    case "removed":
      return { kind: "ok", text: `Removed ${result.file} from ${result.catalog}.json` };
    case "adopted":
      return { kind: "ok", text: `Adopted "${result.name}" → ${result.dest}/${result.file}` };
    case "already_exists":
      return { kind: "info", text: `Already in the catalog: ${result.file}` };
    case "restricted":
      return { kind: "error", text: `Not ${op === "download" ? "downloaded" : "added"}: ${result.reason}` };
    case "queued": // these two say what is going on only while it goes on
      return { kind: "ok", text: `Download queued: ${result.dest}/${result.file}`, whileActive: true };
    case "already_present":
      return { kind: "info", text: `Already on disk: ${result.dest}/${result.file}` };
    case "already_queued":
      return { kind: "info", text: "Already downloading.", whileActive: true };
    case "canceled":
      return { kind: "ok", text: "Download canceled; the partial file was deleted." };
    default:
      return { kind: "info", text: `${op}: ${result.status}` };
  }
}

// Where the file is, for the states whose file is not at the entry's place.
const PATH_LABELS = { untracked: "On disk", elsewhere: "Found at" };

const WORKING = {
  add: "Adding…",
  add_download: "Adding and queueing the download…",
  download: "Queueing the download…",
  retry: "Queueing the download…",
  cancel: "Canceling…",
  promote: "Promoting…",
  remove: "Removing…",
  adopt: "Adopting…",
};

async function act(action, vid) {
  if (pageView.busy.has(vid)) return;
  const entry = entryOf(vid);
  let op;
  let params = { version_id: vid };
  if (action === "add") op = "add";
  else if (action === "add_download" || action === "download" || action === "retry") op = "download";
  else if (action === "cancel") op = "cancel";
  else if (action === "promote") op = "promote";
  else if (action === "adopt") op = "adopt";
  else if (action === "remove") {
    if (!entry) return; // the state changed under the click
    op = "remove";
    params = { file: entry.file, dest: entry.dest };
  } else return;
  pageView.busy.add(vid);
  pageView.messages.set(vid, { kind: "info", text: WORKING[action] });
  renderPage();
  if (op === "remove" && stateOf(vid) === "failed") {
    // a failed download may have left a partial file (kept so that a retry resumes): the
    // entry goes, so does its partial file (cancel deletes it; never the model file itself)
    await hostOp("cancel", { version_id: vid });
  }
  const answer = await hostOp(op, params);
  pageView.busy.delete(vid);
  pageView.messages.set(vid, describeAnswer(op, answer));
  tellTabToRefresh();
  if (typeof refreshJobs === "function") refreshJobs(); // popup-downloads.js
  await refreshPage();
}

function describeAnswer(op, answer) {
  if (answer.ok) return describeResult(op, answer.result);
  if (op === "cancel" && answer.error.code === "not_found") {
    return { kind: "info", text: "No download to cancel: it had already finished or stopped." };
  }
  if (op === "adopt" && answer.error.code === "not_found") {
    return { kind: "error", text: "The file is no longer where the last scan found it: scan again." };
  }
  return { kind: "error", text: answer.error.hint || answer.error.message };
}

// The page's badges follow what was done here (the tab's content script asks the host again).
function tellTabToRefresh() {
  if (pageView.tabId === null) return;
  pageApi.tabs.sendMessage(pageView.tabId, { type: "refresh" }, { frameId: 0 }).catch(() => {
    // the tab navigated away or has no content script: nothing to refresh
  });
}

// --- drawing ------------------------------------------------------------------------------------

function setPageNotice(text) {
  const notice = document.getElementById("page-notice");
  notice.hidden = !text;
  notice.textContent = text || "";
}

// The entry names a file that is not there; a file with the entry's SHA256 is elsewhere (moved,
// renamed by a browser). ComfyUI loads it by the entry's name only once it is at that place.
function elsewhereAdvice(entry) {
  const shown = `${entry.dest ? `${entry.dest}/` : ""}${entry.file}`;
  return { kind: "info", text: `Not at ${shown}: move or rename the file found to that name, or Remove the entry.` };
}

function renderRow(version, current) {
  const vid = version.id;
  const state = stateOf(vid);
  const entry = entryOf(vid);
  const row = pageEl("li", { class: `version${vid === current ? " current" : ""}`, "data-version-id": vid });
  const head = pageEl("div", { class: "head" });
  head.append(pageEl("span", { class: "name" }, version.name || `Version ${vid}`));
  head.append(pageEl("span", { class: `badge ${state}`, "data-state": state, title: STATES[state].title }, STATES[state].text));
  row.append(head);
  const meta = [`#${vid}`];
  if (version.baseModel) meta.push(version.baseModel);
  if (entry && entry.catalog) meta.push(`${entry.catalog}.json · ${entry.dest ? `${entry.dest}/` : ""}${entry.file}`);
  row.append(pageEl("div", { class: "meta" }, meta.join(" · ")));
  const where = PATH_LABELS[state];
  if (where) row.append(pageEl("div", { class: "path", "data-state": state }, `${where}: ${entry.path || entry.file}`));

  const job = entry && entry.job;
  const progress = pageEl("div", { class: "progress" });
  progress.hidden = !(job && ACTIVE_JOB.has(state));
  if (job && ACTIVE_JOB.has(state)) {
    const bar = pageEl("progress", { max: "1" });
    if (state === "downloading" && typeof job.total === "number" && job.total > 0) {
      bar.value = Math.min(1, (job.bytes || 0) / job.total);
    } else if (state === "verifying") {
      bar.value = 1;
    } // queued, or no total: an indeterminate bar
    progress.append(bar, pageEl("span", { class: "progress-text" }, progressText(job)));
  }
  row.append(progress);

  const actions = actionsFor(vid);
  if (actions.length) {
    const bar = pageEl("div", { class: "actions" });
    for (const action of actions) {
      const button = pageEl("button", { type: "button", "data-action": action }, LABELS[action]);
      if (pageView.busy.has(vid)) button.disabled = true;
      button.addEventListener("click", () => act(action, vid));
      bar.append(button);
    }
    row.append(bar);
  }
  const message =
    state === "failed" && !pageView.busy.has(vid)
      ? { kind: "error", text: jobErrorText(job) }
      : pageView.messages.get(vid) || (state === "elsewhere" ? elsewhereAdvice(entry) : null);
  if (message) row.append(pageEl("p", { class: `message ${message.kind}`, "data-kind": message.kind }, message.text));
  return row;
}

function renderPage() {
  const section = document.getElementById("page");
  const list = document.getElementById("versions");
  document.body.dataset.busy = String(pageView.busy.size);
  if (!pageView.page) {
    section.dataset.state = "none";
    document.getElementById("page-title").textContent = "This page";
    setPageNotice("Open a model page on civitai.com: its versions show here, with Add and Download.");
    list.replaceChildren();
    return;
  }
  section.dataset.state = "ready";
  document.getElementById("page-title").textContent = `Model #${pageView.page.modelId} on this page`;
  setPageNotice(pageView.error ? pageView.error.hint || pageView.error.message : unreadableText(pageView.lookup));
  list.replaceChildren(...pageView.page.versions.map((v) => renderRow(v, pageView.page.current)));
}

// --- asking -------------------------------------------------------------------------------------

async function refreshPage() {
  const seq = ++pageView.refreshes;
  clearTimeout(pageView.pollTimer);
  if (!pageView.page) return renderPage();
  const answer = await hostOp("lookup", {
    version_ids: pageView.page.versions.map((v) => v.id),
    model_ids: [pageView.page.modelId],
  });
  if (seq !== pageView.refreshes) return; // a newer refresh supersedes this one
  pageView.lookups += 1;
  if (answer.ok) {
    pageView.lookup = answer.result;
    pageView.error = null;
  } else {
    pageView.lookup = null;
    pageView.error = answer.error;
  }
  for (const [vid, message] of pageView.messages) {
    if (message.whileActive && !pageView.busy.has(vid) && !ACTIVE_JOB.has(stateOf(vid))) pageView.messages.delete(vid);
  }
  renderPage();
  document.body.dataset.lookups = String(pageView.lookups);
  const active = pageView.page.versions.some((v) => ACTIVE_JOB.has(stateOf(v.id)));
  if (active) pageView.pollTimer = setTimeout(refreshPage, POLL_MS);
}

async function loadPage() {
  try {
    const [tab] = await pageApi.tabs.query({ active: true, currentWindow: true });
    pageView.tabId = tab ? tab.id : null;
    const answer = tab ? await askBackground({ type: "tabPage", tabId: tab.id }) : null;
    pageView.page = (answer && answer.ok && answer.page) || null;
  } catch (e) {
    pageView.page = null;
  }
  await refreshPage();
  document.body.dataset.page = pageView.page ? "ready" : "none";
}

loadPage();
