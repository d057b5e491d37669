// Service worker of the catalog-host extension stub: the only part that talks to the host.
//
// Requests go over one persistent `connectNative` port (one host process for many requests);
// when the port breaks (the host exited, crashed or was never started) the request is retried
// once with `sendNativeMessage` (one host process per message), and the next request opens a
// fresh port. Content scripts and the popup reach the host only through this file, with
// `api.runtime.sendMessage({type: "host", op, params})`; it answers
// `{ok: true, result}` or `{ok: false, error: {code, message, hint}}` where `hint` says in
// plain words what a person can do about it.
//
// Who may ask for what: a civitai.com page is hostile ground (its scripts and styles can hide,
// cover or fake anything drawn in it), so content scripts may only *read* (`lookup`) and
// report which versions their page shows (`{type: "page"}`). Everything that changes the
// catalog or starts a download is asked by the popup, extension UI the page cannot touch.
"use strict";

// One folder runs in Chrome and Firefox: Firefox's `browser` namespace returns promises, and so
// does Chrome's `chrome` in MV3 when no callback is given. Only the promise forms are used.
const api = globalThis.browser ?? globalThis.chrome;

const HOST_NAME = "com.civitai_catalog.host";
// `add` waits for the CivitAI API (the host retries 429/5xx within its own bound).
// `download` may first add the version (same CivitAI call as `add`); so does `adopt`.
const TIMEOUT_MS = { add: 60000, download: 60000, adopt: 60000, default: 15000 };
// An open port keeps both the service worker and a host process alive; let them sleep after
// this long without a request. The next request reconnects.
const PORT_IDLE_MS = 5 * 60 * 1000;
// What each kind of sender may ask for. Content scripts run on civitai.com pages: read only.
const CONTENT_OPS = new Set(["lookup"]);
const EXTENSION_PAGE_OPS = new Set([
  "ping", "lookup", "map", "jobs", "add", "promote", "remove", "download", "cancel", "scan", "adopt",
]);
// What a content script may report about its page (a hostile page chooses what is on it).
const PAGE_MAX_VERSIONS = 200;
const PAGE_MAX_TEXT = 120;

// The browsers' own error texts -> our codes. Chrome's are stable since Chrome 29; Firefox says
// "No such native application" both for a missing host and for one whose manifest does not list
// this add-on's id (`python -m host doctor` tells the two apart).
const CHROME_ERRORS = [
  ["Specified native messaging host not found.", "host_not_installed"],
  ["No such native application", "host_not_installed"],
  ["Access to the specified native messaging host is forbidden.", "host_forbidden"],
  ["Native host has exited.", "host_exited"],
  ["Error when communicating with the native messaging host.", "host_communication"],
];
// Errors the fallback channel cannot fix: retrying would only start another doomed process
// (or, after a timeout, make the person wait twice as long for a host that is still busy).
const NO_RETRY = new Set(["host_not_installed", "host_forbidden", "forbidden_origin", "host_timeout"]);

class NativeError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

function chromeErrorCode(message) {
  for (const [text, code] of CHROME_ERRORS) {
    if (message && message.includes(text)) return code;
  }
  return "host_unavailable";
}

// --- plain-words hints ------------------------------------------------------------------------

function hintFor(code, message) {
  const id = api.runtime.id;
  const hints = {
    host_not_installed:
      "Host not installed: run install/install.sh (Windows: install\\install.ps1), then try again.",
    host_forbidden:
      `Host installed but not for this extension: run install/install.sh --extension-id ${id} again.`,
    forbidden_origin:
      `The host refuses this extension (id ${id}): run install/install.sh --extension-id ${id} again.`,
    host_exited:
      "The host stopped before answering: run `python -m host doctor` and look at its log.",
    host_communication:
      "The browser could not talk to the host (broken launcher or stray output): run `python -m host doctor`.",
    host_timeout: "The host did not answer in time: try again; if it keeps happening run `python -m host doctor`.",
    host_unavailable: `The host could not be reached: ${message}`,
    catalog_corrupt:
      "A catalog file is damaged and was left untouched: fix it or restore the backup beside it.",
    catalog_busy: "The catalog is busy (another program is writing it): try again in a moment.",
    catalog_write_failed: "The catalog could not be saved (disk full or no permission); nothing changed.",
    civitai_unreachable: "CivitAI could not be reached: check your connection and try again.",
    civitai_not_found:
      "CivitAI does not know this version (a version published minutes ago can take a while): try again later.",
    civitai_http_error: `CivitAI answered with an error: ${message}`,
    civitai_bad_response: "CivitAI sent an answer the host could not read: try again later.",
    unsupported_type: `This kind of model cannot go into a ComfyUI catalog: ${message}`,
    file_on_disk: "The file is on disk: delete the file first, then remove the entry.",
    not_found: "That entry is no longer in the catalog.",
    not_a_lora: "Only LoRAs can be promoted to the style-LoRA catalog.",
  };
  return hints[code] || message || code;
}

