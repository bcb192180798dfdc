// Edge fleet panels: devices (online/offline, battery), buffer utilisation, clusters with
// their heads (device nearest the centroid) and Raft leaders, emergencies, alerts, ML model performance. Read from /api/edge/* (polled)
// and the 'edge' / 'alert' / 'emergency' WebSocket messages. When the server has no edge
// runtime (503 or 404), the section says so and shows nothing else: no placeholder figures.

import { request } from "./api.js";
import { cellText, el, finite, fmt, percent } from "./format.js";

const POLL_MS = 5000;
const RETRY_UNLOADED_MS = 15000;
const MAX_ALERTS = 100;
const MAX_ROWS = 25;
const DEVICE_PAGE = 1000; // devices fetched per poll (the API pages them)
// The emergency status vocabulary, in the order of edgeswarm.fleet.emergency.EMERGENCY_STATUSES
// (the summary counts records under each of these keys).
const EMERGENCY_STATUSES = ["proposed", "acknowledged", "unknown", "failed", "committed", "abandoned"];

/** The list under `key` of one of the API's pages ({devices: [...]}, {emergencies: [...]}, ...). */
function rowsOf(data, key) {
  return data && Array.isArray(data[key]) ? data[key] : [];
}

/** A table of `rows` with the `preferred` columns that occur (else the first keys seen). */
function renderTable(container, rows, preferred, emptyText, shownNote = "") {
  container.replaceChildren();
  if (!rows.length) {
    container.append(el("p", emptyText, "note"));
    return;
  }
  const seen = new Set();
  for (const row of rows.slice(0, 50)) for (const k of Object.keys(row)) seen.add(k);
  let columns = preferred.filter((c) => seen.has(c));
  if (!columns.length) columns = [...seen].slice(0, 6);
  const table = el("table");
  const head = el("tr");
  for (const c of columns) head.append(el("th", c.replaceAll("_", " ")));
  table.createTHead().append(head);
  const body = el("tbody");
  for (const row of rows.slice(0, MAX_ROWS)) {
    const tr = el("tr");
    for (const c of columns) tr.append(el("td", cellText(row[c])));
    body.append(tr);
  }
  table.append(body);
  container.append(table);
  if (rows.length > MAX_ROWS) container.append(el("p", `${MAX_ROWS} of ${rows.length} shown${shownNote}`, "note"));
}

/** Label: value pairs; pairs whose value is undefined (not sent by the server) are left out. */
function renderPairs(container, pairs) {
  container.replaceChildren();
  const dl = el("dl");
  for (const [label, value] of pairs) {
    if (value === undefined) continue;
    dl.append(el("dt", label), el("dd", typeof value === "string" ? value : cellText(value)));
  }
  if (dl.childElementCount) container.append(dl);
}

function bar(label, fraction, text) {
  const row = el("div", null, "bar-row");
  const track = el("div", null, "bar-track");
  const fill = el("div", null, "bar-fill");
  const x = finite(fraction);
  fill.style.width = `${x === null ? 0 : Math.max(0, Math.min(1, x)) * 100}%`;
  track.append(fill);
  row.append(el("span", label, "bar-label"), track, el("span", text ?? percent(x), "bar-value"));
  return row;
}

/** `a / b` when both are known, else whichever is. */
function ratio(a, b) {
  if (a === undefined) return undefined;
  return b === undefined ? fmt(a) : `${fmt(a)} / ${fmt(b)}`;
}

export class EdgePanels {
  constructor() {
    const $ = (id) => document.getElementById(id);
    this.stateNote = $("edge-state");
    this.panels = $("edge-panels");
    this.box = {
      devicesSummary: $("edge-devices-summary"),
      batteryHistogram: $("edge-battery-histogram"),
      devices: $("edge-devices"),
      buffer: $("edge-buffer"),
      clustersSummary: $("edge-clusters-summary"),
      clusters: $("edge-clusters"),
      emergenciesSummary: $("edge-emergencies-summary"),
      emergencies: $("edge-emergencies"),
      alertsSummary: $("edge-alerts-summary"),
      alerts: $("edge-alerts"),
      ml: $("edge-ml"),
    };
    this.alerts = [];
    this.alertsSeeded = false;
    this.emergencyRows = [];
    this.loaded = null; // null unknown, true, false
    this.busy = false;
  }

