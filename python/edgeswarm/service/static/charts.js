// The four time-series charts (plotly.js): convergence and drift, entropy with regime bands,
// bandwidth vs the federated-learning baseline, energy and sleep ratio.
// Epochs are kept in bounded arrays and the charts redrawn at most once per animation frame.

import { finite, scalar } from "./format.js";

const MAX_POINTS = 1500; // epochs kept for the charts (older ones scroll out)
const REGIME_NAMES = ["Calm", "PreStorm", "Storm"]; // codes 0, 1, 2 when sent as numbers
const REGIME_FILL = {
  Calm: "rgba(46, 160, 67, 0.16)",
  PreStorm: "rgba(230, 162, 20, 0.24)",
  Storm: "rgba(214, 45, 32, 0.24)",
};
const PLOT_CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
const BASE_LAYOUT = {
  margin: { l: 56, r: 56, t: 28, b: 36 },
  legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
  xaxis: { title: { text: "epoch" }, automargin: true },
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "rgba(0,0,0,0)",
  font: { size: 11 },
};

// The series kept per epoch: the API's names (README "Names"), which are Swarm.run()'s columns.
const KEYS = [
  "epoch",
  "consensus",
  "honest_mean",
  "drift",
  "entropy",
  "regime",
  "bytes_per_node_day",
  "fl_bytes_per_node_day",
  "energy_mj",
  "sleep_ratio",
];

function emptySeries() {
  return Object.fromEntries(KEYS.map((k) => [k, []]));
}

export function regimeName(value) {
  if (typeof value === "number") return REGIME_NAMES[value] ?? String(value);
  return value === null || value === undefined ? null : String(value);
}

/** One history row (GET /api/history or WS 'epoch' data) as the chart's fields. */
function fields(row) {
  return {
    epoch: finite(row.epoch),
    consensus: scalar(row.consensus),
    honest_mean: scalar(row.honest_mean),
    drift: finite(row.drift),
    entropy: finite(row.entropy),
    regime: regimeName(row.regime),
    bytes_per_node_day: finite(row.bytes_per_node_day),
    fl_bytes_per_node_day: finite(row.fl_bytes_per_node_day),
    energy_mj: finite(row.energy_mj),
    sleep_ratio: finite(row.sleep_ratio),
  };
}

/** Contiguous runs of one regime as shaded rectangles behind the entropy line. */
function regimeBands(epochs, regimes) {
  const shapes = [];
  let start = 0;
  for (let i = 1; i <= epochs.length; i += 1) {
    if (i === epochs.length || regimes[i] !== regimes[start]) {
      const name = regimes[start];
      if (name && REGIME_FILL[name]) {
        shapes.push({
          type: "rect",
          xref: "x",
          yref: "paper",
          x0: epochs[start] - 0.5,
          x1: epochs[i - 1] + 0.5,
          y0: 0,
          y1: 1,
          fillcolor: REGIME_FILL[name],
          line: { width: 0 },
          layer: "below",
          name,
        });
      }
      start = i;
    }
  }
  return shapes;
}

export class Charts {
  constructor(ids) {
    this.ids = ids; // {convergence, entropy, bandwidth, energy}: element ids
    this.series = emptySeries();
    this.available = typeof window.Plotly !== "undefined";
    this.pending = false;
    this.revision = 0; // bumped per draw so Plotly.react redraws
  }

  /** Replaces everything with `rows` (the hello message's history, oldest first). */
  reset(rows) {
    this.series = emptySeries();
    for (const row of rows || []) this.push(row, false);
    this.schedule();
  }

  /** Appends one epoch; an epoch already shown (a repeat after reconnecting) is ignored. */
  add(row) {
    if (this.push(row, true)) this.schedule();
  }

  get lastEpoch() {
    const e = this.series.epoch;
    return e.length ? e[e.length - 1] : null;
  }

  push(row, checkOrder) {
    const f = fields(row);
    if (f.epoch === null) return false;
    if (checkOrder && this.lastEpoch !== null && f.epoch <= this.lastEpoch) return false;
    for (const k of KEYS) this.series[k].push(f[k]);
    if (this.series.epoch.length > MAX_POINTS) {
      for (const k of KEYS) this.series[k].splice(0, this.series[k].length - MAX_POINTS);
    }
    return true;
  }

  schedule() {
    if (!this.available || this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    this.revision += 1;
    // Copies: the plotted arrays stay as drawn while new epochs arrive before the next frame.
    const s = Object.fromEntries(KEYS.map((k) => [k, this.series[k].slice()]));
    const x = s.epoch;
    const drift = s.drift.map((d) => (d === null ? null : 100 * d));
    this.plot(
      this.ids.convergence,
      [
        { x, y: s.consensus, name: "consensus", mode: "lines", line: { color: "#1f6feb", width: 2 } },
        { x, y: s.honest_mean, name: "honest mean", mode: "lines", line: { color: "#2ea043", dash: "dot" } },
        { x, y: drift, name: "relative drift (%)", mode: "lines", yaxis: "y2", line: { color: "#d62d20", width: 1 } },
      ],
      {
        yaxis: { title: { text: "value" }, automargin: true },
        yaxis2: { title: { text: "drift (%)" }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false, tickmode: "auto" },
      },
    );
    this.plot(
      this.ids.entropy,
      [{ x, y: s.entropy, name: "entropy H", mode: "lines", line: { color: "#6e40c9", width: 2 } }],
      {
        yaxis: { title: { text: "entropy H" }, range: [0, 1] },
        shapes: regimeBands(x, s.regime),
        showlegend: false,
        margin: { ...BASE_LAYOUT.margin, r: 16, t: 8 },
      },
    );
    this.plot(
      this.ids.bandwidth,
      [
        { x, y: s.bytes_per_node_day, name: "swarm (bytes/node/day)", mode: "lines", line: { color: "#1f6feb", width: 2 } },
        { x, y: s.fl_bytes_per_node_day, name: "federated learning baseline", mode: "lines", line: { color: "#8b949e", dash: "dash" } },
      ],
      {
        yaxis: { title: { text: "bytes per node per day" }, type: "log", automargin: true },
        margin: { ...BASE_LAYOUT.margin, r: 16 },
      },
    );
    this.plot(
      this.ids.energy,
      [
        { x, y: s.energy_mj, name: "energy per node (mJ)", mode: "lines", line: { color: "#bf8700", width: 2 } },
        { x, y: s.sleep_ratio, name: "sleep ratio", mode: "lines", yaxis: "y2", line: { color: "#0a7ea4" } },
      ],
      {
        yaxis: { title: { text: "energy (mJ)" }, automargin: true },
        yaxis2: { title: { text: "sleep ratio" }, overlaying: "y", side: "right", range: [0, 1], showgrid: false, tickmode: "auto" },
      },
    );
  }

  plot(id, traces, layout) {
    const node = document.getElementById(id);
    if (!node) return;
    // uirevision keeps a user's zoom across redraws; datarevision makes react redraw.
    const full = { ...BASE_LAYOUT, ...layout, datarevision: this.revision, uirevision: id };
    window.Plotly.react(node, traces, full, PLOT_CONFIG);
    node.dataset.points = String(this.series.epoch.length);
  }
}
