// The WebSocket to /ws: reconnects with exponential backoff (0.5 s doubling to 15 s) and
// reports its state so the status bar can show it.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;

/**
 * Connects to /ws and keeps reconnecting. `onMessage(msg)` gets each parsed JSON message;
 * `onState({state, attempt, delayMs})` gets "connecting" | "live" | "reconnecting".
 */
export function connectLive({ onMessage, onState }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws`;
  let attempt = 0;

  function open() {
    onState({ state: "connecting", attempt });
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (err) {
      retry();
      return;
    }
    socket.onopen = () => {
      attempt = 0;
      onState({ state: "live", attempt });
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not JSON: nothing the dashboard can show
      }
      onMessage(message);
    };
    socket.onclose = () => retry();
    // onerror is always followed by onclose, which schedules the retry.
  }

  function retry() {
    const delayMs = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
    attempt += 1;
    onState({ state: "reconnecting", attempt, delayMs });
    setTimeout(open, delayMs);
  }

  open();
}