  start() {
    const loop = async () => {
      await this.refresh();
      setTimeout(loop, this.loaded === false ? RETRY_UNLOADED_MS : POLL_MS);
    };
    loop();
  }

  setUnloaded(reason) {
    this.loaded = false;
    this.stateNote.dataset.loaded = "false";
    this.stateNote.textContent = `Edge runtime not loaded — ${reason}. No device, cluster or ML figures to show.`;
    this.panels.hidden = true;
  }

  setLoaded() {
    this.loaded = true;
    this.stateNote.dataset.loaded = "true";
    this.stateNote.textContent = "";
    this.panels.hidden = false;
  }

  /** The status's edge block (hello message): {loaded: false} means no runtime. */
  fromStatus(edge) {
    if (edge && edge.loaded === false) this.setUnloaded("the server reports edge.loaded = false");
  }

  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const analytics = await request("/api/edge/analytics");
      if (analytics.status === 503 || analytics.status === 404) {
        this.setUnloaded(`the server answered ${analytics.error}`);
        return;
      }
      if (!analytics.ok) {
        this.stateNote.textContent = `Could not read /api/edge/analytics: ${analytics.error}`;
        return;
      }
      const [devices, clusters, emergencies] = await Promise.all([
        request(`/api/edge/devices?limit=${DEVICE_PAGE}`),
        request("/api/edge/clusters"),
        request("/api/edge/emergencies"),
      ]);
      this.onSummary(analytics.data);
      this.showAnalytics(analytics.data);
      this.show(devices, this.box.devices, (d) => this.showDevices(d));
      this.show(clusters, this.box.clusters, (d) => this.showClusters(d));
      this.show(emergencies, this.box.emergencies, (d) => {
        this.emergencyRows = rowsOf(d, "emergencies");
        this.showEmergencies();
      });
    } finally {
      this.busy = false;
    }
  }

  show(result, box, render) {
    if (result.ok) render(result.data);
    else box.replaceChildren(el("p", result.error, "note error"));
  }

  /** Edge summary: the WS 'edge' message data, or the summary part of GET /api/edge/analytics. */
  onSummary(summary) {
    if (!summary || typeof summary !== "object") return;
    if (this.loaded !== true) this.setLoaded();
    const devices = summary.devices || {};
    const battery = summary.battery || {};
    const health = summary.health || {};
    renderPairs(this.box.devicesSummary, [
      ["online", ratio(devices.online, devices.total)],
      ["offline", devices.offline],
      ["added by admin", devices.admin_added],
      ["battery mean / min", battery.mean === undefined ? undefined : `${fmt(battery.mean)}% / ${fmt(battery.min)}%`],
      ["battery low", battery.low],
      ["health mean", health.mean],
      ["failed", health.failed],
    ]);

    const buffer = summary.buffer || {};
    this.box.buffer.replaceChildren();
    if (buffer.mean_utilisation !== undefined) this.box.buffer.append(bar("mean", buffer.mean_utilisation));
    if (buffer.max_utilisation !== undefined) this.box.buffer.append(bar("fullest device", buffer.max_utilisation));
    const extra = el("div", null, "kv");
    renderPairs(extra, [
      ["messages buffered", buffer.buffered],
      ["dropped (buffer full)", buffer.dropped],
      ["uplink sent", summary.link?.sent],
      ["uplink received", summary.link?.received],
      ["uplink dropped", summary.link?.dropped],
    ]);
    this.box.buffer.append(extra);
    if (!this.box.buffer.querySelector(".bar-row, dd")) {
      this.box.buffer.replaceChildren(el("p", "The server reports no buffer figures.", "note"));
    }

    const clusters = summary.clusters || {};
    renderPairs(this.box.clustersSummary, [
      ["clusters", clusters.count],
      ["with a Raft leader", clusters.with_leader],
    ]);
    const emergencies = summary.emergencies || {};
    renderPairs(this.box.emergenciesSummary, [
      ["open", emergencies.open],
      ["total", emergencies.total],
      ["resolved", emergencies.resolved],
      ...EMERGENCY_STATUSES.map((s) => [s, emergencies[s]]),
    ]);
    const alerts = summary.alerts || {};
    renderPairs(this.box.alertsSummary, [
      ["active", alerts.active],
      ["warning / critical", alerts.active === undefined ? undefined : `${fmt(alerts.active_warning)} / ${fmt(alerts.active_critical)}`],
      ["raised since start", alerts.raised],
    ]);
    this.showModels(summary.ml);
  }

  /** Parts only GET /api/edge/analytics has: the battery histogram and the latest alerts. */
  showAnalytics(analytics) {
    const hist = analytics && analytics.battery_histogram;
    const box = this.box.batteryHistogram;
    box.replaceChildren();
    if (hist && Array.isArray(hist.counts) && Array.isArray(hist.edges)) {
      // A small column chart: one column per battery band, height by device count.
      const most = Math.max(1, ...hist.counts);
      const columns = el("div", null, "histogram");
      hist.counts.forEach((count, i) => {
        const column = el("div", null, "histogram-column");
        column.style.height = `${(100 * count) / most}%`;
        column.title = `${fmt(hist.edges[i])}–${fmt(hist.edges[i + 1])}% charge: ${fmt(count)} devices`;
        columns.append(column);
      });
      const first = fmt(hist.edges[0]);
      const last = fmt(hist.edges[hist.edges.length - 1]);
      box.append(columns, el("p", `battery charge ${first}% → ${last}% (devices per band; hover for counts)`, "note"));
    }
    const recent = analytics && analytics.recent_alerts;
    if (!this.alertsSeeded && Array.isArray(recent)) {
      // Alerts raised before the page opened, newest first; live ones are added on top.
      this.alertsSeeded = true;
      this.alerts = [...this.alerts, ...recent].slice(0, MAX_ALERTS);
      this.showAlerts();
    }
  }

  showModels(ml) {
    if (ml === undefined) return;
    const rows = Array.isArray(ml)
      ? ml
      : Object.entries(ml || {}).map(([name, row]) => ({ model: name, ...(row && typeof row === "object" ? row : { value: row }) }));
    renderTable(
      this.box.ml,
      rows,
      ["model", "inferences", "anomaly_rate", "precision", "recall", "f1", "accuracy", "mean_ns_per_sample"],
      "The server reports no ML models.",
    );
  }

  showDevices(data) {
    const rows = rowsOf(data, "devices").map((d) => ({
      ...d,
      active_alerts: Array.isArray(d.active_alerts) ? d.active_alerts.length : d.active_alerts,
    }));
    // Offline first, then the lowest battery: the devices that need attention.
    rows.sort((a, b) => {
      const on = Number(Boolean(a.online)) - Number(Boolean(b.online));
      return on !== 0 ? on : (finite(a.battery) ?? 1e9) - (finite(b.battery) ?? 1e9);
    });
    const total = finite(data?.total);
    const note = total !== null && total > rows.length ? ` (first ${rows.length} of ${fmt(total)} fetched)` : "";
    renderTable(
      this.box.devices,
      rows,
      ["device_id", "id", "device_type", "sensor", "online", "battery", "buffer_utilisation", "health", "cluster_id", "active_alerts"],
      "The fleet has no devices.",
      `: offline first, then lowest battery${note}`,
    );
  }

  showClusters(data) {
    const rows = rowsOf(data, "clusters").map((r) =>
      Array.isArray(r.members) && r.size === undefined ? { ...r, size: r.members.length } : r,
    );
    renderTable(
      this.box.clusters,
      rows,
      ["cluster_id", "head", "leader", "size", "online", "term", "open_emergencies"],
      "No clusters.",
    );
  }

  showEmergencies() {
    renderTable(
      this.box.emergencies,
      this.emergencyRows,
      ["id", "type", "severity", "status", "cluster_id", "zone", "resolved", "affected_devices", "action"],
      "No emergencies.",
    );
  }

  showAlerts() {
    renderTable(
      this.box.alerts,
      this.alerts,
      ["t_s", "device_id", "alert_type", "severity", "value", "limit", "cluster_id"],
      "No alerts.",
    );
  }

  onAlert(alert) {
    this.alerts.unshift(alert);
    if (this.alerts.length > MAX_ALERTS) this.alerts.length = MAX_ALERTS;
    this.showAlerts();
  }

  onEmergency(emergency) {
    const id = emergency && emergency.id;
    const at = id === undefined ? -1 : this.emergencyRows.findIndex((e) => e.id === id);
    if (at >= 0) this.emergencyRows[at] = { ...this.emergencyRows[at], ...emergency };
    else this.emergencyRows.unshift(emergency);
    this.showEmergencies();
  }
}
