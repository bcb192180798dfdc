// Number and text formatting shared by the dashboard's panels.

/** A finite number, or null for null / undefined / NaN / non-numbers. */
export function finite(value) {
  if (value === null || value === undefined || typeof value === "boolean") return null;
  const x = Number(value);
  return Number.isFinite(x) ? x : null;
}

/** The first coordinate when the swarm has dim > 1 (consensus arrives as a list then). */
export function scalar(value) {
  return Array.isArray(value) ? finite(value[0]) : finite(value);
}

/** Short human form of a number: 4 significant digits, thousands grouped, "–" when missing. */
export function fmt(value, digits = 4) {
  const x = finite(value);
  if (x === null) return "–";
  if (x !== 0 && (Math.abs(x) >= 1e6 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  return Number(x.toPrecision(digits)).toLocaleString("en-US", { maximumFractionDigits: 6 });
}

export function percent(value, digits = 1) {
  const x = finite(value);
  return x === null ? "–" : `${(100 * x).toFixed(digits)}%`;
}

/** Bytes with a binary-free SI unit (B, kB, MB, GB). */
export function bytes(value) {
  const x = finite(value);
  if (x === null) return "–";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = x;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** An element with text content (never innerHTML: server strings are not trusted markup). */
export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

/** Any JSON value as short text for a table cell. */
export function cellText(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return fmt(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) {
    const shown = value.slice(0, 6).map(cellText).join(", ");
    return value.length > 6 ? `${shown}, … (${value.length})` : shown;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
