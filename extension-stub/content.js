// Content script for civitai.com: on model pages, one read-only badge per model version.
//
// It runs on every civitai.com page (the site is a single-page app: people reach model pages
// from the feed, search or a creator's page without a page load) and follows in-app navigation.
// Which versions are "on the page" (model id from the URL /models/<id>), in this order:
//   1. the `__NEXT_DATA__` JSON the site embeds: the object with `id == <model id>` and a
//      `modelVersions` array (ids, names, base models) -- only trusted when it is about the
//      model in the URL, since it is not updated by in-app navigation;
//   2. every link `a[href*="modelVersionId="]` whose path is /models/<model id>;
//   3. the `modelVersionId` in the page's own URL.
// The union, without duplicates, is asked of the host with one `lookup` and reported to the
// service worker, from which the toolbar popup lists them with their actions.
//
// The page is hostile ground. Its scripts and styles can hide, cover, move or imitate anything
// drawn in it, so the panel has no controls that change anything (Add, Download, Remove... live
// in the popup, which the page cannot touch; the service worker refuses them from here anyway).
// What the page can measure of the panel (its box, which points hit it) is the same whatever
// the catalog says: a fixed size, fixed rows, text clipped inside. The panel lives in a closed
// shadow root so the page cannot read it, and every text from the page, the host or CivitAI
// goes in with textContent, never as HTML.
"use strict";