// --- last error, kept across service-worker restarts ------------------------------------------

async function recordError(op, channel, error) {
  const lastError = {
    op,
    channel,
    code: error.code,
    message: error.message,
    hint: hintFor(error.code, error.message),
    at: new Date().toISOString(),
  };
  try {
    await api.storage.session.set({ lastError });
  } catch (e) {
    // storage is a convenience for the popup; never let it hide the real error
  }
  return lastError;
}

async function recordSuccess(op, channel) {
  try {
    await api.storage.session.set({ lastSuccess: { op, channel, at: new Date().toISOString() } });
  } catch (e) {
    // see recordError
  }
}

// --- the persistent port ------------------------------------------------------------------

const portClient = {
  port: null,
  pending: new Map(), // id -> {resolve, reject, timer}
  nextId: 1,
  idleTimer: null,
  connects: 0, // how many ports were opened: each one is a host process
  dropped: 0, // replies that matched no waiting request (late, after a timeout)

  connect() {
    const port = api.runtime.connectNative(HOST_NAME);
    this.connects += 1;
    port.onMessage.addListener((reply) => this.onReply(port, reply));
    port.onDisconnect.addListener((gone) => {
      // Chrome reports why in runtime.lastError, Firefox in the port's own `error`.
      const why = (gone && gone.error) || api.runtime.lastError;
      const text = (why && why.message) || "Native host has exited.";
      this.onDisconnect(port, text);
    });
    this.port = port;
    return port;
  },

  // A reply belongs to the request whose id it echoes, and to no other: a late reply for a
  // request that already timed out (its id forgotten) is dropped, never handed to whichever
  // request waits next. A reply without a known id leaves its request to time out.
  onReply(port, reply) {
    if (port !== this.port) return;
    const key = reply && typeof reply.id === "string" ? reply.id : null;
    const waiter = key === null ? undefined : this.pending.get(key);
    if (!waiter) {
      this.dropped += 1;
      return;
    }
    this.pending.delete(key);
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  },

  onDisconnect(port, text) {
    if (port !== this.port) return;
    this.port = null;
    clearTimeout(this.idleTimer);
    const code = chromeErrorCode(text);
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new NativeError(code, text, { transport: true }));
    }
    this.pending.clear();
  },

  close() {
    if (!this.port) return;
    const port = this.port;
    this.onDisconnect(port, "port closed by the extension");
    port.disconnect();
  },

  touch() {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0) this.close();
    }, PORT_IDLE_MS);
  },

  request(message, timeoutMs) {
    return new Promise((resolve, reject) => {
      let port = this.port;
      try {
        if (!port) port = this.connect();
        const id = `p${this.nextId++}`;
        const timer = setTimeout(() => {
          if (this.pending.delete(id)) {
            reject(new NativeError("host_timeout", `no answer within ${timeoutMs / 1000} s`, { transport: true }));
          }
        }, timeoutMs);
        this.pending.set(id, { resolve, reject, timer });
        port.postMessage({ ...message, id });
        this.touch();
      } catch (e) {
        // postMessage on a port that died a moment ago throws instead of disconnecting
        if (port === this.port) this.port = null;
        reject(new NativeError("host_unavailable", String(e && e.message ? e.message : e), { transport: true }));
      }
    });
  },
};

