// Zoom and pan. Cards and the SVG links live in one transformed layer, so they never drift
// apart under zoom; screen points are turned into canvas points with toCanvas().

import { NODE_H, NODE_W } from "./state.js";

const MIN_ZOOM = 0.2;
const MAX_ZOOM = 2;

export class Viewport {
  constructor(canvas, layer, onChange) {
    this.canvas = canvas;
    this.layer = layer;
    this.onChange = onChange;
    this.x = 40;
    this.y = 40;
    this.z = 1;
    canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
  }

  apply() {
    this.layer.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.z})`;
    this.onChange(this);
  }

  toCanvas(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: (clientX - rect.left - this.x) / this.z, y: (clientY - rect.top - this.y) / this.z };
  }

  toScreen(x, y) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + this.x + x * this.z, y: rect.top + this.y + y * this.z };
  }

  // The canvas point at the middle of what is visible.
  center() {
    const rect = this.canvas.getBoundingClientRect();
    return this.toCanvas(rect.left + rect.width / 2, rect.top + rect.height / 2);
  }

  zoomAt(factor, clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const cx = clientX ?? rect.left + rect.width / 2;
    const cy = clientY ?? rect.top + rect.height / 2;
    const before = this.toCanvas(cx, cy);
    this.z = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.z * factor));
    this.x = cx - rect.left - before.x * this.z;
    this.y = cy - rect.top - before.y * this.z;
    this.apply();
  }

  reset() {
    this.zoomAt(1 / this.z);
  }

  wheel(event) {
    event.preventDefault();
    if (event.ctrlKey || Math.abs(event.deltaY) >= Math.abs(event.deltaX)) {
      this.zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
    } else {
      this.panBy(-event.deltaX, 0);
    }
  }

  panBy(dx, dy) {
    this.x += dx;
    this.y += dy;
    this.apply();
  }

  // Show every block, at most at 100%.
  fit(nodes) {
    const rect = this.canvas.getBoundingClientRect();
    if (!nodes.length) {
      this.x = 40;
      this.y = 40;
      this.z = 1;
      this.apply();
      return;
    }
    const minX = Math.min(...nodes.map((n) => n.x));
    const minY = Math.min(...nodes.map((n) => n.y));
    const maxX = Math.max(...nodes.map((n) => n.x + NODE_W + 70));
    const maxY = Math.max(...nodes.map((n) => n.y + NODE_H));
    const pad = 48;
    const z = Math.min(1, (rect.width - 2 * pad) / (maxX - minX), (rect.height - 2 * pad) / (maxY - minY));
    this.z = Math.max(MIN_ZOOM, z);
    this.x = (rect.width - (maxX - minX) * this.z) / 2 - minX * this.z;
    this.y = (rect.height - (maxY - minY) * this.z) / 2 - minY * this.z;
    this.apply();
  }

  // On opening: the whole scenario in view, centred: zoomed out when it is larger than the
  // canvas, at 100% when smaller (issue 14: a large scenario used to open on its start only).
  open(nodes) {
    this.fit(nodes);
  }

  // Bring one block into view (the issues list uses it).
  reveal(node) {
    const rect = this.canvas.getBoundingClientRect();
    this.x = rect.width / 2 - (node.x + NODE_W / 2) * this.z;
    this.y = rect.height / 2 - (node.y + NODE_H / 2) * this.z;
    this.apply();
  }
}
