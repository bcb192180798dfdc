// Entry point: wires the WebSocket stream to the status bar, charts, node grid and edge panels.
// Plain ES modules, no build step; plotly.js is loaded before this by index.html.

import { BrokerPanel } from "./broker_panel.js";
import { Charts } from "./charts.js";
import { Controls } from "./controls.js";
import { EdgePanels } from "./edge_panels.js";
import { connectLive } from "./live.js";
import { NodeGrid } from "./node_grid.js";
import { showConnection, showFigures } from "./status_bar.js";

const charts = new Charts({
  convergence: "convergence-chart",
  entropy: "entropy-chart",
  bandwidth: "bandwidth-chart",
  energy: "energy-chart",
});
if (!charts.available) document.getElementById("charts-missing").hidden = false;

const grid = new NodeGrid(
  document.getElementById("node-grid"),
  document.getElementById("node-grid-note"),
  document.getElementById("node-legend"),
);
const edge = new EdgePanels();
new Controls();

let nNodes = null;

function onEpoch(message) {
  const row = message.data || {};
  charts.add(row);
  showFigures(row, nNodes);
  const states = message.nodes && message.nodes.state;
  if (Array.isArray(states)) {
    nNodes = states.length;
    grid.update(states, row.epoch);
  } else if (nNodes !== null) {
    grid.updateCounts(row, nNodes, row.epoch);
  }
}

function onMessage(message) {
  switch (message.type) {
    case "hello": {
      const status = message.status || {};
      nNodes = status.n_nodes ?? nNodes;
      charts.reset(message.history || []);
      showFigures(status, nNodes);
      if (nNodes !== null && nNodes > 0) grid.updateCounts(status, nNodes, status.epoch ?? -1);
      edge.fromStatus(status.edge);
      if (status.edge && status.edge.loaded) edge.onSummary(status.edge);
      break;
    }
    case "epoch":
      onEpoch(message);
      break;
    case "edge":
      edge.onSummary(message.data);
      break;
    case "alert":
      edge.onAlert(message.data || {});
      break;
    case "emergency":
      edge.onEmergency(message.data || {});
      break;
    default:
      break; // unknown types are for other clients
  }
}

connectLive({ onMessage, onState: showConnection });
edge.start();
new BrokerPanel().start();
