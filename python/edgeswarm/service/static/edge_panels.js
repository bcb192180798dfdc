// Edge fleet panels: devices, buffer utilisation, clusters and heads, emergencies, alerts,
// ML model performance. Read from /api/edge/* (polled) and the 'edge' / 'alert' /
// 'emergency' WebSocket messages. When the server has no edge runtime (503 or 404), the
// section says so and shows nothing else: no placeholder figures.

import { request } from "./api.js";
import { cellText, el, finite, percent, pick } from "./format.js";

const POLL_MS = 5000;
const RETRY_UNLOADED_MS = 15000;
const MAX_ALERTS = 100;
const MAX_ROWS = 25;

/** A list of rows from a list, {items|devices|clusters|...: list} or {id: row} answer. */
function rowsOf(data, idName, ...listKeys) {
  if (Array.isArray(data)) return data;
  if (!data || typeof data !== "object") return [];
  for (const key of listKeys) if (Array.isArray(data[key])) return data[key];
  return Object.entries(data).map(([id, value]) =>
    value && typeof value === "object" && !Array.isArray(value) ? { [idName]: id, ...value } : { [idName]: id, value },
  );
}

/** A table of `rows` with the `preferred` columns that occur (else the first keys seen). */
function renderTable(container, rows, preferred, emptyText) {
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
  table.append(el("thead"));
  table.tHead.append(head);
  const body = el("tbody");
  for (const row of rows.slice(0, MAX_ROWS)) {
    const tr = el("tr");
    for (const c of columns) tr.append(el("td", cellText(row[c])));
    body.append(tr);
  }
  table.append(body);
  container.append(table);
  if (rows.length > MAX_ROWS) container.append(el("p", `${MAX_ROWS} of ${rows.length} shown`, "note"));
}

/** Name: value lines for the scalar fields of an object (nested objects flattened a.b). */
function renderKeyValues(container, obj, emptyText, limit = 24) {
  container.replaceChildren();
  const lines = [];
  const walk = (value, prefix) => {
    if (lines.length >= limit) return;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else {
      lines.push([prefix, value]);
    }
  };
  walk(obj, "");
  if (!lines.length) {
    container.append(el("p", emptyText, "note"));
    return;
  }
  const dl = el("dl");
  for (const [k, v] of lines) {
    dl.append(el("dt", k.replaceAll("_", " ")), el("dd", cellText(v)));
  }
  container.append(dl);
}

function bar(label, fraction) {
  const row = el("div", null, "bar-row");
  const track = el("div", null, "bar-track");
  const fill = el("div", null, "bar-fill");
  const x = finite(fraction);
  fill.style.width = `${x === null ? 0 : Math.max(0, Math.min(1, x)) * 100}%`;
  track.append(fill);
  row.append(el("span", label, "bar-label"), track, el("span", percent(x), "bar-value"));
  return row;
}

