// "Tidy up": a layered left-to-right layout. Each block goes one column after the furthest
// block leading to it; within a column, blocks sit near the blocks that lead to them (YES
// above NO), in an order that limits crossing links.

import { NODE_H, NODE_W, edgePort } from "./state.js";

const GAP_X = 96;
const GAP_Y = 44;
const PORT_RANK = { yes: 0, out: 1, no: 2 };

export function tidy(graph) {
  const ids = graph.nodes.map((n) => n.id);
  const known = new Set(ids);
  const edges = graph.edges
    .filter((e) => known.has(e.from) && known.has(e.to))
    .sort((a, b) => PORT_RANK[edgePort(a)] - PORT_RANK[edgePort(b)]);
  const out = new Map(ids.map((id) => [id, []]));
  const into = new Map(ids.map((id) => [id, []]));
  for (const e of edges) {
    out.get(e.from).push(e);
    into.get(e.to).push(e);
  }
  // Drop links that close a loop (an invalid draft may have some) so layering terminates.
  const state = new Map();
  const back = new Set();
  const order = [];
  const visit = (root) => {
    const stack = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [id, i] = top;
      const next = out.get(id)[i];
      if (!next) {
        state.set(id, 2);
        order.push(id);
        stack.pop();
        continue;
      }
      top[1] += 1;
      if (state.get(next.to) === 1) back.add(next);
      else if (!state.has(next.to)) {
        state.set(next.to, 1);
        stack.push([next.to, 0]);
      }
    }
  };
  const roots = ids.filter((id) => !into.get(id).length);
  for (const id of [...roots, ...ids]) if (!state.has(id)) visit(id);
  const forward = edges.filter((e) => !back.has(e));
  // Longest path layering, in topological order.
  const layer = new Map(ids.map((id) => [id, 0]));
  for (const id of order.reverse()) {
    for (const e of forward) if (e.from === id) layer.set(e.to, Math.max(layer.get(e.to), layer.get(id) + 1));
  }
  const columns = [];
  for (const id of order) {
    const l = layer.get(id);
    (columns[l] ||= []).push(id);
  }
  const y = new Map();
  const parents = (id) => forward.filter((e) => e.to === id);
  const offset = (e) => ({ yes: -1, no: 1 }[edgePort(e)] || 0) * (NODE_H / 2 + GAP_Y / 2);
  columns.forEach((column, index) => {
    const wanted = new Map(
      column.map((id, i) => {
        const ps = parents(id).filter((e) => y.has(e.from));
        const value = index === 0 || !ps.length ? i * (NODE_H + GAP_Y) : ps.reduce((s, e) => s + y.get(e.from) + offset(e), 0) / ps.length;
        return [id, value];
      }),
    );
    column.sort((a, b) => wanted.get(a) - wanted.get(b));
    let previous = -Infinity;
    const placed = column.map((id) => {
      const value = Math.max(wanted.get(id), previous + NODE_H + GAP_Y);
      previous = value;
      return value;
    });
    const drift = placed.reduce((s, v, i) => s + v - wanted.get(column[i]), 0) / column.length;
    column.forEach((id, i) => y.set(id, placed[i] - Math.max(0, drift)));
  });
  const top = Math.min(...y.values());
  const positions = new Map();
  for (const id of ids) {
    positions.set(id, { x: 80 + layer.get(id) * (NODE_W + GAP_X), y: Math.round(80 + y.get(id) - top) });
  }
  return positions;
}
