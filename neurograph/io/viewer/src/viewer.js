// The report's interactive graph view: sigma.js (WebGL) over a graphology graph.
// Bundled by build.sh into dist/viewer.min.js, which the report inlines (no network at view time).
// Each <div class="ng-graph" data-source="ID"> is drawn from the JSON in <script type="application/json" id="ID">:
// {nodes: [{id, label, layer, unit, community, fire_prob, entropy, mutual_info, degree, x, y, color}],
//  edges: [[i, j, weight], ...], size_by: "degree"|"entropy", ...}.
import Graph from "graphology";
import Sigma from "sigma";

const FIELDS = [["layer", "layer"], ["unit", "unit"], ["fire_prob", "firing probability"],
                ["entropy", "entropy (bits)"], ["mutual_info", "MI with label (bits)"],
                ["community", "community"], ["degree", "degree (full graph)"]];

function fmt(v) {
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(3);
  return v === null || v === undefined ? "n/a" : String(v);
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function webglOk() {
  try {
    const c = document.createElement("canvas");
    return !!(c.getContext("webgl2") || c.getContext("webgl"));
  } catch (err) {
    return false;
  }
}

function buildGraph(data) {
  const g = new Graph({ type: "undirected", multi: false });
  const sizes = data.nodes.map((n) => (data.size_by === "entropy" ? n.entropy || 0 : n.degree || 0));
  const max = Math.max(1e-9, ...sizes);
  data.nodes.forEach((n, i) => {
    g.addNode(String(i), { ...n, label: n.label, x: n.x, y: -n.y, color: n.color, size: 2.5 + 6.5 * Math.sqrt(sizes[i] / max) });
  });
  const wmax = Math.max(1e-9, ...data.edges.map((e) => e[2]));
  data.edges.forEach((e) => {
    const a = String(e[0]), b = String(e[1]);
    if (a !== b && !g.hasEdge(a, b)) g.addEdge(a, b, { weight: e[2], size: 0.3 + 1.7 * (e[2] / wmax), color: "#c8c8c8" });
  });
  return g;
}

// A plain 2D-canvas drawing, used only where the browser has no WebGL.
function drawFallback(container, g, state) {
  let canvas = container.querySelector("canvas.ng-fallback");
  if (!canvas) {
    canvas = el("canvas", { class: "ng-fallback" });
    container.appendChild(canvas);
  }
  const w = container.clientWidth || 800, h = container.clientHeight || 500;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  let xs = [], ys = [];
  g.forEachNode((k, a) => { xs.push(a.x); ys.push(a.y); });
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const s = Math.min((w - 40) / Math.max(1e-9, x1 - x0), (h - 40) / Math.max(1e-9, y1 - y0));
  const px = (a) => [20 + (a.x - x0) * s, h - 20 - (a.y - y0) * s];
  ctx.clearRect(0, 0, w, h);
  g.forEachEdge((k, a, src, dst, sa, da) => {
    if (!state.visible(src) || !state.visible(dst)) return;
    const p = px(sa), q = px(da);
    ctx.strokeStyle = a.color; ctx.lineWidth = a.size * 0.5;
    ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
  });
  g.forEachNode((k, a) => {
    if (!state.visible(k)) return;
    const p = px(a);
    ctx.fillStyle = state.dimmed(k) ? "#e6e6e6" : a.color;
    ctx.beginPath(); ctx.arc(p[0], p[1], a.size * 0.6, 0, 2 * Math.PI); ctx.fill();
  });
}

function mount(root) {
  const src = document.getElementById(root.getAttribute("data-source"));
  const data = JSON.parse(src.textContent);
  const g = buildGraph(data);
  const stage = root.querySelector(".ng-stage");
  const tip = root.querySelector(".ng-tip");
  const search = root.querySelector(".ng-search");
  const info = root.querySelector(".ng-info");
  const hiddenLayers = new Set(), hiddenComms = new Set();
  let focus = null, neighbours = null, matches = null;
  const state = {
    visible: (k) => {
      const a = g.getNodeAttributes(k);
      return !hiddenLayers.has(String(a.layer)) && !hiddenComms.has(String(a.community));
    },
    dimmed: (k) => (neighbours && !neighbours.has(k)) || (matches && !matches.has(k)),
  };
  let renderer = null;
  if (webglOk()) {
    renderer = new Sigma(g, stage, {
      renderLabels: true, labelRenderedSizeThreshold: 9, zIndex: true,
      nodeReducer: (k, a) => {
        const r = { ...a };
        if (!state.visible(k)) r.hidden = true;
        if (state.dimmed(k)) { r.color = "#e6e6e6"; r.label = ""; r.zIndex = 0; } else r.zIndex = 1;
        if (matches && matches.has(k)) r.highlighted = true;
        return r;
      },
      edgeReducer: (k, a) => {
        const r = { ...a };
        const [s, t] = g.extremities(k);
        if (!state.visible(s) || !state.visible(t)) r.hidden = true;
        if (focus !== null && s !== focus && t !== focus) r.hidden = true;
        else if (focus !== null) r.color = "#777";
        return r;
      },
    });
    renderer.on("enterNode", ({ node }) => show(node));
    renderer.on("leaveNode", () => { tip.style.display = "none"; });
    renderer.on("clickNode", ({ node }) => select(node === focus ? null : node));
    renderer.on("clickStage", () => select(null));
  }
  const refresh = () => (renderer ? renderer.refresh() : drawFallback(stage, g, state));

  function show(k) {
    const a = g.getNodeAttributes(k);
    tip.textContent = "";
    tip.appendChild(el("b", {}, a.label));
    FIELDS.forEach(([f, name]) => tip.appendChild(el("div", {}, name + ": " + fmt(a[f]))));
    tip.style.display = "block";
  }
  function select(k) {
    focus = k;
    neighbours = k === null ? null : new Set([k, ...g.neighbors(k)]);
    if (k !== null) show(k);
    refresh();
  }
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    matches = q ? new Set(g.filterNodes((k, a) => String(a.label).toLowerCase().includes(q))) : null;
    info.textContent = matches ? matches.size + " node(s) match" : "";
    if (matches && matches.size === 1) select([...matches][0]); else refresh();
  });
  root.querySelectorAll("input.ng-toggle").forEach((box) => {
    box.addEventListener("change", () => {
      const set = box.getAttribute("data-kind") === "layer" ? hiddenLayers : hiddenComms;
      const v = box.getAttribute("data-value");
      if (box.checked) set.delete(v); else set.add(v);
      refresh();
    });
  });
  if (!renderer) drawFallback(stage, g, state);
  root.setAttribute("data-nodes", String(g.order));
  root.setAttribute("data-edges", String(g.size));
  root.setAttribute("data-renderer", renderer ? "webgl" : "canvas2d");
  return { graph: g, renderer: renderer };
}

function mountAll() {
  const views = {};
  document.querySelectorAll(".ng-graph").forEach((root) => {
    try {
      views[root.id] = mount(root);
    } catch (err) {
      root.setAttribute("data-error", String(err && err.message ? err.message : err));
      const msg = root.querySelector(".ng-info");
      if (msg) msg.textContent = "The graph view could not be drawn: " + err;
    }
  });
  window.neurographViews = views;
  return views;
}

window.NeurographViewer = { mount, mountAll };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
else mountAll();