export class EdgePanels {
  constructor() {
    this.stateNote = document.getElementById("edge-state");
    this.panels = document.getElementById("edge-panels");
    this.devicesSummary = document.getElementById("edge-devices-summary");
    this.devices = document.getElementById("edge-devices");
    this.buffer = document.getElementById("edge-buffer");
    this.clusters = document.getElementById("edge-clusters");
    this.emergencies = document.getElementById("edge-emergencies");
    this.alertsBox = document.getElementById("edge-alerts");
    this.ml = document.getElementById("edge-ml");
    this.alerts = [];
    this.emergencyRows = [];
    this.deviceRows = [];
    this.summary = null;
    this.loaded = null; // null unknown, true, false
    this.busy = false;
    renderTable(this.alertsBox, [], [], "No alerts since this page opened.");
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
      this.setLoaded();
      const [devices, clusters, emergencies] = await Promise.all([
        request("/api/edge/devices"),
        request("/api/edge/clusters"),
        request("/api/edge/emergencies"),
      ]);
      this.onSummary(analytics.data);
      if (devices.ok) this.showDevices(rowsOf(devices.data, "id", "devices", "items"));
      else this.devices.replaceChildren(el("p", `devices: ${devices.error}`, "note error"));
      if (clusters.ok) this.showClusters(rowsOf(clusters.data, "cluster_id", "clusters", "items"));
      else this.clusters.replaceChildren(el("p", `clusters: ${clusters.error}`, "note error"));
      if (emergencies.ok) {
        this.emergencyRows = rowsOf(emergencies.data, "id", "emergencies", "items");
        this.showEmergencies();
      } else {
        this.emergencies.replaceChildren(el("p", `emergencies: ${emergencies.error}`, "note error"));
      }
    } finally {
      this.busy = false;
    }
  }

  /** Edge summary (WS 'edge' message data or GET /api/edge/analytics). */
  onSummary(summary) {
    if (!summary || typeof summary !== "object") return;
    if (this.loaded !== true) this.setLoaded();
    this.summary = summary;
    const { ml, ...rest } = summary;
    const mlBlock = ml ?? pick(summary, "ml_performance", "models", "model_performance");
    const shown = { ...rest };
    for (const k of ["ml_performance", "models", "model_performance", "loaded"]) delete shown[k];
    renderKeyValues(this.devicesSummary, shown, "The server sent an empty edge summary.");
    if (Array.isArray(mlBlock)) {
      renderTable(this.ml, mlBlock, ["model", "detector", "name", "precision", "recall", "f1", "accuracy", "auc"], "No models.");
    } else {
      renderKeyValues(this.ml, mlBlock, "The server reports no ML model figures yet.");
    }
    this.showBuffer();
  }

  showDevices(rows) {
    this.deviceRows = rows;
    // Offline first, then the lowest battery: the devices that need attention.
    const sorted = [...rows].sort((a, b) => {
      const on = Number(Boolean(a.online)) - Number(Boolean(b.online));
      return on !== 0 ? on : (finite(a.battery) ?? 1e9) - (finite(b.battery) ?? 1e9);
    });
    renderTable(
      this.devices,
      sorted,
      ["id", "device_id", "name", "type", "sensor", "online", "battery", "buffer_utilisation", "health", "cluster"],
      "The fleet has no devices.",
    );
    this.showBuffer();
  }

  showBuffer() {
    this.buffer.replaceChildren();
    const fromSummary = this.summary ? pick(this.summary, "buffer_utilisation", "buffer") : undefined;
    if (finite(fromSummary) !== null) {
      this.buffer.append(bar("mean", fromSummary));
    } else if (fromSummary && typeof fromSummary === "object") {
      for (const [k, v] of Object.entries(fromSummary)) if (finite(v) !== null) this.buffer.append(bar(k, v));
    }
    const per = this.deviceRows.map((d) => finite(d.buffer_utilisation)).filter((x) => x !== null);
    if (per.length) {
      const mean = per.reduce((a, b) => a + b, 0) / per.length;
      this.buffer.append(bar("device mean", mean), bar("device max", Math.max(...per)));
      this.buffer.append(el("p", `over ${per.length} devices`, "note"));
    }
    if (!this.buffer.childElementCount) this.buffer.append(el("p", "The server reports no buffer figures.", "note"));
  }

  showClusters(rows) {
    const shaped = rows.map((r) => {
      const members = pick(r, "members", "devices");
      return Array.isArray(members) ? { ...r, size: members.length } : r;
    });
    renderTable(this.clusters, shaped, ["cluster_id", "id", "head", "size", "n_devices", "zone", "term", "leader"], "No clusters.");
  }

  showEmergencies() {
    renderTable(
      this.emergencies,
      this.emergencyRows,
      ["id", "type", "severity", "zone", "status", "cluster_id", "time", "affected_devices", "action"],
      "No emergencies.",
    );
  }

  onAlert(alert) {
    this.alerts.unshift(alert);
    if (this.alerts.length > MAX_ALERTS) this.alerts.length = MAX_ALERTS;
    renderTable(this.alertsBox, this.alerts, ["t_s", "device_id", "alert_type", "severity", "value"], "No alerts.");
  }

  onEmergency(emergency) {
    const id = emergency && emergency.id;
    const at = id === undefined ? -1 : this.emergencyRows.findIndex((e) => e.id === id);
    if (at >= 0) this.emergencyRows[at] = { ...this.emergencyRows[at], ...emergency };
    else this.emergencyRows.unshift(emergency);
    this.showEmergencies();
  }
}
