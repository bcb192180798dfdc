// The status bar: connection state, epoch, regime, consensus, honest mean, drift, nodes.

import { fmt, percent, scalar } from "./format.js";
import { regimeName } from "./charts.js";

const $ = (id) => document.getElementById(id);

export function showConnection({ state, attempt, delayMs }) {
  $("conn-dot").dataset.state = state;
  const text = {
    connecting: attempt ? `connecting (attempt ${attempt + 1})…` : "connecting…",
    live: "live",
    reconnecting: `disconnected — retrying in ${((delayMs ?? 0) / 1000).toFixed(1)} s`,
  }[state];
  $("conn-state").textContent = text ?? state;
}

/** Figures from a status body (hello) or an epoch row; missing ones are left as they were. */
export function showFigures(figures, nNodes) {
  if (figures.epoch !== undefined) $("sb-epoch").textContent = fmt(figures.epoch);
  if (figures.regime !== undefined) {
    const name = regimeName(figures.regime);
    $("sb-regime").textContent = name ?? "–";
    $("sb-regime").dataset.regime = name ?? "";
  }
  if (figures.consensus !== undefined) $("sb-consensus").textContent = fmt(scalar(figures.consensus));
  if (figures.honest_mean !== undefined) $("sb-honest-mean").textContent = fmt(scalar(figures.honest_mean));
  if (figures.drift !== undefined) $("sb-drift").textContent = percent(figures.drift, 2);
  if (nNodes !== undefined && nNodes !== null) $("sb-nodes").textContent = fmt(nNodes);
  if (figures.epoch_ms !== undefined) $("sb-epoch-ms").textContent = `${fmt(figures.epoch_ms)} ms`;
}
