// Per-node state grid on a canvas: one cell per node, coloured by state
// (0 honest, 1 byzantine, 2 sleeping, 3 banned). Drawn through one ImageData of
// cols x rows pixels scaled up, so 10,000 nodes cost one pass over a byte array.

const STATE_NAMES = ["honest", "byzantine", "sleeping", "banned"];
// Keep in step with .state-N in dashboard.css.
const STATE_RGB = [
  [46, 160, 67],
  [214, 45, 32],
  [139, 148, 158],
  [31, 35, 40],
];
const MAX_HEIGHT_PX = 360;
const STREAMED_MAX = 10000; // the server omits per-node states above this

export class NodeGrid {
  constructor(canvas, note, legend) {
    this.canvas = canvas;
    this.note = note;
    this.legend = legend;
    this.states = null;
    this.layout = null; // {cols, rows, cell}
    this.offscreen = document.createElement("canvas");
    canvas.addEventListener("mousemove", (event) => this.hover(event));
    window.addEventListener("resize", () => this.draw());
  }

  /** New per-node states (an array of small ints) for `epoch`. */
  update(states, epoch) {
    this.states = states;
    const counts = [0, 0, 0, 0];
    for (const s of states) if (s >= 0 && s < 4) counts[s] += 1;
    this.setCounts(counts, states.length, epoch);
    this.note.textContent = "";
    this.draw();
  }

  /** Counts only (swarms above 10,000 nodes do not stream per-node states), from the byzantine,
   * awake and banned counts of an epoch row or status: honest = n - byzantine, sleeping = n - awake. */
  updateCounts(row, nNodes, epoch) {
    const count = (x) => (Number.isFinite(Number(x)) && x !== null ? Number(x) : null);
    const byzantine = count(row.byzantine);
    const awake = count(row.awake);
    const counts = [
      byzantine === null ? 0 : nNodes - byzantine,
      byzantine ?? 0,
      awake === null ? 0 : nNodes - awake,
      count(row.banned) ?? 0,
    ];
    this.setCounts(counts, nNodes, epoch, true);
  }

  setCounts(counts, nNodes, epoch, fromRow = false) {
    const data = this.canvas.dataset;
    data.nodes = String(nNodes);
    STATE_NAMES.forEach((name, i) => {
      data[name] = String(counts[i]);
      const cell = this.legend.querySelector(`[data-count="${name}"]`);
      if (cell) cell.textContent = counts[i].toLocaleString("en-US");
    });
    data.epoch = String(epoch);
    if (!fromRow) return;
    if (nNodes > STREAMED_MAX) {
      // Row counts overlap (a byzantine node may also be asleep); say where they come from.
      this.note.textContent =
        `${nNodes.toLocaleString("en-US")} nodes: per-node states are not streamed above ` +
        `${STREAMED_MAX.toLocaleString("en-US")} nodes; the counts come from the epoch figures.`;
      this.states = null;
      this.clear();
    } else if (!this.states) {
      this.note.textContent = "Per-node states arrive with the next epoch.";
    }
  }

  clear() {
    const ctx = this.canvas.getContext("2d");
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  draw() {
    const states = this.states;
    if (!states || states.length === 0) return;
    const n = states.length;
    const width = Math.max(100, this.canvas.parentElement.clientWidth);
    // Largest square cell that fits n nodes in width x MAX_HEIGHT_PX.
    let cell = Math.max(1, Math.floor(Math.sqrt((width * MAX_HEIGHT_PX) / n)));
    let cols = Math.max(1, Math.floor(width / cell));
    while (cell > 1 && Math.ceil(n / cols) * cell > MAX_HEIGHT_PX) {
      cell -= 1;
      cols = Math.max(1, Math.floor(width / cell));
    }
    cols = Math.min(cols, n);
    const rows = Math.ceil(n / cols);
    this.layout = { cols, rows, cell };

    const off = this.offscreen;
    off.width = cols;
    off.height = rows;
    const octx = off.getContext("2d");
    const image = octx.createImageData(cols, rows);
    const px = image.data;
    for (let i = 0; i < n; i += 1) {
      const rgb = STATE_RGB[states[i]] ?? [255, 0, 255];
      const o = i * 4;
      px[o] = rgb[0];
      px[o + 1] = rgb[1];
      px[o + 2] = rgb[2];
      px[o + 3] = 255;
    }
    octx.putImageData(image, 0, 0);

    const canvas = this.canvas;
    canvas.width = cols * cell;
    canvas.height = rows * cell;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
    if (cell >= 6) {
      // Thin gaps between cells while they are big enough to tell apart.
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let c = 1; c < cols; c += 1) {
        ctx.moveTo(c * cell + 0.5, 0);
        ctx.lineTo(c * cell + 0.5, canvas.height);
      }
      for (let r = 1; r < rows; r += 1) {
        ctx.moveTo(0, r * cell + 0.5);
        ctx.lineTo(canvas.width, r * cell + 0.5);
      }
      ctx.stroke();
    }
  }

  hover(event) {
    if (!this.layout || !this.states) return;
    const rect = this.canvas.getBoundingClientRect();
    const scale = this.canvas.width / rect.width;
    const col = Math.floor(((event.clientX - rect.left) * scale) / this.layout.cell);
    const row = Math.floor(((event.clientY - rect.top) * scale) / this.layout.cell);
    const id = row * this.layout.cols + col;
    this.canvas.title =
      col < this.layout.cols && id < this.states.length ? `node ${id}: ${STATE_NAMES[this.states[id]]}` : "";
  }
}
