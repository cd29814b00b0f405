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

  /** Adds one GET / answer to the tally; returns the pod that answered. */
  function countResponse(data) {
    const server = str(data.server) || "unknown";
    const version = str(data.version);
    total++;
    const entry = tally.get(server) || { count: 0, version, last: 0 };
    entry.count++;
    entry.version = version;
    entry.last = Date.now();
    tally.set(server, entry);
    return server;
  }

  // ---- charts: the last five minutes of GET /replicas, one point per poll ------------
  // Every number comes from the pods' heartbeats (src/heartbeat.ts), so a chart shows what each
  // pod saw from all of its clients, not only what this browser sent. uPlot draws into a canvas;
  // its legend sets text with textContent and styles through the CSSOM, which the CSP allows.
  const CHART_MS = 2000;
  const WINDOW_S = 300;
  const CHART_HEIGHT = 180;
  const MIB = 1024 * 1024;
  const POD_KEYS = ["rps", "p50", "p99", "cpu", "rss"];
  const history = { t: [], replicas: [], pods: new Map() }; // pod -> arrays aligned with history.t
  const beats = new Map(); // pod -> { started, seen, requests, rps }: the last heartbeat read
  const CHARTS = [
    { id: "chart-rps", title: "Requests per second", unit: "req/s", lines: [["rps", "", null]] },
    { id: "chart-latency", title: "Latency", unit: "ms", lines: [["p50", " p50", [5, 4]], ["p99", " p99", null]] },
    { id: "chart-cpu", title: "CPU", unit: "% of a core", lines: [["cpu", "", null]] },
    { id: "chart-rss", title: "RSS", unit: "MiB", lines: [["rss", "", null]] },
  ];
  const plots = new Map(); // chart id -> { plot, width }
  let plottedPods = null; // the pod list the per-pod charts were built for

  const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const fmt = (v) => (v === null || v === undefined ? "–" : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, "") || "0");
  const podColour = (name) => `hsl(${hue(name)} 70% 36%)`;

  /** Requests per second between a pod's last two heartbeats, from its own counter; held until the next beat. */
  function requestRate(name, r) {
    const seen = Date.parse(str(r.lastSeen));
    const requests = num(r.requests);
    if (!Number.isFinite(seen) || requests === null) return null;
    const prev = beats.get(name);
    const started = str(r.startedAt);
    if (!prev || prev.started !== started || requests < prev.requests) {
      beats.set(name, { started, seen, requests, rps: null }); // a new pod, or its container restarted
      return null;
    }
    if (seen <= prev.seen) return prev.rps;
    const rps = (requests - prev.requests) / ((seen - prev.seen) / 1000);
    beats.set(name, { started, seen, requests, rps });
    return rps;
  }

  /** One point per chart; replicas is null when /replicas did not answer (a gap in every line). */
  function recordSample(replicas) {
    const t = Date.now() / 1000;
    // One line per replica id: the pod name in a cluster (POD_NAME), hostname-pid for processes
    // sharing a host. A restarted container keeps its pod's id and line.
    const latest = new Map();
    for (const r of replicas || []) latest.set(str(r.id) || str(r.hostname), r);
    history.t.push(t);
    history.replicas.push(replicas ? replicas.length : null);
    for (const [name, r] of latest) {
      if (!history.pods.has(name)) {
        const pod = {};
        for (const key of POD_KEYS) pod[key] = history.t.slice(1).map(() => null);
        history.pods.set(name, pod);
      }
      const pod = history.pods.get(name);
      const rss = num(r.rss);
      pod.rps.push(requestRate(name, r));
      pod.p50.push(num(r.p50Ms));
      pod.p99.push(num(r.p99Ms));
      pod.cpu.push(num(r.cpu));
      pod.rss.push(rss === null ? null : rss / MIB);
    }
    for (const [name, pod] of history.pods) if (!latest.has(name)) for (const key of POD_KEYS) pod[key].push(null);
    let drop = 0;
    while (drop < history.t.length && history.t[drop] < t - WINDOW_S) drop++;
    if (drop > 0) {
      history.t.splice(0, drop);
      history.replicas.splice(0, drop);
      for (const pod of history.pods.values()) for (const key of POD_KEYS) pod[key].splice(0, drop);
    }
    for (const [name, pod] of history.pods) {
      if (POD_KEYS.every((key) => pod[key].every((v) => v === null)) && !latest.has(name)) {
        history.pods.delete(name); // gone for the whole window
        beats.delete(name);
      }
    }
    drawCharts();
  }

  function plotWidth(node) {
    return Math.max(260, Math.floor(node.clientWidth || 380));
  }
  function makePlot(node, series, data, yRange, axis) {
    for (const entry of plots.values()) if (entry.node === node) entry.plot.destroy();
    node.replaceChildren();
    const width = plotWidth(node);
    const plot = new window.uPlot(
      {
        width,
        height: CHART_HEIGHT,
        series: [{}, ...series],
        scales: { x: { time: true }, y: { range: yRange } },
        axes: [{}, { size: 56, ...axis }],
        legend: { live: true },
      },
      data,
      node,
    );
    plots.set(node.id, { plot, width, node });
  }

  /** Unless the pointer is over the chart, the legend shows the newest values rather than dashes. */
  function showLatest(plot) {
    const n = plot.data[0].length;
    if (n > 0 && !(plot.cursor.left >= 0)) plot.setLegend({ idx: n - 1 });
  }

  function drawCharts() {
    if (typeof window.uPlot !== "function") return; // the library did not load: the tables still work
    const names = [...history.pods.keys()].sort();
    const podsKey = names.join("\n");
    const fromZero = (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1];
    for (const chart of CHARTS) {
      const node = $(chart.id);
      const data = [history.t];
      const series = [];
      for (const name of names) {
        for (const [key, suffix, dash] of chart.lines) {
          data.push(history.pods.get(name)[key]);
          const line = { label: `${name}${suffix}`, stroke: podColour(name), width: 2, value: (_u, v) => fmt(v) };
          if (dash) line.dash = dash;
          series.push(line);
        }
      }
      const entry = plots.get(chart.id);
      if (!entry || podsKey !== plottedPods) makePlot(node, series, data, fromZero, { values: (_u, ticks) => ticks.map(fmt) });
      else entry.plot.setData(data);
      showLatest(plots.get(chart.id).plot);
      // For tests and the curious: points in the window, values drawn, the largest of them.
      const values = data.slice(1).flat().filter((v) => v !== null);
      node.dataset.points = String(history.t.length);
      node.dataset.pods = String(names.length);
      node.dataset.values = String(values.length);
      node.dataset.max = values.length ? String(Math.max(...values)) : "";
      const summary = names.map((name) => chart.lines.map(([key, suffix]) => `${name}${suffix} ${fmt(history.pods.get(name)[key].at(-1))}`).join(", "));
      node.setAttribute("aria-label", `${chart.title}, ${chart.unit}, latest: ${summary.join("; ") || "no pods"}`);
    }
    const node = $("chart-replicas");
    const data = [history.t, history.replicas];
    if (!plots.has("chart-replicas")) {
      const stepped = window.uPlot.paths && window.uPlot.paths.stepped ? window.uPlot.paths.stepped({ align: 1 }) : undefined;
      makePlot(node, [{ label: "replicas", stroke: "#1d4ed8", width: 2, paths: stepped, value: (_u, v) => (v === null ? "–" : String(v)) }], data,
        (_u, _min, max) => [0, Math.max(1, max || 0) + 1], { incrs: [1, 2, 5, 10, 20, 50, 100], values: (_u, ticks) => ticks.map(String) });
    } else plots.get("chart-replicas").plot.setData(data);
    showLatest(plots.get("chart-replicas").plot);
    node.dataset.points = String(history.t.length);
    node.dataset.latest = str(history.replicas.at(-1));
    node.setAttribute("aria-label", `Live replicas, latest: ${str(history.replicas.at(-1) ?? "unknown")}`);
    plottedPods = podsKey;
  }

  /** Keeps each chart as wide as its column. */
  function watchChartWidths() {
    if (typeof ResizeObserver !== "function") return;
    new ResizeObserver(() => {
      for (const entry of plots.values()) {
        const width = plotWidth(entry.node);
        if (width !== entry.width) {
          entry.width = width;
          entry.plot.setSize({ width, height: CHART_HEIGHT });
        }
      }
    }).observe($("charts"));
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
    const server = countResponse(res.data);
    const version = str(res.data.version);
    lastServer = server;
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
      recordSample(null);
      return;
    }
    recordSample(res.data.replicas);
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

  // ---- cluster view: Server-Sent Events from GET /cluster/events ----------------------
  const CLUSTER_RETRY_MS = 5000;

  function setClusterState(state, text) {
    const badge = $("cluster-state");
    badge.dataset.state = { live: "ok", off: "pending", connecting: "warn" }[state] || "bad";
    badge.dataset.view = state;
    badge.textContent = text;
  }

  function showClusterReason(text) {
    const node = $("cluster-reason");
    node.hidden = !text;
    node.textContent = text || "";
  }

  /** One line per pod: its readiness, and what its EndpointSlice entry tells the Service. */
  function endpointText(endpoint) {
    if (!endpoint) return "no endpoint";
    if (endpoint.terminating) return endpoint.serving ? "endpoint terminating, still serving" : "endpoint terminating";
    return endpoint.ready ? "endpoint ready" : "endpoint not ready";
  }

  function endpointState(endpoint) {
    if (!endpoint) return "none";
    if (endpoint.terminating) return "terminating";
    return endpoint.ready ? "ready" : "not-ready";
  }

  function renderPod(pod) {
    const facts = [
      pod.terminating ? "terminating" : str(pod.phase),
      pod.ready ? "ready" : "not ready",
      endpointText(pod.endpoint),
      pod.restarts ? `${pod.restarts} restart${pod.restarts === 1 ? "" : "s"}${pod.reason ? ` (${str(pod.reason)})` : ""}` : pod.reason ? str(pod.reason) : null,
      pod.node ? `node ${str(pod.node)}` : "not scheduled",
    ].filter(Boolean);
    return h("li", {
      className: `pod ${pod.ready ? "is-ready" : "is-not-ready"}${pod.terminating ? " is-terminating" : ""}`,
      "data-pod": str(pod.name),
      "data-ready": String(Boolean(pod.ready)),
      "data-endpoint": endpointState(pod.endpoint),
      "data-terminating": String(Boolean(pod.terminating)),
    }, podChip(str(pod.name)), h("span", { className: "small" }, facts.join(" · ")));
  }

  function renderReplicaSet(rs) {
    return h("div", {
      className: "rs",
      "data-replicaset": str(rs.name),
      "data-revision": str(rs.revision),
      "data-desired": str(rs.desired),
      "data-ready": str(rs.ready),
    },
      h("div", { className: "rs-head small" },
        h("strong", {}, `revision ${str(rs.revision)}`), ` · ReplicaSet ${str(rs.name)} · ${str(rs.desired)} desired · ${str(rs.ready)} ready`),
      h("ul", { className: "pods" }, ...(rs.pods.length ? rs.pods.map(renderPod) : [h("li", { className: "muted small" }, "no pods")])),
    );
  }

  function renderCluster(view) {
    const labels = { live: "live", connecting: "connecting…", error: "unavailable", off: "off" };
    setClusterState(view.state, labels[view.state] || str(view.state));
    showClusterReason(view.state === "live" ? "" : str(view.reason));
    $("cluster-source").textContent = view.namespace ? `Namespace ${str(view.namespace)}, watched by ${str(view.server)}.` : "";
    $("cluster-hpas").replaceChildren(...(view.hpas || []).map((hpa) =>
      h("p", { className: "hpa", "data-hpa": str(hpa.name), "data-current": str(hpa.current), "data-desired": str(hpa.desired) },
        h("strong", {}, `HPA ${str(hpa.name)}`),
        ` → ${str(hpa.target)}: ${str(hpa.current)} replicas now, ${str(hpa.desired)} desired (min ${str(hpa.min)}, max ${str(hpa.max)})`,
        hpa.cpuPercent === null || hpa.cpuPercent === undefined
          ? " · CPU not reported yet (metrics-server)"
          : ` · CPU ${str(hpa.cpuPercent)}% of requests, target ${str(hpa.cpuTargetPercent)}%`),
    ));
    const groups = (view.deployments || []).map((d) =>
      h("div", { className: "deployment", "data-deployment": str(d.name) },
        h("h3", {}, `Deployment ${str(d.name)} `,
          h("span", { className: "muted small" }, `${str(d.desired)} desired · ${str(d.ready)} ready · ${str(d.updated)} on the newest template · revision ${str(d.revision)}`)),
        ...d.replicaSets.map(renderReplicaSet)),
    );
    if ((view.otherPods || []).length) {
      groups.push(h("div", { className: "deployment", "data-deployment": "" },
        h("h3", {}, "Other pods"), h("ul", { className: "pods" }, ...view.otherPods.map(renderPod))));
    }
    if (groups.length === 0 && view.state === "live") groups.push(h("p", { className: "muted" }, "no Deployments in this namespace"));
    $("cluster-tree").replaceChildren(...groups);
    const events = view.events || [];
    $("cluster-event-count").textContent = String(events.length);
    $("cluster-events").replaceChildren(...events.map((e) =>
      h("li", { "data-kind": e.type === "Warning" ? "error" : "info" },
        h("time", { datetime: str(e.at) }, e.at ? new Date(e.at).toLocaleTimeString() : ""),
        ` ${str(e.reason)} ${str(e.object)}: ${str(e.message)}${e.count > 1 ? ` (×${str(e.count)})` : ""}`),
    ));
  }

  /** Opens the stream only where the view is on (GET /config), so an off view costs nothing. */
  async function startClusterView() {
    const res = await api("GET", "/config");
    if (res.ok && res.data && res.data.cluster_view === false) {
      setClusterState("off", "off");
      showClusterReason("CLUSTER_VIEW is off here. The kind and docker-desktop overlays turn it on, with a read-only Role (kustomize/components/cluster-view).");
      return;
    }
    openClusterStream();
  }

  function openClusterStream() {
    const source = new EventSource("/cluster/events");
    source.addEventListener("snapshot", (event) => {
      if (paused) return;
      try {
        renderCluster(JSON.parse(event.data));
      } catch (err) {
        console.error(err);
      }
    });
    source.addEventListener("error", async () => {
      // A replica that shuts down ends its streams; the browser reconnects through the Service
      // by itself. A refused stream (404 off, 503) closes for good: ask why, then retry.
      if (source.readyState !== EventSource.CLOSED) {
        setClusterState("connecting", "reconnecting…");
        return;
      }
      const res = await api("GET", "/cluster");
      if (res.status === 404) {
        setClusterState("off", "off");
        showClusterReason(`${str(res.data && res.data.error) || "cluster view is off"}: ${str(res.data && res.data.hint)}`);
        return;
      }
      setClusterState("error", "unavailable");
      showClusterReason(res.data && res.data.detail && res.data.detail.reason ? str(res.data.detail.reason) : describeError(res));
      setTimeout(openClusterStream, CLUSTER_RETRY_MS);
    });
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

    $("btn-traffic").addEventListener("click", (e) =>
      busy(e.currentTarget, async () => {
        // 200 GET / ten at a time: through a Service they spread over the pods, and each pod's
        // counter (the requests chart) and this page's tally both show where they landed.
        const count = 200;
        let started = 0;
        let answered = 0;
        const pods = new Set();
        const began = performance.now();
        $("traffic-state").textContent = `sending ${count} requests…`;
        const worker = async () => {
          while (started < count) {
            started++;
            const res = await api("GET", "/");
            if (res.ok && res.data && typeof res.data === "object") {
              answered++;
              pods.add(countResponse(res.data));
            }
          }
        };
        await Promise.all(Array.from({ length: 10 }, worker));
        renderTally();
        const ms = Math.round(performance.now() - began);
        const text = `${answered} of ${count} answered in ${ms} ms by ${pods.size} pod${pods.size === 1 ? "" : "s"}`;
        $("traffic-state").textContent = text;
        announce(`Traffic: ${text}.`, answered === count ? "ok" : "error");
        replicas.now();
      }));

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
    replicas = every(CHART_MS, pollReplicas);
    watchChartWidths();
    every(SLOW_MS, pollVisits);
    me = every(SLOW_MS, pollMe);
    keys = every(SLOW_MS, pollKeys);
    every(SLOW_MS, pollInfo);
    every(CONFIG_MS, pollConfig);
    startClusterView();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) probes.now();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
