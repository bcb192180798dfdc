// MQTT broker panel: the edge fleet's broker figures from $SYS (GET /api/broker, polled): clients
// connected, messages received / sent per second, dropped. With `serve --mqtt off` the panel says
// the fleet uses the in-process link and shows no figures.

import { request } from "./api.js";
import { el, fmt } from "./format.js";

const POLL_MS = 2000;
const RETRY_OFF_MS = 30000;

export class BrokerPanel {
  constructor() {
    this.box = document.getElementById("broker-figures");
    this.note = document.getElementById("broker-note");
    this.mode = null;
  }

  start() {
    const loop = async () => {
      await this.refresh();
      setTimeout(loop, this.mode === "off" ? RETRY_OFF_MS : POLL_MS);
    };
    loop();
  }

  async refresh() {
    const result = await request("/api/broker");
    if (!result.ok) {
      this.note.textContent = `Could not read /api/broker: ${result.error}`;
      return;
    }
    const state = result.data || {};
    this.mode = state.mode ?? null;
    this.box.dataset.mode = this.mode ?? "";
    if (state.error) {
      this.box.replaceChildren();
      this.note.textContent = `MQTT (${this.mode}) did not start: ${state.error}`;
      return;
    }
    if (this.mode === "off" || !state.sys) {
      this.box.replaceChildren();
      this.note.textContent = "MQTT is off: the fleet uses the in-process simulated link (serve --mqtt).";
      return;
    }
    const sys = state.sys;
    const devices = Object.entries(state.devices || {})
      .map(([status, count]) => `${fmt(count)} ${status}`)
      .join(", ");
    const dl = el("dl");
    for (const [label, value] of [
      ["broker", `${state.url} (${this.mode})`],
      ["clients connected", fmt(sys.clients_connected)],
      ["messages received / s", fmt(sys.received_per_s)],
      ["messages sent / s", fmt(sys.sent_per_s)],
      ["dropped", fmt(sys.dropped)],
      ["devices", devices || "–"],
      ["version", sys.version ?? "–"],
    ]) {
      dl.append(el("dt", label), el("dd", value));
    }
    this.box.replaceChildren(dl);
    this.note.textContent = sys.connected ? "" : "The service's $SYS reader is not connected to the broker.";
  }
}
