// Content script for civitai.com model pages: one badge per model version on the page.
//
// Which versions are "on the page" (model id from the URL /models/<id>), in this order:
//   1. the `__NEXT_DATA__` JSON the site embeds: the object with `id == <model id>` and a
//      `modelVersions` array (ids, names, base models) -- only trusted when it is about the
//      model in the URL, since it is not updated by in-app navigation;
//   2. every link `a[href*="modelVersionId="]` whose path is /models/<model id>;
//   3. the `modelVersionId` in the page's own URL.
// The union, without duplicates, is asked of the host with one `lookup`. The panel lives in a
// closed shadow root so that civitai.com's scripts can neither style nor read it, and every
// piece of text from the page, the host or CivitAI goes in with textContent, never as HTML.
"use strict";

(() => {
  if (globalThis.__catalogStub) return; // injected once per page
  const api = globalThis.browser ?? globalThis.chrome; // Firefox, else Chrome

  const MODEL_PATH = /^\/models\/(\d+)(?:[/?#]|$)/;
  const DIGITS = /^\d{1,12}$/;
  const NEXT_DATA_MAX_CHARS = 8 * 1024 * 1024;
  const NEXT_DATA_MAX_NODES = 200000;
  const NAME_MAX = 80;

  const BADGES = {
    present: { text: "Downloaded", title: "In your catalog and the file is on disk" },
    missing: { text: "In catalog", title: "In your catalog; the file is not on disk yet" },
    other: { text: "Other version in catalog", title: "Another version of this model is in your catalog" },
    absent: { text: "Not in catalog", title: "Not in your catalog" },
    unknown: { text: "Host unavailable", title: "The catalog host could not be asked" },
  };

  const state = {
    url: null,
    modelId: null,
    versions: [], // [{id, name, baseModel}]
    lookup: null, // {by_version, by_model}
    error: null, // {code, message, hint} of the last failed lookup
    messages: new Map(), // version id -> {text, kind}
    busy: new Set(), // version ids with an action in flight
    refreshes: 0, // sequence number: only the newest lookup's answer is shown
    lookups: 0, // answers received, for people and tests
    nextDataCache: { text: null, data: null },
  };

  // --- reading the page ---------------------------------------------------------------------

  function modelIdFromLocation() {
    const m = MODEL_PATH.exec(location.pathname);
    return m ? m[1] : null;
  }

  function clip(text) {
    const clean = String(text == null ? "" : text).replace(/\s+/g, " ").trim();
    return clean.length > NAME_MAX ? `${clean.slice(0, NAME_MAX - 1)}…` : clean;
  }

  function idString(value) {
    const s = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
    return DIGITS.test(s) && Number(s) > 0 ? String(Number(s)) : null;
  }

  function nextData() {
    const script = document.getElementById("__NEXT_DATA__");
    const text = script ? script.textContent : null;
    if (!text || text.length > NEXT_DATA_MAX_CHARS) return null;
    if (state.nextDataCache.text !== text) {
      let data = null;
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
      state.nextDataCache = { text, data };
    }
    return state.nextDataCache.data;
  }

  // Breadth-first walk (bounded) for {id: modelId, modelVersions: [...]}.
  function versionsFromNextData(modelId) {
    const data = nextData();
    if (!data) return [];
    const queue = [data];
    let seen = 0;
    while (queue.length && seen < NEXT_DATA_MAX_NODES) {
      const node = queue.shift();
      seen += 1;
      if (Array.isArray(node)) {
        for (const child of node) if (child && typeof child === "object") queue.push(child);
        continue;
      }
      if (idString(node.id) === modelId && Array.isArray(node.modelVersions)) {
        return node.modelVersions
          .filter((v) => v && typeof v === "object" && idString(v.id))
          .map((v) => ({ id: idString(v.id), name: clip(v.name), baseModel: clip(v.baseModel) }));
      }
      for (const key of Object.keys(node)) {
        const child = node[key];
        if (child && typeof child === "object") queue.push(child);
      }
    }
    return [];
  }

  function versionsFromLinks(modelId) {
    const found = [];
    for (const a of document.querySelectorAll('a[href*="modelVersionId="]')) {
      let url;
      try {
        url = new URL(a.getAttribute("href"), location.href);
      } catch (e) {
        continue;
      }
      const m = MODEL_PATH.exec(url.pathname);
      const vid = idString(url.searchParams.get("modelVersionId"));
      if (m && m[1] === modelId && vid) found.push({ id: vid, name: clip(a.textContent), baseModel: "" });
    }
    return found;
  }

  function collectVersions(modelId) {
    const byId = new Map();
    const add = (v) => {
      const known = byId.get(v.id);
      if (!known) byId.set(v.id, { ...v });
      else if (!known.name && v.name) known.name = v.name;
    };
    versionsFromNextData(modelId).forEach(add);
    versionsFromLinks(modelId).forEach(add);
    const own = idString(new URL(location.href).searchParams.get("modelVersionId"));
    if (own) add({ id: own, name: "", baseModel: "" });
    return [...byId.values()];
  }

  // --- talking to the service worker --------------------------------------------------------

  async function ask(op, params) {
    try {
      const answer = await api.runtime.sendMessage({ type: "host", op, params });
      return answer || { ok: false, error: { code: "no_answer", message: "no answer", hint: "The extension did not answer." } };
    } catch (e) {
      // the extension was reloaded or updated under this page
      const message = String(e && e.message ? e.message : e);
      return { ok: false, error: { code: "extension_gone", message, hint: "The extension was reloaded: reload this page." } };
    }
  }

  function badgeState(vid) {
    if (!state.lookup) return "unknown";
    const entry = (state.lookup.by_version || {})[vid];
    if (entry && entry.status === "present") return "present";
    if (entry) return "missing";
    const siblings = (state.lookup.by_model || {})[state.modelId] || [];
    return siblings.length ? "other" : "absent";
  }

  function isLora(entry) {
    const dest = String(entry.dest || "");
    return entry.catalog === "models" && (dest === "loras" || dest.startsWith("loras/"));
  }

  function actionsFor(vid) {
    const entry = state.lookup && (state.lookup.by_version || {})[vid];
    if (!state.lookup) return [];
    if (!entry) return ["add"];
    const actions = [];
    if (isLora(entry)) actions.push("promote");
    if (entry.status === "missing") actions.push("remove");
    return actions;
  }

  async function refresh() {
    const seq = ++state.refreshes;
    const modelId = state.modelId;
    const ids = state.versions.map((v) => v.id);
    if (!modelId || !ids.length) return render();
    const answer = await ask("lookup", { version_ids: ids, model_ids: [modelId] });
    if (seq !== state.refreshes) return; // a newer refresh (or a navigation) supersedes this one
    state.lookups += 1;
    if (answer.ok) {
      state.lookup = answer.result;
      state.error = null;
    } else {
      state.lookup = null;
      state.error = answer.error;
    }
    render();
  }

  function describeResult(op, result) {
    switch (result.status) {
      case "added":
        return { kind: "ok", text: `Added "${result.name}" → ${result.dest}/${result.file}` };
      case "promoted":
        return { kind: "ok", text: `Promoted ${result.file} to style LoRAs (${result.category})` };
      case "removed":
        return { kind: "ok", text: `Removed ${result.file} from ${result.catalog}.json` };
      case "already_exists":
        return { kind: "info", text: `Already in the catalog: ${result.file}` };
      case "restricted":
        return { kind: "error", text: `Not added: ${result.reason}` };
      default:
        return { kind: "info", text: `${op}: ${result.status}` };
    }
  }

  async function act(op, vid) {
    if (state.busy.has(vid)) return;
    const entry = state.lookup && (state.lookup.by_version || {})[vid];
    if (op === "remove" && !entry) return; // the badge changed under the click
    const params = op === "remove" ? { file: entry.file, dest: entry.dest } : { version_id: vid };
    state.busy.add(vid);
    state.messages.set(vid, { kind: "info", text: `${op === "add" ? "Adding" : op === "promote" ? "Promoting" : "Removing"}…` });
    render();
    const answer = await ask(op, params);
    state.busy.delete(vid);
    state.messages.set(vid, answer.ok ? describeResult(op, answer.result) : { kind: "error", text: answer.error.hint || answer.error.message });
    await refresh();
  }

  // --- the panel ----------------------------------------------------------------------------

  const STYLE = `
    :host { all: initial; }
    .panel { position: fixed; top: 72px; right: 16px; z-index: 2147483647; width: 380px;
      max-height: calc(100vh - 24px); overflow: auto; box-sizing: border-box;
      font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
      background: #fff; border: 1px solid #d0d7de; border-radius: 10px;
      box-shadow: 0 8px 24px rgba(0,0,0,.18); }
    header { display: flex; align-items: center; gap: 8px; padding: 8px 12px;
      border-bottom: 1px solid #d0d7de; font-weight: 600; background: #f6f8fa;
      border-radius: 10px 10px 0 0; }
    header .title { flex: 1; }
    header button { border: 0; background: transparent; cursor: pointer; font-size: 16px; }
    .collapsed .body { display: none; }
    .notice { padding: 8px 12px; color: #8c1d18; background: #fff1f0; }
    .row { display: grid; grid-template-columns: 1fr auto; gap: 4px 8px; padding: 8px 12px;
      border-bottom: 1px solid #eaeef2; }
    .row:last-child { border-bottom: 0; }
    .row.current { background: #f0f7ff; }
    .name { font-weight: 600; overflow-wrap: anywhere; }
    .meta { color: #59636e; font-size: 12px; }
    .badge { justify-self: end; align-self: start; padding: 2px 8px; border-radius: 999px;
      font-size: 12px; font-weight: 600; white-space: nowrap; }
    .badge.present { background: #dafbe1; color: #116329; }
    .badge.missing { background: #ddf4ff; color: #0550ae; }
    .badge.other { background: #fff8c5; color: #7d4e00; }
    .badge.absent { background: #eaeef2; color: #424a53; }
    .badge.unknown { background: #ffebe9; color: #a40e26; }
    .actions { grid-column: 1 / -1; display: flex; gap: 6px; }
    .actions button { font: inherit; font-size: 12px; padding: 2px 10px; border-radius: 6px;
      border: 1px solid #d0d7de; background: #f6f8fa; cursor: pointer; }
    .actions button:hover { background: #eaeef2; }
    .actions button:disabled { opacity: .5; cursor: default; }
    .message { grid-column: 1 / -1; font-size: 12px; overflow-wrap: anywhere; }
    .message.ok { color: #116329; }
    .message.info { color: #59636e; }
    .message.error { color: #a40e26; }
  `;

  let hostElement = null;
  let shadow = null;
  let collapsed = false;

  function el(tag, attrs = {}, text = null) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== null) node.textContent = text;
    return node;
  }

  function ensurePanel() {
    if (hostElement && hostElement.isConnected) return;
    hostElement = document.createElement("civitai-catalog-stub");
    shadow = hostElement.attachShadow({ mode: "closed" });
    document.documentElement.appendChild(hostElement);
  }

  function removePanel() {
    if (hostElement) hostElement.remove();
    hostElement = null;
    shadow = null;
  }

  function render() {
    if (!state.modelId || !state.versions.length) {
      removePanel();
      return;
    }
    ensurePanel();
    const panel = el("div", { class: `panel${collapsed ? " collapsed" : ""}`, part: "panel" });
    const header = el("header");
    header.append(el("span", { class: "title" }, "ComfyUI catalog"));
    const toggle = el("button", { title: collapsed ? "Show" : "Hide", "data-action": "toggle" }, collapsed ? "▸" : "▾");
    toggle.addEventListener("click", () => {
      collapsed = !collapsed;
      render();
    });
    header.append(toggle);
    panel.append(header);

    const body = el("div", { class: "body" });
    if (state.error) body.append(el("div", { class: "notice", "data-role": "notice" }, state.error.hint || state.error.message));
    const shown = idString(new URL(location.href).searchParams.get("modelVersionId"));
    for (const version of state.versions) {
      const vid = version.id;
      const kind = badgeState(vid);
      const row = el("div", { class: `row${vid === shown ? " current" : ""}`, "data-version-id": vid });
      const label = el("div");
      label.append(el("div", { class: "name" }, version.name || `Version ${vid}`));
      const entry = state.lookup && (state.lookup.by_version || {})[vid];
      const meta = [`#${vid}`];
      if (version.baseModel) meta.push(version.baseModel);
      if (entry) meta.push(`${entry.catalog}.json · ${entry.dest ? `${entry.dest}/` : ""}${entry.file}`);
      label.append(el("div", { class: "meta" }, meta.join(" · ")));
      row.append(label);
      row.append(el("span", { class: `badge ${kind}`, "data-state": kind, title: BADGES[kind].title }, BADGES[kind].text));

      const actions = actionsFor(vid);
      if (actions.length) {
        const bar = el("div", { class: "actions" });
        for (const op of actions) {
          const button = el("button", { "data-action": op }, op[0].toUpperCase() + op.slice(1));
          if (state.busy.has(vid)) button.disabled = true;
          button.addEventListener("click", () => act(op, vid));
          bar.append(button);
        }
        row.append(bar);
      }
      const message = state.messages.get(vid);
      if (message) row.append(el("div", { class: `message ${message.kind}`, "data-role": "message" }, message.text));
      body.append(row);
    }
    panel.append(body);
    shadow.replaceChildren(el("style", {}, STYLE), panel);
  }

  // --- following the page -------------------------------------------------------------------

  function sameVersions(a, b) {
    return a.length === b.length && a.every((v, i) => v.id === b[i].id && v.name === b[i].name);
  }

  function scan() {
    const url = location.href;
    const modelId = modelIdFromLocation();
    const versions = modelId ? collectVersions(modelId) : [];
    const urlChanged = url !== state.url;
    const modelChanged = modelId !== state.modelId;
    const versionsChanged = !sameVersions(versions, state.versions);
    state.url = url;
    if (modelChanged) {
      state.lookup = null;
      state.error = null;
      state.messages.clear();
    }
    state.modelId = modelId;
    state.versions = versions;
    const idsChanged = modelChanged || versionsChanged;
    if (idsChanged) refresh();
    else if (urlChanged) render(); // only the highlighted version moved
  }

  let scanTimer = null;
  function scheduleScan(delay = 300) {
    clearTimeout(scanTimer);
    scanTimer = setTimeout(scan, delay);
  }

  // The site is a single-page app: follow in-app navigation (URL polling is cheap and needs no
  // access to the page's own history API) and late rendering (DOM mutations, debounced).
  setInterval(() => {
    if (location.href !== state.url) scan();
  }, 500);
  new MutationObserver(() => scheduleScan()).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.modelId) refresh();
  });
  scan();

  // Visible only in this content script's isolated world (never to civitai.com's scripts):
  // lets a person or a test look into the closed panel from the devtools console.
  globalThis.__catalogStub = {
    state,
    refresh,
    scan,
    root: () => shadow,
  };
})();
