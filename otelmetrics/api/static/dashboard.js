// otelmetrics live page: KPI cards and SVG charts fed by the JSON API, a trading panel and a
// circuit-breaker banner. No dependencies.
// Flow: GET /current, /history and /dashboard-data, then follow /sse/metrics through fetch() +
// a stream reader (so the Authorization header can be sent); when the stream cannot stay open,
// poll /current and try the stream again later. /dashboard-data is refreshed every few seconds
// (P&L, orders, positions); the stream's feed event (kraken_metrics) updates the feed figures
// and the banner at once. A 401 asks for a token, kept in sessionStorage.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("otelmetrics-config").textContent);
  const TOKEN_KEY = "otelmetrics.api-token";
  const STREAM_RETRY_MS = 30000; // poll this long before trying the stream again
  const HISTORY_REFRESH_MS = 60000; // history has one point per minute
  const TRADING_REFRESH_MS = Math.max(config.interval_ms, 2000); // /dashboard-data
  const $ = (id) => document.getElementById(id);
  const clock = () => Date.now(); // the banner's clock

  const state = { generation: 0, history: [], live: null, controller: null, timers: [] };
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

  // -- KPI cards ---------------------------------------------------------------------------

  function fmt(value, digits) {
    return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
  }

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
    const alert = Number(metrics.error_rate_pct) > config.error_threshold;
    const card = $("card-error-rate");
    card.classList.toggle("alert", alert);
    card.dataset.state = alert ? "alert" : "ok";
    $("error-rate-state").textContent =
      (alert ? "above" : "within") + " the " + config.error_threshold + " % threshold";
    $("last-update").textContent = metrics.timestamp || "–";
    state.live = metrics;
    drawCharts();
  }

  // -- charts (plain SVG) ------------------------------------------------------------------

  const CHARTS = [
    ["request-rate", [["request_rate_rpm", "req/min", "c1"]]],
    ["latency", [["latency_p50_ms", "p50", "c1"], ["latency_p95_ms", "p95", "c2"],
      ["latency_p99_ms", "p99", "c3"]]],
    ["resources", [["memory_usage_pct", "memory %", "c1"], ["cpu_usage_pct", "CPU %", "c2"]]],
    ["websockets", [["websocket_connections", "connections", "c1"]]],
  ];
  const SVG = "http://www.w3.org/2000/svg";
  const BOX = { left: 40, right: 392, top: 8, bottom: 148 }; // inside the 400 x 160 viewBox

  function svgNode(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawCharts() {
    const points = state.live ? state.history.concat([state.live]) : state.history;
    for (const [name, series] of CHARTS) drawChart(name, series, points);
  }

  function drawChart(name, series, points) {
    const svg = $("chart-" + name);
    svg.replaceChildren();
    const times = points.map((p) => Date.parse(p.timestamp));
    const values = points.flatMap((p) => series.map(([key]) => Number(p[key]) || 0));
    const top = niceMax(Math.max(1, ...values));
    for (const fraction of [0, 0.5, 1]) {
      const y = BOX.bottom - fraction * (BOX.bottom - BOX.top);
      svg.append(svgNode("line", { class: "grid", x1: BOX.left, x2: BOX.right, y1: y, y2: y }));
      svg.append(svgNode("text", { class: "axis", x: BOX.left - 6, y: y + 4, "text-anchor": "end" },
        formatAxis(top * fraction)));
    }
    if (points.length === 0) {
      svg.append(svgNode("text", { class: "empty", x: 216, y: 80, "text-anchor": "middle" },
        "no data yet"));
    }
    // x by time when every timestamp parses, else by position
    const byTime = times.length > 1 && times.every(Number.isFinite);
    const first = byTime ? Math.min(...times) : 0;
    const span = byTime ? Math.max(1, Math.max(...times) - first) : 1;
    const width = BOX.right - BOX.left;
    const x = (t, i) => BOX.left + width *
      (byTime ? (t - first) / span : i / Math.max(1, points.length - 1));
    const y = (v) => BOX.bottom - (v / top) * (BOX.bottom - BOX.top);
    for (const [key, label, colour] of series) {
      const coords = points.map((p, i) => x(times[i], i).toFixed(1) + "," +
        y(Number(p[key]) || 0).toFixed(1));
      if (coords.length === 1) coords.push((BOX.right).toFixed(1) + "," + coords[0].split(",")[1]);
      if (coords.length) {
        svg.append(svgNode("polyline", { class: "line " + colour, points: coords.join(" ") }));
      }
    }
    drawLegend(name, series, points[points.length - 1]);
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

  // -- trading panel and circuit-breaker banner --------------------------------------------

  // ?breaker_window=<seconds> overrides how long the banner stays after the last trip.
  function breakerWindow() {
    const raw = new URLSearchParams(location.search).get("breaker_window");
    const seconds = Number(raw);
    const valid = raw !== null && raw !== "" && seconds > 0 && seconds <= 86400;
    return valid ? seconds * 1000 : config.breaker_window_ms;
  }

  const TRADING = [
    ["trading-pnl", (t) => fmt(t.pnl_today, 2)],
    ["trading-currency", (t) => t.currency || ""],
    ["trading-pnl-realized", (t) => fmt(t.pnl_realized, 2)],
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
    ["trading-trades-per-min", (f) => fmt(f.trades_per_min, 1)],
    ["trading-ws-status", (f) => f.ws_status || "–"],
  ];

  function showTrading(data) {
    const trading = data.trading || {};
    for (const [id, format] of TRADING) $(id).textContent = format(trading);
    const breakers = Object.entries(trading.circuit_breakers || {});
    breaker.open = breakers.filter(([, b]) => b.state !== "closed").map(([name]) => name);
    $("trading-panel").hidden = false;
    if (data.feed) showFeed(data.feed, lastTripAge(breakers, data.feed.timestamp));
  }

  // How long ago (server clock) the latest trip was, or null without one.
  function lastTripAge(breakers, serverNowMs) {
    const trips = breakers.map(([, b]) => Date.parse(b.last_trip)).filter(Number.isFinite);
    return trips.length && Number.isFinite(serverNowMs) ? serverNowMs - Math.max(...trips) : null;
  }

  function showFeed(feed, lastTripAgeMs) {
    for (const [id, format] of FEED) $(id).textContent = format(feed);
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

  async function scheduleTrading(generation) {
    while (generation === state.generation) {
      await sleep(TRADING_REFRESH_MS);
      if (generation !== state.generation) return;
      loadTrading().catch(() => {});
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

  async function loadHistory() {
    const body = await getJson("/history?minutes=" + config.history_minutes);
    state.history = body.history;
    drawCharts();
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
    const response = await fetch(config.api + "/sse/metrics", {
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
    setMode("polling", "Polling every " + config.interval_ms / 1000 + " s");
    const until = Date.now() + duration;
    while (generation === state.generation && Date.now() < until) {
      await sleep(config.interval_ms);
      if (generation !== state.generation) return;
      try {
        showMetrics((await getJson("/current")).metrics);
        setMode("polling", "Polling every " + config.interval_ms / 1000 + " s");
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
      showMetrics((await getJson("/current")).metrics);
      await loadHistory();
      await loadTrading().catch((error) => {
        if (error instanceof AuthRequired) throw error; // else: the panel stays hidden for now
      });
      $("token-form").hidden = true;
      scheduleHistory(generation);
      scheduleTrading(generation);
      await connect(generation);
    } catch (error) {
      if (generation !== state.generation) return;
      if (error instanceof AuthRequired) return askForToken();
      setMode("offline", "Offline, retrying: " + error.message);
      await sleep(config.interval_ms);
      if (generation === state.generation) start();
    }
  }

  async function scheduleHistory(generation) {
    while (generation === state.generation) {
      await sleep(HISTORY_REFRESH_MS);
      if (generation !== state.generation) return;
      loadHistory().catch(() => {});
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

  start();
})();