(() => {
  if (globalThis.__catalogStub) return; // injected once per page
  const api = globalThis.browser ?? globalThis.chrome; // Firefox, else Chrome

  const MODEL_PATH = /^\/models\/(\d+)(?:[/?#]|$)/;
  const DIGITS = /^\d{1,12}$/;
  const NEXT_DATA_MAX_CHARS = 8 * 1024 * 1024;
  const NEXT_DATA_MAX_NODES = 200000;
  const NAME_MAX = 80;
  const MAX_VERSIONS = 200; // what one `lookup` may ask for

  const BADGES = {
    present: { text: "Downloaded", title: "In your catalog and the file is on disk" },
    missing: { text: "In catalog", title: "In your catalog; the file is not on disk yet" },
    queued: { text: "Download queued", title: "In your catalog; its download waits its turn" },
    downloading: { text: "Downloading", title: "In your catalog; its file is being downloaded" },
    verifying: { text: "Verifying download", title: "In your catalog; the downloaded file is being checked" },
    failed: { text: "Download failed", title: "In your catalog; its download failed (details in the toolbar popup)" },
    elsewhere: { text: "Found elsewhere", title: "In your catalog; its file is not where the entry says, a file with its SHA256 is (see the path)" },
    untracked: { text: "On disk, not in catalog", title: "A scan found its file on disk; it is in no catalog (Adopt it in the toolbar popup)" },
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
    reported: null, // what was last reported to the service worker (JSON), for the popup
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
    return [...byId.values()].slice(0, MAX_VERSIONS);
  }

  // --- talking to the service worker --------------------------------------------------------

  async function ask(message) {
    try {
      const answer = await api.runtime.sendMessage(message);
      return answer || { ok: false, error: { code: "no_answer", message: "no answer", hint: "The extension did not answer." } };
    } catch (e) {
      // the extension was reloaded or updated under this page
      const text = String(e && e.message ? e.message : e);
      return { ok: false, error: { code: "extension_gone", message: text, hint: "The extension was reloaded: reload this page." } };
    }
  }

  function currentVersion() {
    return idString(new URL(location.href).searchParams.get("modelVersionId"));
  }

  // Tell the service worker what this page shows, for the popup (only when it changed).
  function report() {
    const page = state.modelId && state.versions.length
      ? { modelId: state.modelId, versions: state.versions, current: currentVersion() }
      : null;
    const text = JSON.stringify(page);
    if (text === state.reported) return;
    state.reported = text;
    ask({ type: "page", page });
  }

  const ACTIVE_JOB = new Set(["queued", "downloading", "verifying"]);

  function badgeState(vid) {
    if (!state.lookup) return "unknown";
    const entry = (state.lookup.by_version || {})[vid];
    if (entry && BADGES[entry.status]) return entry.status;
    if (entry) return "missing";
    const siblings = (state.lookup.by_model || {})[state.modelId] || [];
    return siblings.length ? "other" : "absent";
  }

  let jobTimer = null;

  async function refresh() {
    const seq = ++state.refreshes;
    const modelId = state.modelId;
    const ids = state.versions.map((v) => v.id);
    if (!modelId || !ids.length) return render();
    const answer = await ask({ type: "host", op: "lookup", params: { version_ids: ids, model_ids: [modelId] } });
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
    // While a download runs, ask again now and then so the badge follows it (visible tab only).
    clearTimeout(jobTimer);
    const active = ids.some((vid) => ACTIVE_JOB.has(badgeState(vid)));
    if (active) {
      jobTimer = setTimeout(() => {
        if (document.visibilityState === "visible") refresh();
      }, 3000);
    }
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

  // --- the panel ----------------------------------------------------------------------------
  //
  // Fixed geometry: every size below is a constant, the list scrolls inside, every text is on
  // one clipped line. Only the number of rows depends on the page (which the page knows).

  const ROW_PX = 46;
  const LIST_PX = ROW_PX * 4;
  const STYLE = `
    :host { all: initial; }
    .panel { position: fixed; top: 72px; right: 16px; z-index: 2147483647; width: 372px;
      height: ${36 + LIST_PX + 30}px; overflow: hidden; box-sizing: border-box;
      display: grid; grid-template-rows: 36px ${LIST_PX}px 30px;
      font: 13px/18px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
      background: #fff; border: 1px solid #d0d7de; border-radius: 10px;
      box-shadow: 0 8px 24px rgba(0,0,0,.18); }
    .panel.collapsed { height: 38px; grid-template-rows: 36px; }
    .collapsed .list, .collapsed footer { display: none; }
    header { display: flex; align-items: center; gap: 8px; padding: 0 12px; height: 36px;
      box-sizing: border-box; border-bottom: 1px solid #d0d7de; font-weight: 600;
      background: #f6f8fa; white-space: nowrap; overflow: hidden; }
    header .title { flex: 1; }
    header button { border: 0; background: transparent; cursor: pointer; font-size: 16px;
      width: 24px; height: 24px; padding: 0; }
    .list { overflow-y: scroll; overflow-x: hidden; height: ${LIST_PX}px; }
    .row { display: grid; grid-template-columns: 1fr 180px; column-gap: 8px; height: ${ROW_PX}px;
      padding: 4px 12px; box-sizing: border-box; border-bottom: 1px solid #eaeef2; overflow: hidden; }
    .row.current { background: #f0f7ff; }
    .name, .meta, .badge { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; height: 18px; }
    .name { font-weight: 600; }
    .meta { color: #59636e; font-size: 12px; grid-column: 1; }
    .badge { grid-row: 1 / 3; grid-column: 2; align-self: center; box-sizing: border-box;
      width: 180px; height: 22px; padding: 2px 8px; border-radius: 999px; font-size: 12px;
      font-weight: 600; text-align: center; }
    .badge.present { background: #dafbe1; color: #116329; }
    .badge.missing { background: #ddf4ff; color: #0550ae; }
    .badge.queued, .badge.downloading, .badge.verifying { background: #ddf4ff; color: #0550ae; }
    .badge.failed { background: #ffebe9; color: #a40e26; }
    .badge.elsewhere { background: #fff8c5; color: #7d4e00; }
    .badge.untracked { background: #fbefff; color: #6e40c9; }
    .badge.other { background: #fff8c5; color: #7d4e00; }
    .badge.absent { background: #eaeef2; color: #424a53; }
    .badge.unknown { background: #ffebe9; color: #a40e26; }
    footer { height: 30px; box-sizing: border-box; padding: 6px 12px; border-top: 1px solid #d0d7de;
      font-size: 12px; color: #59636e; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    footer.notice { color: #8c1d18; background: #fff1f0; }
  `;
  // The last line, when nothing is wrong: which of the popup's actions apply to the versions on
  // this page (as its buttons do: README "Act, in the popup"), and, in its tooltip, where the
  // popup is: the toolbar button sits in the browser's Extensions menu until it is pinned.
  const HINT_VERBS = [
    ["Add", ["absent", "other"]],
    ["Download", ["missing", "failed"]],
    ["Adopt", ["untracked"]],
  ];
  const POPUP_WHERE =
    `Click “${api.runtime.getManifest().name}” in the browser's toolbar (in its Extensions ` +
    "menu until you pin it): its popup lists these versions with their actions.";

  function actionsHint(kinds) {
    const verbs = HINT_VERBS.filter(([, states]) => states.some((s) => kinds.has(s))).map(([verb]) => verb);
    if (verbs.length) return `${verbs.join(" · ")}: in the toolbar popup`;
    if (state.lookup) return "Nothing to add or download here; more in the toolbar popup";
    return "Actions: in the toolbar popup";
  }

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

  // "name in folder": the file's name comes first, so that the clipped line still shows it.
  function whereText(path) {
    const text = String(path || "");
    const cut = Math.max(text.lastIndexOf("/"), text.lastIndexOf("\\"));
    return cut > 0 ? `${text.slice(cut + 1)} in ${text.slice(0, cut)}` : text;
  }

  // One clipped line (the whole in its tooltip): where the entry is, or where its file was found.
  function metaOf(vid, version, entry) {
    const meta = [`#${vid}`];
    if (entry && entry.status === "untracked") meta.push(`on disk: ${whereText(entry.path || entry.file)}`);
    else if (entry && entry.status === "elsewhere") meta.push(`found: ${whereText(entry.path)}`);
    if (version.baseModel) meta.push(version.baseModel);
    if (entry && entry.catalog && entry.status !== "elsewhere") {
      meta.push(`${entry.catalog}.json · ${entry.dest ? `${entry.dest}/` : ""}${entry.file}`);
    }
    return meta.join(" · ");
  }

  function render() {
    if (!state.modelId || !state.versions.length) {
      removePanel();
      return;
    }
    ensurePanel();
    const panel = el("div", { class: `panel${collapsed ? " collapsed" : ""}` });
    const header = el("header");
    header.append(el("span", { class: "title" }, "ComfyUI catalog"));
    const toggle = el("button", { title: collapsed ? "Show" : "Hide", "data-action": "toggle" }, collapsed ? "▸" : "▾");
    toggle.addEventListener("click", () => {
      collapsed = !collapsed;
      render();
    });
    header.append(toggle);
    panel.append(header);

    const list = el("div", { class: "list" });
    const shown = currentVersion();
    const kinds = new Set();
    for (const version of state.versions) {
      const vid = version.id;
      const kind = badgeState(vid);
      kinds.add(kind);
      const row = el("div", { class: `row${vid === shown ? " current" : ""}`, "data-version-id": vid });
      const name = version.name || `Version ${vid}`;
      row.append(el("div", { class: "name", title: name }, name));
      const entry = state.lookup && (state.lookup.by_version || {})[vid];
      const metaText = metaOf(vid, version, entry);
      row.append(el("div", { class: "meta", title: metaText }, metaText));
      row.append(el("span", { class: `badge ${kind}`, "data-state": kind, title: BADGES[kind].title }, BADGES[kind].text));
      list.append(row);
    }
    panel.append(list);
    const problem = state.error
      ? state.error.hint || state.error.message
      : unreadableText(state.lookup);
    panel.append(
      problem
        ? el("footer", { class: "notice", "data-role": "notice", title: problem }, problem)
        : el("footer", { title: POPUP_WHERE }, actionsHint(kinds)),
    );
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
    }
    state.modelId = modelId;
    state.versions = versions;
    report();
    if (modelChanged || versionsChanged) refresh();
    else if (urlChanged) render(); // only the highlighted version moved
  }

  let scanTimer = null;
  function scheduleScan(delay = 300) {
    clearTimeout(scanTimer);
    scanTimer = setTimeout(scan, delay);
  }

  // In-app navigation. The page's own history.pushState cannot be patched from this isolated
  // world, but the Navigation API's events reach listeners in every world; popstate covers
  // back/forward everywhere; a URL poll (a string compare) is the fallback for browsers without
  // the Navigation API and a safety net elsewhere.
  const onUrlMaybeChanged = () => {
    if (location.href !== state.url) scan();
  };
  const navigationApi = globalThis.navigation;
  if (navigationApi && typeof navigationApi.addEventListener === "function") {
    navigationApi.addEventListener("currententrychange", () => scheduleScan(0));
  }
  window.addEventListener("popstate", () => scheduleScan(0));
  window.addEventListener("hashchange", () => scheduleScan(0));
  setInterval(onUrlMaybeChanged, navigationApi ? 2000 : 500);
  // Late rendering: the site fills a model page after the URL changed (debounced; nothing to
  // do off model pages, where the feed changes all the time).
  new MutationObserver(() => {
    if (state.modelId || MODEL_PATH.test(location.pathname)) scheduleScan();
  }).observe(document.documentElement, { childList: true, subtree: true });
  // The popup changed something for this tab: ask again. Only extension pages may ask (never
  // another tab's content script: those messages carry sender.tab).
  api.runtime.onMessage.addListener((message, sender) => {
    if (sender.id === api.runtime.id && !sender.tab && message && message.type === "refresh" && state.modelId) refresh();
    return false;
  });
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