// --- one message, one process ---------------------------------------------------------------

function sendOnce(message, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new NativeError("host_timeout", `no answer within ${timeoutMs / 1000} s`, { transport: true })),
      timeoutMs,
    );
    api.runtime.sendNativeMessage(HOST_NAME, { ...message, id: "once" }).then(
      (reply) => {
        clearTimeout(timer);
        resolve(reply);
      },
      (err) => {
        clearTimeout(timer);
        const text = String((err && err.message) || err);
        reject(new NativeError(chromeErrorCode(text), text, { transport: true }));
      },
    );
  });
}

// --- requests -------------------------------------------------------------------------------

function unwrap(reply) {
  if (!reply || typeof reply !== "object") {
    throw new NativeError("bad_reply", "the host sent something that is not a reply");
  }
  if (reply.ok) return reply.result;
  const error = reply.error || {};
  throw new NativeError(error.code || "host_error", error.message || "the host reported an error", error);
}

// channel: "auto" (port, then sendNativeMessage if the port fails), "port" or "once";
// timeoutMs: how long to wait for the answer (default per op, TIMEOUT_MS).
async function request(op, params = {}, { channel = "auto", timeoutMs = TIMEOUT_MS[op] || TIMEOUT_MS.default } = {}) {
  const message = { ...params, op };
  let used = channel === "once" ? "once" : "port";
  try {
    let reply;
    try {
      reply = used === "port" ? await portClient.request(message, timeoutMs) : await sendOnce(message, timeoutMs);
    } catch (e) {
      const retry = channel === "auto" && e.details && e.details.transport && !NO_RETRY.has(e.code);
      if (!retry) throw e;
      used = "once";
      reply = await sendOnce(message, timeoutMs);
    }
    const result = unwrap(reply);
    await recordSuccess(op, used);
    return { ok: true, result, channel: used };
  } catch (e) {
    const error = e instanceof NativeError ? e : new NativeError("extension_error", String(e));
    const recorded = await recordError(op, used, error);
    return {
      ok: false,
      channel: used,
      error: { code: error.code, message: error.message, hint: recorded.hint },
    };
  }
}

// The whole `map`, page by page (each page is one message, under Chrome's 1 MiB cap). A
// catalog that changes while we page makes the host answer `cursor_expired`: start again.
async function mapAll({ etag = null, channel = "auto", maxPages = 1000, attempts = 3 } = {}) {
  for (let attempt = 1; ; attempt++) {
    const answer = await mapOnce(etag, channel, maxPages);
    if (answer.ok || answer.error.code !== "cursor_expired" || attempt >= attempts) return answer;
  }
}

async function mapOnce(etag, channel, maxPages) {
  const byVersion = {};
  const byModel = {};
  const pageBytes = [];
  let cursor = null;
  let firstEtag = null;
  for (let page = 0; page < maxPages; page++) {
    const params = {};
    if (cursor) params.cursor = cursor;
    if (etag && page === 0) params.etag = etag;
    const answer = await request("map", params, { channel });
    if (!answer.ok) return answer;
    const result = answer.result;
    pageBytes.push(new TextEncoder().encode(JSON.stringify(result)).length);
    if (result.unchanged) return { ok: true, result: { unchanged: true, etag: result.etag }, pageBytes };
    if (firstEtag === null) firstEtag = result.etag;
    Object.assign(byVersion, result.by_version || {});
    for (const [mid, vids] of Object.entries(result.by_model || {})) {
      byModel[mid] = [...new Set([...(byModel[mid] || []), ...vids])];
    }
    cursor = result.next;
    if (!cursor) {
      return { ok: true, result: { by_version: byVersion, by_model: byModel, etag: firstEtag }, pageBytes };
    }
  }
  return { ok: false, error: { code: "too_many_pages", message: `more than ${maxPages} pages`, hint: "" } };
}

async function status() {
  const stored = await api.storage.session.get(["lastError", "lastSuccess"]);
  return {
    extensionId: api.runtime.id,
    hostName: HOST_NAME,
    portOpen: portClient.port !== null,
    portConnects: portClient.connects,
    droppedReplies: portClient.dropped,
    lastError: stored.lastError || null,
    lastSuccess: stored.lastSuccess || null,
  };
}

