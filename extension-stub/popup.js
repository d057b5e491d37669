// The toolbar popup's host section: is the host reachable (a `ping`), where are the catalog and
// models folders, and the last error in plain words; when the host answers, the Downloads list
// (popup-downloads.js). The active tab's versions and their actions are popup-page.js. All text
// goes in with textContent.
"use strict";

const api = globalThis.browser ?? globalThis.chrome; // Firefox, else Chrome

const $ = (id) => document.getElementById(id);

function setState(kind, text) {
  const node = $("state");
  node.className = `state ${kind}`;
  node.dataset.state = kind;
  node.textContent = text;
}

function showLastError(lastError) {
  const section = $("last-error");
  if (!lastError) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  $("last-error-hint").textContent = lastError.hint || lastError.message;
  const when = new Date(lastError.at);
  const time = Number.isNaN(when.getTime()) ? "" : when.toLocaleTimeString();
  $("last-error-detail").textContent =
    `${lastError.op} at ${time}: ${lastError.code} — ${lastError.message}`;
}

function showPing(result) {
  $("details").hidden = false;
  $("host-version").textContent =
    `${result.host || "catalog-host"} ${result.version || "?"} (protocol ${result.protocol ?? "?"})`;
  $("catalog-dir").textContent = result.catalog_dir || "(not set)";
  const models = $("models-dir");
  if (!result.models_dir) {
    models.textContent = "(not set: every entry shows as not downloaded)";
    models.className = "warn";
  } else if (result.models_dir_exists === false) {
    models.textContent = `${result.models_dir} (folder does not exist)`;
    models.className = "warn";
  } else {
    models.textContent = result.models_dir;
    models.className = "";
  }
}

async function check() {
  setState("checking", "Checking the host…");
  $("recheck").disabled = true;
  try {
    const answer = await api.runtime.sendMessage({ type: "host", op: "ping", params: {} });
    if (answer && answer.ok) {
      setState("ok", "Host reachable");
      showPing(answer.result);
      showScanFolders(answer.result); // popup-scan.js
      await refreshJobs(); // popup-downloads.js: the Downloads list
    } else {
      $("details").hidden = true;
      const error = (answer && answer.error) || { hint: "The extension did not answer." };
      setState("error", error.hint || error.message);
    }
    const status = await api.runtime.sendMessage({ type: "status" });
    showLastError(status && status.lastError);
  } catch (e) {
    setState("error", `The extension could not ask the host: ${e && e.message ? e.message : e}`);
  } finally {
    $("recheck").disabled = false;
    document.body.dataset.checked = String(Number(document.body.dataset.checked || 0) + 1);
  }
}

$("extension-id").textContent = api.runtime.id;
$("recheck").addEventListener("click", check);
check();
