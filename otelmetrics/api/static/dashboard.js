// otelmetrics live page: KPI cards, a per-route table and SVG charts with time axes, fed by the
// JSON API; a trading panel, a market-feed panel and a circuit-breaker banner. No dependencies.
// Flow: GET /dashboard-data (who answers, trading, feed), /current, /history, /routes and
// /clients (outgoing calls; the card stays hidden without any), then follow /sse/metrics through fetch() + a stream reader (so the Authorization header can be
// sent); when the stream cannot stay open, poll /current (for good when the server says it
// cannot stream: a sync worker). History (5 s or 1 min resolution), routes and
// /dashboard-data are refreshed on their own timers. A 401 asks for a token, kept in
// sessionStorage.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("otelmetrics-config").textContent);
  const TOKEN_KEY = "otelmetrics.api-token";
  const STREAM_RETRY_MS = 30000; // poll this long before trying the stream again
  const RESOLUTIONS = {
    "5s": { query: "?resolution=5s&minutes=15", refreshMs: 5000, spanMs: 15 * 60000 },
    "1m": { query: "?minutes=" + Math.min(60, config.history_minutes), refreshMs: 60000,
      spanMs: Math.min(60, config.history_minutes) * 60000 },
  };
  const TRADING_REFRESH_MS = Math.max(config.interval_ms, 2000); // /dashboard-data, /routes
  const $ = (id) => document.getElementById(id);
  const clock = () => Date.now(); // the banner's clock

  const state = {
    generation: 0, history: [], live: null, controller: null, timers: [],
    resolution: "5s", scope: "worker", routes: [], sort: null,
  };
  // trips: the last total seen; lastRise: when it last rose (clock() ms); open: breaker names
  const breaker = { trips: null, lastRise: null, open: [], timer: null,
    windowMs: breakerWindow() };

  class AuthRequired extends Error {}
  class NoStreamsHere extends Error {} // the server cannot stream (a sync worker): poll for good

  // -- API ---------------------------------------------------------------------------------

  function authHeaders() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? { Authorization: "Bearer " + token } : {};
  }

  async function getJson(path) {
    const response = await fetch(config.api + path, {
      headers: authHeaders(),
      credentials: "same-origin",
      cache: "no-store",
    });
    if (response.status === 401) throw new AuthRequired("authentication required");
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  }

  const scoped = (path) => path + (state.scope === "service" ? "?scope=service" : "");

  // -- formatting --------------------------------------------------------------------------

  function fmt(value, digits) {
    if (typeof value !== "number" || !Number.isFinite(value)) return "–";
    return value.toLocaleString("en-US", { minimumFractionDigits: digits,
      maximumFractionDigits: digits });
  }

  // "just now", "12 s ago", "3 min ago", "2 h ago"; the full local time goes in the title.
  function ago(ms) {
    const seconds = Math.max(0, Math.round((clock() - ms) / 1000));
    if (seconds < 2) return "just now";
    if (seconds < 60) return seconds + " s ago";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 172800) return Math.floor(seconds / 3600) + " h ago";
    return Math.floor(seconds / 86400) + " days ago";
  }

  function setTime(node, iso, never) {
    const ms = Date.parse(iso);
    node.dataset.at = Number.isFinite(ms) ? String(ms) : "";
    node.title = Number.isFinite(ms) ? new Date(ms).toLocaleString() : "";
    if (node.tagName === "TIME") node.dateTime = Number.isFinite(ms) ? iso : "";
    node.textContent = Number.isFinite(ms) ? ago(ms) : never;
  }

  function refreshAges() {
    for (const node of document.querySelectorAll(".ago[data-at]")) {
      if (node.dataset.at) node.textContent = ago(Number(node.dataset.at));
    }
  }

  function cell(text, className) {
    const node = document.createElement("td");
    node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function fillRows(body, rows, columns, empty) {
    if (!rows.length) {
      const row = document.createElement("tr");
      const only = cell(empty, "empty");
      only.colSpan = columns;
      row.append(only);
      body.replaceChildren(row);
      return;
    }
    body.replaceChildren(...rows);
  }

  // -- header: who answers -----------------------------------------------------------------

  function showIdentity(service) {
    if (!service) return;
    state.scope = service.scope === "service" ? "service" : "worker";
    $("page-title").textContent = service.service + " · live metrics";
    document.title = service.service + " · live metrics";
    const parts = [
      service.version ? "version " + service.version : null,
      service.environment,
      "instance " + String(service.instance).slice(0, 8),
      "pid " + service.pid,
      workersText(service),
    ];
    $("identity").textContent = parts.filter(Boolean).join(" · ");
  }

  function workersText(service) {
    if (service.workers === null) {
      return "one of several workers: this worker's view (set OTELMETRICS_STATS_DIR for all)";
    }
    const count = service.workers + (service.workers === 1 ? " worker" : " workers");
    return service.scope === "service" ? count + " (cards: all workers, charts: this one)" : count;
  }

  // -- KPI cards ---------------------------------------------------------------------------

  const KPIS = [
    ["kpi-request-rate", (m) => fmt(m.request_rate_rpm, 1)],
    ["kpi-error-rate", (m) => fmt(m.error_rate_pct, 2)],
    ["kpi-latency-p95", (m) => fmt(m.latency_p95_ms, 1)],
    ["kpi-active-users", (m) => fmt(m.active_users, 0)],
    ["kpi-memory", (m) => fmt(m.memory_usage_mb, 1)],
    ["kpi-memory-pct", (m) => fmt(m.memory_usage_pct, 1)],
    ["kpi-cpu", (m) => fmt(m.cpu_usage_pct, 1)],
  ];

  function showMetrics(metrics) {
    for (const [id, format] of KPIS) $(id).textContent = format(metrics);
    const threshold = config.thresholds.error_rate_pct;
    const alert = Number(metrics.error_rate_pct) > threshold;
    const card = $("card-error-rate");
    card.classList.toggle("alert", alert);
    card.dataset.state = alert ? "alert" : "ok";
    $("error-rate-state").textContent =
      (alert ? "above" : "within") + " the " + threshold + " % threshold";
    setTime($("last-update"), metrics.timestamp, "–");
    state.live = metrics;
    drawCharts();
  }

  // -- charts (plain SVG, local-time axis) -------------------------------------------------

  const T = config.thresholds;
  const CHARTS = [
    ["errors", [["error_rate_pct", "all errors %", "c1"], ["server_error_rate_pct", "5xx %", "c3"]],
      [[T.error_rate_pct, "threshold " + T.error_rate_pct + " %"]]],
    ["request-rate", [["request_rate_rpm", "req/min", "c1"]], []],
    ["latency", [["latency_p50_ms", "p50", "c1"], ["latency_p95_ms", "p95", "c2"],
      ["latency_p99_ms", "p99", "c3"]], [[T.latency_p99_ms, "p99 " + T.latency_p99_ms + " ms"]]],
    ["resources", [["memory_usage_pct", "memory %", "c1"], ["cpu_usage_pct", "CPU %", "c2"]],
      [[T.memory_usage_pct, "memory"], [T.cpu_usage_pct, "CPU"]].map(
        ([value, name]) => [value, name + " " + value + " %"])],
    ["websockets", [["websocket_connections", "connections", "c1"]], []],
  ];
  const SVG = "http://www.w3.org/2000/svg";
  const BOX = { left: 42, right: 392, top: 8, bottom: 136 }; // inside the 400 x 160 viewBox

  function svgNode(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawCharts() {
    const points = state.live ? state.history.concat([state.live]) : state.history;
    for (const [name, series, thresholds] of CHARTS) drawChart(name, series, thresholds, points);
  }

  function drawChart(name, series, thresholds, points) {
    const svg = $("chart-" + name);
    svg.replaceChildren();
    const times = points.map((p) => Date.parse(p.timestamp));
    const values = points.flatMap((p) => series.map(([key]) => Number(p[key]) || 0));
    const shown = thresholds.filter(([value]) => Number.isFinite(value));
    const top = niceMax(Math.max(1, ...values, ...shown.map(([value]) => value * 1.1)));
    const y = (v) => BOX.bottom - (v / top) * (BOX.bottom - BOX.top);
    drawGrid(svg, top, y);
    if (points.length === 0) {
      svg.append(svgNode("text", { class: "empty", x: 216, y: 72, "text-anchor": "middle" },
        "no data yet"));
      drawLegend(name, series, null);
      return;
    }
    // The axis spans the chosen window and ends at the newest point (the server's clock).
    const byTime = times.every(Number.isFinite);
    const span = RESOLUTIONS[state.resolution].spanMs;
    const first = byTime ? Math.max(...times) - span : 0;
    const x = (t, i) => BOX.left + (BOX.right - BOX.left) *
      (byTime ? Math.max(0, t - first) / span : i / Math.max(1, points.length - 1));
    if (byTime) drawTimeAxis(svg, first, span);
    for (const [value, label] of mergedThresholds(shown)) drawThreshold(svg, y(value), label);
    for (const [key, , colour] of series) {
      const coords = points.map((p, i) => x(times[i], i).toFixed(1) + "," +
        y(Number(p[key]) || 0).toFixed(1));
      if (coords.length === 1) coords.push(BOX.right.toFixed(1) + "," + coords[0].split(",")[1]);
      svg.append(svgNode("polyline", { class: "line " + colour, points: coords.join(" ") }));
    }
    drawLegend(name, series, points[points.length - 1]);
  }

  function drawGrid(svg, top, y) {
    for (const fraction of [0, 0.5, 1]) {
      const at = y(top * fraction);
      svg.append(svgNode("line", { class: "grid", x1: BOX.left, x2: BOX.right, y1: at, y2: at }));
      svg.append(svgNode("text", { class: "axis", x: BOX.left - 6, y: at + 4,
        "text-anchor": "end" }, formatAxis(top * fraction)));
    }
  }

  // Thresholds at the same value share one line and one label ("memory, CPU 80 %").
  function mergedThresholds(thresholds) {
    const byValue = new Map();
    for (const [value, label] of thresholds) {
      byValue.set(value, (byValue.has(value) ? byValue.get(value) + ", " : "") + label);
    }
    return [...byValue.entries()];
  }

  // Four local-time ticks along the bottom (HH:MM), the window's start to its newest point.
  function drawTimeAxis(svg, first, span) {
    const format = { hour: "2-digit", minute: "2-digit" };
    for (const fraction of [0, 1 / 3, 2 / 3, 1]) {
      const at = BOX.left + (BOX.right - BOX.left) * fraction;
      const anchor = fraction === 0 ? "start" : fraction === 1 ? "end" : "middle";
      const label = new Date(first + span * fraction).toLocaleTimeString([], format);
      svg.append(svgNode("line", { class: "grid", x1: at, x2: at, y1: BOX.bottom,
        y2: BOX.bottom + 4 }));
      svg.append(svgNode("text", { class: "axis time", x: at, y: BOX.bottom + 16,
        "text-anchor": anchor }, label));
    }
  }

  function drawThreshold(svg, at, label) {
    svg.append(svgNode("line", { class: "threshold", x1: BOX.left, x2: BOX.right, y1: at,
      y2: at }));
    svg.append(svgNode("text", { class: "threshold-label", x: BOX.right - 2, y: at - 3,
      "text-anchor": "end" }, label));
  }

  function drawLegend(name, series, latest) {
    const legend = $("legend-" + name);
    legend.replaceChildren(...series.map(([key, label, colour]) => {
      const item = document.createElement("li");
      item.className = colour;
      item.append(label + " ");
      const value = document.createElement("span");
      value.textContent = latest ? fmt(Number(latest[key]), 1) : "–";
      item.append(value);
      return item;
    }));
  }

  function niceMax(value) {
    const magnitude = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
    return 10 * magnitude;
  }

  function formatAxis(value) {
    if (value === 0) return "0";
    return value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2);
  }

  function chooseResolution(resolution) {
    state.resolution = resolution;
    for (const button of document.querySelectorAll("[data-resolution]")) {
      button.setAttribute("aria-pressed", String(button.dataset.resolution === resolution));
    }
    loadHistory().catch(() => {});
  }

  // -- routes: what is failing -------------------------------------------------------------

  const ROUTE_COLUMNS = [
    ["requests_per_min", 1], ["error_rate_pct", 2], ["server_error_rate_pct", 2],
    ["latency_p50_ms", 1], ["latency_p95_ms", 1], ["latency_p99_ms", 1],
  ];

  function routeName(row) {
    if (row.overflow) return "other routes (over the limit)";
    return row.route === null ? "(no route matched)" : row.route;
  }

  function sortedRoutes() {
    if (!state.sort) return state.routes; // the server's order: worst first
    const { key, direction } = state.sort;
    const value = (row) => key === "route" ? routeName(row) : row[key];
    return state.routes.slice().sort((a, b) =>
      (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0) * direction);
  }

  function showRoutes(routes) {
    state.routes = routes;
    const limit = config.thresholds.error_rate_pct;
    const rows = sortedRoutes().map((route) => {
      const row = document.createElement("tr");
      if (route.overflow) row.className = "overflow";
      row.append(cell(routeName(route)));
      for (const [key, digits] of ROUTE_COLUMNS) {
        const bad = (key === "server_error_rate_pct" || key === "error_rate_pct") &&
          route[key] > limit || key === "latency_p99_ms" && route[key] > T.latency_p99_ms;
        row.append(cell(fmt(route[key], digits), "num" + (bad ? " bad" : "")));
      }
      return row;
    });
    fillRows($("routes-body"), rows, 7, "no requests in the window");
  }

  function sortBy(key) {
    const current = state.sort && state.sort.key === key ? state.sort.direction : 0;
    state.sort = current === -1 ? { key, direction: 1 } : { key, direction: -1 };
    for (const th of document.querySelectorAll("#routes-table th")) {
      th.setAttribute("aria-sort", th.dataset.key !== key ? "none"
        : state.sort.direction === -1 ? "descending" : "ascending");
    }
    showRoutes(state.routes);
  }

  async function loadRoutes() {
    showRoutes((await getJson("/routes")).routes);
  }

  // -- outgoing calls per upstream host (hidden while there are none) ----------------------

  const CLIENT_COLUMNS = [
    ["requests_per_min", 1], ["error_rate_pct", 2], ["failure_rate_pct", 2],
    ["latency_p50_ms", 1], ["latency_p95_ms", 1], ["latency_p99_ms", 1],
  ];

  function showClients(clients) {
    $("clients-card").hidden = !clients.length;
    const limit = config.thresholds.error_rate_pct;
    const rows = clients.map((client) => {
      const row = document.createElement("tr");
      if (client.overflow) row.className = "overflow";
      row.append(cell(client.overflow ? "other hosts (not kept)" : client.host || "(no host)"));
      for (const [key, digits] of CLIENT_COLUMNS) {
        const bad = (key === "failure_rate_pct" || key === "error_rate_pct") &&
          client[key] > limit || key === "latency_p99_ms" && client[key] > T.latency_p99_ms;
        row.append(cell(fmt(client[key], digits), "num" + (bad ? " bad" : "")));
      }
      return row;
    });
    fillRows($("clients-body"), rows, 7, "no outgoing calls in the window");
  }

  async function loadClients() {
    try {
      showClients((await getJson("/clients")).clients);
    } catch (error) { // an older server without /clients: the card stays hidden
      if (error instanceof AuthRequired) throw error;
    }
  }

  // -- trading panel, feed panel and circuit-breaker banner --------------------------------

  // ?breaker_window=<seconds> overrides how long the banner stays after the last trip.
  function breakerWindow() {
    const raw = new URLSearchParams(location.search).get("breaker_window");
    const seconds = Number(raw);
    const valid = raw !== null && raw !== "" && seconds > 0 && seconds <= 86400;
    return valid ? seconds * 1000 : config.breaker_window_ms;
  }

  const signed = (value) => (value > 0 ? "+" : "") + fmt(value, 2);
  const TRADING = [
    ["trading-pnl", (t) => signed(t.pnl_today)],
    ["trading-currency", (t) => t.currency || ""],
    ["trading-pnl-realized", (t) => signed(t.pnl_realized)],
    ["trading-win-rate", (t) => fmt(t.win_rate, 1)],
    ["trading-wins", (t) => fmt(t.wins, 0)],
    ["trading-losses", (t) => fmt(t.losses, 0)],
    ["trading-orders", (t) => fmt((t.orders_today || {}).total, 0)],
    ["trading-orders-filled", (t) => fmt((t.orders_today || {}).successful, 0)],
    ["trading-orders-failed", (t) => fmt((t.orders_today || {}).failed, 0)],
    ["trading-open-positions", (t) => fmt((t.positions || {}).open, 0)],
    ["trading-opened", (t) => fmt((t.positions || {}).opened, 0)],
    ["trading-closed", (t) => fmt((t.positions || {}).closed, 0)],
  ];
  const FEED = [
    ["trading-latency-p50", (f) => fmt(f.latency_p50_ms, 1)],
    ["trading-latency-p95", (f) => fmt(f.latency_p95_ms, 1)],
    ["trading-latency-p99", (f) => fmt(f.latency_p99_ms, 1)],
    ["trading-reconnects", (f) => fmt(f.reconnect_count, 0)],
    ["trading-trades-per-min", (f) => fmt(f.trades_per_min, 0)],
    ["trading-ws-status", (f) => f.ws_status || "–"],
  ];

  function showTrading(data) {
    showIdentity(data.service);
    const trading = data.trading || {};
    for (const [id, format] of TRADING) $(id).textContent = format(trading);
    const pnl = $("trading-pnl");
    pnl.classList.toggle("bad", Number(trading.pnl_today) < 0);
    const breakers = Object.entries(trading.circuit_breakers || {});
    breaker.open = breakers.filter(([, b]) => b.state !== "closed").map(([name]) => name);
    showBreakers(breakers);
    $("trading-panel").hidden = false;
    if (data.feed) showFeed(data.feed, lastTripAge(breakers, data.feed.timestamp));
  }

  function showBreakers(breakers) {
    fillRows($("breakers-body"), breakers.map(([name, found]) => {
      const row = document.createElement("tr");
      row.append(cell(name), cell(found.state.replace("_", "-"), "state-" + found.state),
        cell(fmt(found.trips, 0), "num"));
      const last = document.createElement("td");
      const time = document.createElement("time");
      time.className = "ago last-trip";
      setTime(time, found.last_trip, "never");
      last.append(time);
      row.append(last);
      return row;
    }), 4, "none reported");
  }

  // How long ago (server clock) the latest trip was, or null without one.
  function lastTripAge(breakers, serverNowMs) {
    const trips = breakers.map(([, b]) => Date.parse(b.last_trip)).filter(Number.isFinite);
    return trips.length && Number.isFinite(serverNowMs) ? serverNowMs - Math.max(...trips) : null;
  }

  function showFeed(feed, lastTripAgeMs) {
    for (const [id, format] of FEED) $(id).textContent = format(feed);
    const pairs = Object.entries(feed.pairs || {}).sort(([a], [b]) => (a < b ? -1 : 1));
    fillRows($("pairs-body"), pairs.map(([pair, found]) => {
      const row = document.createElement("tr");
      row.append(cell(pair), cell(fmt(found.latency_p50_ms, 1), "num"),
        cell(fmt(found.latency_p95_ms, 1), "num"), cell(fmt(found.latency_p99_ms, 1), "num"));
      return row;
    }), 4, "no quotes yet");
    $("feed-panel").hidden = false;
    noteTrips(Number(feed.circuit_breaker_trips) || 0, lastTripAgeMs);
  }

  // The banner shows while the trip count rose within the window: from the rise this page saw,
  // or, for the first figure it sees, from the server's time of the last trip.
  function noteTrips(total, lastTripAgeMs) {
    const now = clock();
    if (breaker.trips !== null && total > breaker.trips) {
      breaker.lastRise = now;
    } else if (breaker.trips === null && lastTripAgeMs !== null && lastTripAgeMs >= 0) {
      breaker.lastRise = now - lastTripAgeMs;
    }
    breaker.trips = total;
    showBanner();
  }

  function showBanner() {
    const banner = $("circuit-breaker-banner");
    clearTimeout(breaker.timer);
    const left = breaker.lastRise === null ? 0 : breaker.lastRise + breaker.windowMs - clock();
    banner.hidden = left <= 0;
    banner.dataset.trips = String(breaker.trips || 0);
    if (left <= 0) return;
    const names = breaker.open.length ? " (" + breaker.open.join(", ") + ")" : "";
    banner.textContent = "Circuit breaker tripped" + names + ". Trips so far: " +
      breaker.trips + ". This notice clears " + breaker.windowMs / 1000 +
      " s after the last trip.";
    breaker.timer = setTimeout(showBanner, left + 50);
  }

  async function loadTrading() {
    showTrading(await getJson("/dashboard-data"));
  }

  async function loadHistory() {
    const resolution = state.resolution;
    const body = await getJson("/history" + RESOLUTIONS[resolution].query);
    if (resolution !== state.resolution) return; // switched while loading
    state.history = body.history;
    drawCharts();
  }

  async function every(generation, ms, load) {
    while (generation === state.generation) {
      await sleep(typeof ms === "function" ? ms() : ms);
      if (generation !== state.generation) return;
      load().catch(() => {});
    }
  }

  // -- connection: SSE over fetch, polling fallback ----------------------------------------

  function setMode(mode, text) {
    document.body.dataset.mode = mode;
    $("connection-status").textContent = text;
    $("token-forget").hidden = !sessionStorage.getItem(TOKEN_KEY);
  }

  function sleep(ms) {
    return new Promise((resolve) => state.timers.push(setTimeout(resolve, ms)));
  }

  function handleEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (event === "metrics_update" && data.length) showMetrics(JSON.parse(data.join("\n")));
    if (event === config.feed_event && data.length) showFeed(JSON.parse(data.join("\n")), null);
    if (event === "heartbeat") $("connection-status").dataset.heartbeat = data.join("\n");
  }

  async function follow(generation) {
    state.controller = new AbortController();
    const response = await fetch(config.api + scoped("/sse/metrics"), {
      headers: { ...authHeaders(), Accept: "text/event-stream" },
      credentials: "same-origin",
      cache: "no-store",
      signal: state.controller.signal,
    });
    if (response.status === 401) throw new AuthRequired("authentication required");
    if (response.status === 503) {
      const refusal = await response.json().catch(() => ({}));
      if (refusal.poll) throw new NoStreamsHere(refusal.error);
    }
    if (!response.ok || !response.body) throw new Error("stream: HTTP " + response.status);
    setMode("live", "Live (server-sent events)");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (generation === state.generation) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer = (buffer + value).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        handleEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  async function poll(generation, duration) {
    const text = "Polling every " + config.interval_ms / 1000 + " s";
    setMode("polling", text);
    const until = Date.now() + duration;
    while (generation === state.generation && Date.now() < until) {
      await sleep(config.interval_ms);
      if (generation !== state.generation) return;
      try {
        showMetrics((await getJson(scoped("/current"))).metrics);
        setMode("polling", text);
      } catch (error) {
        if (error instanceof AuthRequired) throw error;
        setMode("offline", "Offline, retrying: " + error.message);
      }
    }
  }

  async function connect(generation) {
    let streams = typeof TextDecoderStream === "function" && "body" in Response.prototype;
    while (generation === state.generation) {
      if (streams) {
        try {
          await follow(generation);
        } catch (error) {
          if (error instanceof AuthRequired) throw error;
          if (error.name === "AbortError") return;
          if (error instanceof NoStreamsHere) streams = false;
        }
      }
      await poll(generation, STREAM_RETRY_MS);
    }
  }

  function stop() {
    state.generation += 1;
    if (state.controller) state.controller.abort();
    state.timers.forEach(clearTimeout);
    state.timers = [];
    return state.generation;
  }

  async function start() {
    const generation = stop();
    setMode("connecting", "Connecting…");
    try {
      await loadTrading().catch((error) => {
        if (error instanceof AuthRequired) throw error; // else: the panels stay hidden for now
      });
      showMetrics((await getJson(scoped("/current"))).metrics);
      await loadHistory();
      await loadRoutes();
      await loadClients();
      $("token-form").hidden = true;
      every(generation, () => RESOLUTIONS[state.resolution].refreshMs, loadHistory);
      every(generation, TRADING_REFRESH_MS, loadTrading);
      every(generation, TRADING_REFRESH_MS, loadRoutes);
      every(generation, TRADING_REFRESH_MS, loadClients);
      await connect(generation);
    } catch (error) {
      if (generation !== state.generation) return;
      if (error instanceof AuthRequired) return askForToken();
      setMode("offline", "Offline, retrying: " + error.message);
      await sleep(config.interval_ms);
      if (generation === state.generation) start();
    }
  }

  // -- token -------------------------------------------------------------------------------

  function askForToken() {
    stop();
    const hadToken = Boolean(sessionStorage.getItem(TOKEN_KEY));
    sessionStorage.removeItem(TOKEN_KEY);
    setMode("auth", "Authentication required");
    $("token-error").textContent = hadToken ? "That token was refused." : "";
    $("token-form").hidden = false;
    $("token-input").focus();
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token-input").value = "";
    start();
  });

  $("token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    start();
  });

  for (const button of document.querySelectorAll("[data-resolution]")) {
    button.addEventListener("click", () => chooseResolution(button.dataset.resolution));
  }
  for (const th of document.querySelectorAll("#routes-table th")) {
    th.setAttribute("aria-sort", "none");
    th.querySelector("button").addEventListener("click", () => sortBy(th.dataset.key));
  }
  setInterval(refreshAges, 1000);
  start();
})();