// --- what each tab's content script saw on its page ------------------------------------------
//
// The popup lists the versions of the active tab's model page from here. Kept in memory and in
// storage.session (the service worker may be stopped between the report and the popup).

const pages = new Map(); // tab id -> {modelId, versions: [{id, name, baseModel}], current, at}

function cleanText(value) {
  return typeof value === "string" ? value.slice(0, PAGE_MAX_TEXT) : "";
}

function cleanId(value) {
  return typeof value === "string" && /^[1-9][0-9]{0,17}$/.test(value) ? value : null;
}

// Only well-formed ids and bounded text are kept: the page decides what its content script sees.
function cleanPage(page) {
  if (!page || typeof page !== "object") return null;
  const modelId = cleanId(page.modelId);
  if (!modelId || !Array.isArray(page.versions)) return null;
  const seen = new Set();
  const versions = [];
  for (const v of page.versions.slice(0, PAGE_MAX_VERSIONS)) {
    const id = v && cleanId(v.id);
    if (!id || seen.has(id)) continue;
    seen.add(id);
    versions.push({ id, name: cleanText(v.name), baseModel: cleanText(v.baseModel) });
  }
  if (!versions.length) return null;
  return { modelId, versions, current: cleanId(page.current), at: Date.now() };
}

async function setPage(tabId, page) {
  const key = `page:${tabId}`;
  if (page) pages.set(tabId, page);
  else pages.delete(tabId);
  try {
    if (page) await api.storage.session.set({ [key]: page });
    else await api.storage.session.remove(key);
  } catch (e) {
    // the in-memory copy still serves the popup while this worker lives
  }
}

async function getPage(tabId) {
  if (pages.has(tabId)) return pages.get(tabId);
  try {
    const key = `page:${tabId}`;
    const stored = await api.storage.session.get(key);
    return stored[key] || null;
  } catch (e) {
    return null;
  }
}

api.tabs.onRemoved.addListener((tabId) => {
  setPage(tabId, null);
});
// A new document in the tab (a page load, not the site's in-app navigation): forget what the
// old one showed; a content script on the new one reports again. Needs no `tabs` permission.
api.tabs.onUpdated.addListener((tabId, changeInfo) => {
  if (changeInfo.status === "loading") setPage(tabId, null);
});

// --- messages from the content script and the popup -----------------------------------------

function allowedOps(sender) {
  if (sender.id !== api.runtime.id) return null;
  const extensionOrigin = api.runtime.getURL(""); // chrome-extension://<id>/ or moz-extension://<uuid>/
  if (sender.url && sender.url.startsWith(extensionOrigin)) return EXTENSION_PAGE_OPS;
  if (sender.tab && sender.url && new URL(sender.url).hostname === "civitai.com") return CONTENT_OPS;
  return null;
}

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const ops = allowedOps(sender);
  if (!ops || !message || typeof message !== "object") return false;
  let work;
  if (message.type === "host" && ops.has(message.op)) {
    work = request(message.op, message.params || {});
  } else if (message.type === "page" && ops === CONTENT_OPS && sender.frameId === 0) {
    // a report about the sender's own tab only (the browser fills in sender.tab)
    work = setPage(sender.tab.id, cleanPage(message.page)).then(() => ({ ok: true }));
  } else if (message.type === "tabPage" && ops === EXTENSION_PAGE_OPS && Number.isInteger(message.tabId)) {
    work = getPage(message.tabId).then((page) => ({ ok: true, page }));
  } else if (message.type === "status" && ops === EXTENSION_PAGE_OPS) {
    work = status();
  } else {
    sendResponse({ ok: false, error: { code: "not_allowed", message: "not allowed", hint: "" } });
    return false;
  }
  work.then(sendResponse, (e) =>
    sendResponse({ ok: false, error: { code: "extension_error", message: String(e), hint: String(e) } }),
  );
  return true; // answer asynchronously
});

// For people in the service-worker console and for the end-to-end tests.
globalThis.catalogHost = { request, mapAll, status, hintFor, port: portClient };
