// bun-k8s dashboard: plain browser JavaScript, no framework, no build step.
// Everything from the server or the user is rendered with textContent, never as HTML.
"use strict";
(() => {
  const FAST_MS = 1000; // GET /, /ready, /health
  const SLOW_MS = 3000; // /info, /replicas, /me, /kv
  const CONFIG_MS = 15000; // /config
  const LOG_MAX = 50;

  const $ = (id) => {
    const node = document.getElementById(id);
    if (!node) throw new Error(`missing #${id}`);
    return node;
  };

  /** Creates an element; children are nodes or strings (strings become text nodes). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "className") node.className = String(value);
      else if (name === "onclick") node.addEventListener("click", value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // ---- pod colours -------------------------------------------------------------------
  /** FNV-1a over the name: the same pod gets the same colour in every browser. */
  function hue(name) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) {
      hash ^= name.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % 360;
  }
  function paintPod(node, name) {
    const hueValue = hue(String(name));
    node.style.setProperty("--pod-bg", `hsl(${hueValue} 75% 87%)`);
    node.style.setProperty("--pod-edge", `hsl(${hueValue} 70% 33%)`);
    return node;
  }
  function podChip(name) {
    const text = name ? String(name) : "unknown";
    return paintPod(h("span", { className: "pod-chip", title: text }, text), text);
  }

  // ---- HTTP --------------------------------------------------------------------------
  /** JSON request; never throws: network errors come back as status 0. */
  async function api(method, path, body, timeoutMs = 5000) {
    const init = {
      method,
      cache: "no-store",
      credentials: "same-origin",
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      const res = await fetch(path, init);
      let data = null;
      try {
        data = await res.json();
      } catch {
        data = null;
      }
      return { ok: res.ok, status: res.status, data };
    } catch (err) {
      const reason = err && err.name === "TimeoutError" ? "timed out" : "network error";
      return { ok: false, status: 0, data: null, reason };
    }
  }
  function describeError(res) {
    if (res.status === 0) return res.reason || "network error";
    const d = res.data;
    let detail = "";
    if (d && typeof d === "object") {
      const value = d.error ?? d.detail;
      detail = typeof value === "string" ? value : value ? JSON.stringify(value) : "";
    }
    return `HTTP ${res.status}${detail ? `: ${detail}` : ""}`;
  }
  const str = (v) => (v === undefined || v === null ? "" : String(v));

  // ---- announcements -----------------------------------------------------------------
  function announce(message, kind = "info") {
    const region = $("announce");
    region.textContent = message;
    region.dataset.kind = kind;
    const time = new Date().toLocaleTimeString();
    const item = h("li", { "data-kind": kind }, h("time", {}, time), message);
    const log = $("log");
    log.prepend(item);
    while (log.children.length > LOG_MAX) log.lastElementChild.remove();
  }

  /** Runs an action with its button disabled, so a double click cannot fire it twice. */
  async function busy(button, fn) {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await fn();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  // ---- state: tally of responses per pod ---------------------------------------------
  const tally = new Map(); // server -> { count, version, last }
  let lastServer = "";
  let total = 0;

  function ago(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s}s ago`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m}m ${s % 60}s ago` : `${Math.floor(m / 60)}h ${m % 60}m ago`;
  }
  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${s % 60}s`;
    const hr = Math.floor(m / 60);
    return hr < 48 ? `${hr}h ${m % 60}m` : `${Math.floor(hr / 24)}d ${hr % 24}h`;
  }

  function renderTally() {
    const body = $("tally-body");
    const rows = [];
    const names = [...tally.keys()].sort();
    for (const name of names) {
      const entry = tally.get(name);
      const pct = total ? (entry.count / total) * 100 : 0;
      const bar = paintPod(h("span"), name);
      bar.style.width = `${pct.toFixed(1)}%`;
      rows.push(
        h("tr", { className: name === lastServer ? "current" : undefined },
          h("td", {}, podChip(name)),
          h("td", { className: "mono" }, str(entry.version)),
          h("td", { className: "num" }, String(entry.count)),
          h("td", {}, h("div", { className: "share" }, h("div", { className: "bar", "aria-hidden": "true" }, bar), `${pct.toFixed(0)}%`)),
          h("td", {}, ago(Date.now() - entry.last)),
        ),
      );
    }
    if (rows.length === 0) rows.push(h("tr", {}, h("td", { colspan: 5, className: "empty" }, "no responses yet")));
    body.replaceChildren(...rows);
    $("tally-total").textContent = `${total} response${total === 1 ? "" : "s"} from ${tally.size} pod${tally.size === 1 ? "" : "s"}`;
  }

  // ---- pollers -----------------------------------------------------------------------
  let connected = null;
  function setConnection(ok, detail) {
    const node = $("conn-state");
    if (ok) {
      node.dataset.state = "ok";
      node.textContent = "live";
    } else {
      node.dataset.state = "bad";
      node.textContent = `disconnected: ${detail}`;
    }
    if (connected !== null && connected !== ok) {
      announce(ok ? "Connection restored." : `Lost connection to the service (${detail}); retrying.`, ok ? "ok" : "error");
    }
    connected = ok;
  }

  async function pollRoot() {
    const res = await api("GET", "/");
    if (!res.ok || !res.data || typeof res.data !== "object") {
      setConnection(false, describeError(res));
      return;
    }
    setConnection(true);
    const server = str(res.data.server) || "unknown";
    const version = str(res.data.version);
    lastServer = server;
    total++;
    const entry = tally.get(server) || { count: 0, version, last: 0 };
    entry.count++;
    entry.version = version;
    entry.last = Date.now();
    tally.set(server, entry);
    const chip = $("served-by");
    chip.textContent = server;
    chip.title = server;
    paintPod(chip, server);
    $("served-version").textContent = version ? `version ${version}` : "";
    renderTally();
  }

  function renderProbe(id, res, goodStatus) {
    const node = $(id);
    if (res.status === 0) {
      node.dataset.state = "pending";
      node.textContent = "unreachable";
      return;
    }
    const status = res.data && typeof res.data === "object" ? str(res.data.status) : "";
    const reason = res.data && typeof res.data === "object" ? str(res.data.reason) : "";
    node.dataset.state = status === goodStatus ? "ok" : "bad";
    node.textContent = `${res.status} ${status || "?"}${reason ? ` (${reason})` : ""}`;
  }
  async function pollProbes() {
    const [ready, health] = await Promise.all([api("GET", "/ready"), api("GET", "/health")]);
    renderProbe("ready-state", ready, "ready");
    renderProbe("health-state", health, "healthy");
  }

  function renderList(id, data) {
    const items = [];
    for (const [key, value] of Object.entries(data)) {
      const text = value !== null && typeof value === "object" ? JSON.stringify(value) : str(value);
      items.push(h("dt", {}, key), h("dd", {}, text === "" ? "–" : text));
    }
    $(id).replaceChildren(...items);
  }

  async function pollInfo() {
    const res = await api("GET", "/info");
    if (res.ok && res.data && typeof res.data === "object") renderList("info-list", res.data);
  }

  let maxStressSeconds = 0;
  let maxMemoryMb = 0;
  async function pollConfig() {
    const res = await api("GET", "/config");
    if (!res.ok || !res.data || typeof res.data !== "object") return;
    renderList("config-list", res.data);
    if (res.data.app_name) {
      $("app-name").textContent = str(res.data.app_name);
      document.title = `${str(res.data.app_name)} dashboard`;
    }
    maxStressSeconds = Number(res.data.max_stress_seconds) || 0;
    maxMemoryMb = Number(res.data.max_memory_stress_mb) || 0;
    if (maxStressSeconds) $("cpu-seconds").max = String(maxStressSeconds);
    if (maxMemoryMb) $("mem-mb").max = String(maxMemoryMb);
  }

  async function pollReplicas() {
    const res = await api("GET", "/replicas");
    const body = $("replicas-body");
    if (!res.ok || !res.data || !Array.isArray(res.data.replicas)) {
      body.replaceChildren(h("tr", {}, h("td", { colspan: 7, className: "empty" }, `unavailable: ${describeError(res)}`)));
      return;
    }
    const replicas = [...res.data.replicas].sort((a, b) => str(a.id).localeCompare(str(b.id)));
    $("replica-count").textContent = String(replicas.length);
    const now = Date.now();
    const rows = replicas.map((r) =>
      h("tr", { className: str(r.hostname) === lastServer ? "current" : undefined },
        h("td", {}, podChip(str(r.hostname) || str(r.id)), str(r.id) !== str(r.hostname) ? h("div", { className: "muted small mono" }, str(r.id)) : null),
        h("td", { className: "mono" }, str(r.podIp)),
        h("td", { className: "mono" }, str(r.version)),
        h("td", {}, r.startedAt ? duration(now - Date.parse(r.startedAt)) : ""),
        h("td", {}, r.lastSeen ? ago(now - Date.parse(r.lastSeen)) : ""),
        h("td", { className: "num" }, str(r.requests)),
        h("td", { className: "num" }, str(r.visits)),
      ),
    );
    if (rows.length === 0) rows.push(h("tr", {}, h("td", { colspan: 7, className: "empty" }, "no heartbeats yet")));
    body.replaceChildren(...rows);
  }

  /** Reads the shared counter without counting a visit (GET /visits/count). */
  async function pollVisits() {
    const res = await api("GET", "/visits/count");
    if (res.ok && res.data) {
      $("visits-value").textContent = str(res.data.visits);
      $("visits-by").textContent = `read from ${str(res.data.server)}, store ${str(res.data.redis_host)}`;
    } else {
      $("visits-by").textContent = `unavailable: ${describeError(res)}`;
    }
  }

  async function pollMe() {
    const res = await api("GET", "/me");
    const user = $("me-user");
    const detail = $("me-detail");
    if (res.ok && res.data && res.data.username) {
      user.textContent = str(res.data.username);
      detail.textContent = `(answered by ${str(res.data.server)}, logged in at ${str(res.data.logged_in_at)})`;
    } else if (res.status === 401) {
      user.textContent = "not logged in";
      detail.textContent = "";
    } else {
      user.textContent = "unknown";
      detail.textContent = `(${describeError(res)})`;
    }
  }

  async function pollKeys() {
    const res = await api("GET", "/kv");
    const list = $("kv-keys");
    if (!res.ok || !res.data || !Array.isArray(res.data.keys)) {
      list.replaceChildren(h("li", { className: "muted" }, `unavailable: ${describeError(res)}`));
      return;
    }
    $("kv-count").textContent = String(res.data.keys.length);
    const items = res.data.keys.map((key) =>
      h("li", {}, h("button", { type: "button", "aria-label": `Read key ${str(key)}`, onclick: () => readKey(str(key)) }, str(key))),
    );
    if (items.length === 0) items.push(h("li", { className: "muted" }, "no keys yet"));
    list.replaceChildren(...items);
  }

  // ---- scheduling: one timer chain per cadence, paused while hidden or by the button --
  let paused = false;
  function every(ms, task) {
    let timer = 0;
    let running = false;
    let again = false;
    const run = async () => {
      clearTimeout(timer);
      if (running) {
        again = true; // now() while a call is in flight: run once more right after it
        return;
      }
      running = true;
      try {
        if (!paused && !document.hidden) await task();
      } catch (err) {
        console.error(err);
      }
      running = false;
      if (again) {
        again = false;
        run();
        return;
      }
      timer = setTimeout(run, ms);
    };
    run();
    return { now: run };
  }

  // ---- actions -----------------------------------------------------------------------
  let probes, keys, me, replicas;

  async function probeAction(button, path, describe) {
    await busy(button, async () => {
      const res = await api("POST", path);
      if (res.ok) announce(describe(res.data), "ok");
      else announce(`POST ${path} failed: ${describeError(res)}`, "error");
      probes.now();
    });
  }

  function readKeyInput() {
    const key = $("kv-key").value;
    if (!key) {
      announce("Enter a key first.", "error");
      $("kv-key").focus();
      return null;
    }
    return key;
  }
  function showValue(key, value) {
    $("kv-result-key").textContent = key;
    $("kv-result").textContent = value;
  }
  async function readKey(key) {
    $("kv-key").value = key;
    const res = await api("GET", `/kv/${encodeURIComponent(key)}`);
    if (res.ok && res.data) {
      showValue(key, str(res.data.value));
      $("kv-value").value = str(res.data.value);
      announce(`Read key "${key}" (${str(res.data.value).length} characters) from pod ${str(res.data.server)}.`, "ok");
    } else if (res.status === 404) {
      showValue(key, "");
      announce(`Key "${key}" does not exist.`, "error");
    } else {
      announce(`Reading "${key}" failed: ${describeError(res)}`, "error");
    }
  }

  function wire() {
    $("btn-pause").addEventListener("click", (event) => {
      paused = !paused;
      const button = event.currentTarget;
      button.setAttribute("aria-pressed", String(paused));
      button.textContent = paused ? "Resume updates" : "Pause updates";
      announce(paused ? "Live updates paused." : "Live updates resumed.");
    });
    $("btn-tally-reset").addEventListener("click", () => {
      tally.clear();
      total = 0;
      renderTally();
      announce("Tally reset.");
    });

    $("btn-ready-disable").addEventListener("click", (e) =>
      probeAction(e.currentTarget, "/ready/disable", () => "Readiness disabled: GET /ready now answers 503 on that pod, and the Service stops routing to it."));
    $("btn-ready-enable").addEventListener("click", (e) =>
      probeAction(e.currentTarget, "/ready/enable", () => "Readiness enabled: GET /ready answers 200 again."));
    $("btn-health-disable").addEventListener("click", (e) =>
      probeAction(e.currentTarget, "/health/disable", () => "Liveness disabled: GET /health now answers 503; the kubelet will restart the container."));
    $("btn-health-enable").addEventListener("click", (e) =>
      probeAction(e.currentTarget, "/health/enable", () => "Liveness enabled: GET /health answers 200 again."));

    $("btn-crash").addEventListener("click", (e) =>
      busy(e.currentTarget, async () => {
        if (!window.confirm("Crash the pod that answers? The process exits with code 1 and Kubernetes restarts it.")) {
          announce("Crash cancelled.");
          return;
        }
        const res = await api("POST", "/crash");
        if (res.ok && res.data) announce(`Pod ${str(res.data.server)} is crashing (exit code ${str(res.data.exit_code)}).`, "ok");
        else announce(`POST /crash failed: ${describeError(res)}`, "error");
      }));

    $("form-cpu").addEventListener("submit", (event) => {
      event.preventDefault();
      const seconds = Math.max(1, Math.round(Number($("cpu-seconds").value) || 1));
      busy($("btn-cpu"), async () => {
        announce(`CPU stress: burning ${seconds}s of CPU…`);
        const res = await api("GET", `/stress?seconds=${seconds}`, undefined, (seconds + 30) * 1000);
        if (res.ok && res.data) {
          const d = res.data;
          announce(`CPU stress done on ${str(d.server)}: ${str(d.stressed_seconds)}s${d.capped ? ` (capped from ${str(d.requested_seconds)}s)` : ""}, ${str(d.elapsed_ms)} ms elapsed.`, "ok");
        } else announce(`CPU stress failed: ${describeError(res)}`, "error");
      });
    });
    $("form-mem").addEventListener("submit", (event) => {
      event.preventDefault();
      const mb = Math.max(1, Math.round(Number($("mem-mb").value) || 1));
      busy($("btn-mem"), async () => {
        const res = await api("GET", `/stress/memory?mb=${mb}`, undefined, 60000);
        if (res.ok && res.data) {
          const d = res.data;
          announce(`Memory stress on ${str(d.server)}: allocated ${str(d.allocated_mb)} MiB${d.capped ? ` (capped; max ${str(d.max_mb)} MiB)` : ""}, holding ${str(d.held_mb)} MiB, RSS ${str(d.rss_mb)} MiB.`, "ok");
        } else announce(`Memory stress failed: ${describeError(res)}`, "error");
      });
    });
    $("btn-mem-release").addEventListener("click", (e) =>
      busy(e.currentTarget, async () => {
        const res = await api("POST", "/stress/memory/release");
        if (res.ok && res.data) announce(`Released ${str(res.data.released_mb)} MiB on ${str(res.data.server)}.`, "ok");
        else announce(`Release failed: ${describeError(res)}`, "error");
      }));

    $("btn-visit").addEventListener("click", (e) =>
      busy(e.currentTarget, async () => {
        const res = await api("GET", "/visits");
        if (res.ok && res.data) {
          $("visits-value").textContent = str(res.data.visits);
          $("visits-by").textContent = `counted by ${str(res.data.server)}, store ${str(res.data.redis_host)}`;
          announce(`Visit counted: ${str(res.data.visits)} in total (pod ${str(res.data.server)}).`, "ok");
          replicas.now();
        } else announce(`GET /visits failed: ${describeError(res)}`, "error");
      }));

    $("form-login").addEventListener("submit", (event) => {
      event.preventDefault();
      const username = $("login-username").value;
      const password = $("login-password").value;
      busy($("btn-login"), async () => {
        const res = await api("POST", "/login", { username, password });
        if (res.ok && res.data) {
          $("login-password").value = "";
          announce(`Logged in as ${str(res.data.username)} (session created by pod ${str(res.data.server)}).`, "ok");
        } else announce(`Login failed: ${describeError(res)}`, "error");
        me.now();
      });
    });
    $("btn-logout").addEventListener("click", (e) =>
      busy(e.currentTarget, async () => {
        const res = await api("POST", "/logout");
        if (res.ok) announce("Logged out.", "ok");
        else announce(`Logout failed: ${describeError(res)}`, "error");
        me.now();
      }));

    $("form-kv").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = readKeyInput();
      if (key === null) return;
      const value = $("kv-value").value;
      busy($("btn-kv-save"), async () => {
        const res = await api("POST", `/kv/${encodeURIComponent(key)}`, { value });
        if (res.ok) {
          showValue(key, value);
          announce(`Saved key "${key}" (${value.length} characters) on pod ${str(res.data && res.data.server)}.`, "ok");
          keys.now();
        } else announce(`Saving "${key}" failed: ${describeError(res)}`, "error");
      });
    });
    $("btn-kv-read").addEventListener("click", (e) => {
      const key = readKeyInput();
      if (key !== null) busy(e.currentTarget, () => readKey(key));
    });
    $("btn-kv-delete").addEventListener("click", (e) => {
      const key = readKeyInput();
      if (key === null) return;
      busy(e.currentTarget, async () => {
        const res = await api("DELETE", `/kv/${encodeURIComponent(key)}`);
        if (res.ok && res.data) {
          announce(res.data.deleted ? `Deleted key "${key}".` : `Key "${key}" did not exist.`, "ok");
          keys.now();
        } else announce(`Deleting "${key}" failed: ${describeError(res)}`, "error");
      });
    });
  }

  function start() {
    wire();
    renderTally();
    every(FAST_MS, pollRoot);
    probes = every(FAST_MS, pollProbes);
    replicas = every(SLOW_MS, pollReplicas);
    every(SLOW_MS, pollVisits);
    me = every(SLOW_MS, pollMe);
    keys = every(SLOW_MS, pollKeys);
    every(SLOW_MS, pollInfo);
    every(CONFIG_MS, pollConfig);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) probes.now();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
