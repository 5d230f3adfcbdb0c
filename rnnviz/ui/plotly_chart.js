// One Plotly chart that stays mounted: new data is applied with Plotly.react (plotly.js diffs the
// figure and redraws what changed) instead of the full newPlot Streamlit's st.plotly_chart does
// whenever a spec changes. loadPlotly comes from plotly_loader.js, which the server puts in front.
// A payload with a "grid" instead of a "figure" is a table of coloured cells, drawn as HTML (drawGrid).

const decoder = new TextDecoder();

function payloadText(data) {
  return decoder.decode(data); // chart_payload's UTF-8 JSON, which Streamlit passes on as bytes
}

// Per mounted chart: the payload drawn last and the one waiting. One queue for the page draws only
// the charts on screen (or within 200 px of it), top first; a chart scrolled to, or in a tab opened,
// is drawn then, from its newest payload. A training page's charts below the fold cost the browser
// nothing while the class watches the ones in view, and a busy browser skips the updates it had no
// time for.
const charts = new WeakMap();
const page = window.__rnnvizChartQueue || (window.__rnnvizChartQueue = {
  waiting: new Set(),
  running: false,
  drawWaiting: null,
  lastArrival: 0,
  onArrival: null,
  // Whether each chart is on screen (or near it), as the browser reports it, without asking for layout.
  screen: new IntersectionObserver((entries) => {
    let cameIntoView = false;
    for (const entry of entries) {
      entry.target.__rnnvizOnScreen = entry.isIntersecting;
      cameIntoView = cameIntoView || entry.isIntersecting;
    }
    if (cameIntoView) page.drawWaiting();
  }, { rootMargin: "200px 0px" }),
});
page.drawWaiting = drawWaiting;

function chartState(parentElement) {
  let state = charts.get(parentElement);
  if (!state) {
    let graph = parentElement.querySelector(":scope > .rnnviz-chart");
    if (!graph) {
      graph = document.createElement("div");
      graph.className = "rnnviz-chart";
      parentElement.appendChild(graph);
    }
    state = { graph, drawn: null, waiting: null, width: 0, observer: null };
    page.screen.observe(graph);
    charts.set(parentElement, state);
  }
  return state;
}

function nextChart() {
  // The waiting chart highest in the page among those on screen.
  let best = null;
  for (const state of page.waiting) {
    if (state.graph.__rnnvizOnScreen !== true) continue;
    if (!best || (best.graph.compareDocumentPosition(state.graph) & Node.DOCUMENT_POSITION_PRECEDING)) best = state;
  }
  return best;
}

async function draw(state) {
  const text = state.waiting;
  if (text === null || text === state.drawn) return;
  const { figure, grid, config, assets, failed } = JSON.parse(text);
  if (grid) {
    try {
      drawGrid(state, grid);
    } catch (error) {
      state.graph.__rnnvizGrid = undefined;
      state.graph.textContent = failed.replace("{error}", error.message);
    }
    state.drawn = text;
    return;
  }
  try {
    const Plotly = await loadPlotly(assets);
    await Plotly.react(state.graph, { data: figure.data || [], layout: figure.layout || {}, frames: figure.frames || [], config });
    state.drawn = text;
    if (!state.observer) watchWidth(state, Plotly);
  } catch (error) {
    state.graph.textContent = failed.replace("{error}", error.message);
    state.drawn = text;
  }
}

// The charts below the first one wait until no new data has come for this long: while a student types,
// the first chart follows every key and the others catch up at the first pause (they would otherwise
// hold up the next keystroke by their Plotly.react).
const SETTLE_MS = 200;

function settled(deferred) {
  // Resolves once no new data has come for SETTLE_MS, or as soon as a chart above ``deferred`` has some.
  return new Promise((resolve) => {
    let timer = null;
    const check = () => {
      clearTimeout(timer);
      const quiet = performance.now() - page.lastArrival;
      if (quiet >= SETTLE_MS || nextChart() !== deferred) {
        page.onArrival = null;
        resolve();
      } else {
        timer = setTimeout(check, SETTLE_MS - quiet);
      }
    };
    page.onArrival = check;
    check();
  });
}

function painted() {
  // Resolves once the browser has painted a frame (a task queued from a frame callback runs after its
  // paint), or after 100 ms in a hidden tab, which paints no frames.
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, 100);
  });
}

async function drawWaiting() {
  if (page.running) return; // the running loop picks up whatever is waiting and on screen
  page.running = true;
  try {
    for (let state = nextChart(); state; state = nextChart()) {
      page.waiting.delete(state);
      await draw(state);
      await painted();  // the chart on screen before the next one is drawn (a keystroke's first chart first)
      const next = nextChart();
      if (next) await settled(next);
    }
  } finally {
    page.running = false;
  }
}

// A table of labelled, coloured cells (rnnviz.viz.language_model.candidates_grid) drawn as HTML, not by
// plotly.js: its cells are updated in place, and a keystroke's update costs a few ms instead of plotly's
// ~30 ms of SVG text for 240 cell labels.
const GRID_CSS = `
.rnnviz-grid { font-family: var(--rnnviz-grid-font); padding: 0.4rem 0 0.2rem 0; }
.rnnviz-grid .rnnviz-title { font-size: 1.25rem; color: #2a3f5f; margin: 0 0 0.15rem 0.4rem; }
.rnnviz-grid .rnnviz-subtitle { font-size: 0.875rem; color: #555555; margin: 0 0 0.35rem 0.4rem; }
.rnnviz-grid .rnnviz-legend { display: flex; gap: 1.4rem; align-items: center; font-size: 0.85rem; color: #2a3f5f;
  margin: 0 0 0.5rem 0.4rem; flex-wrap: wrap; }
.rnnviz-grid .rnnviz-scale { display: inline-block; width: 9rem; height: 0.8rem; vertical-align: middle;
  margin: 0 0.35rem; border-radius: 2px; }
.rnnviz-grid .rnnviz-mark { display: inline-block; width: 1.1rem; height: 0; border-bottom: 4px solid; vertical-align: middle;
  margin-right: 0.35rem; }
.rnnviz-grid .rnnviz-scroll { overflow-x: auto; }
.rnnviz-grid table { border-collapse: collapse; margin: 0 0.4rem; table-layout: fixed; width: calc(100% - 0.8rem); }
.rnnviz-grid td { height: 2.3rem; text-align: center; font-size: 1.05rem; border: 1px solid #ffffff; padding: 0;
  cursor: default; overflow: hidden; }
.rnnviz-grid td.chosen { box-shadow: inset 0 -5px 0 var(--rnnviz-chosen); }
.rnnviz-grid.narrow td { font-size: 0.9rem; height: 2rem; }
.rnnviz-grid th { font-weight: normal; font-size: 0.8rem; color: #2a3f5f; padding: 0.15rem 0.1rem; white-space: nowrap;
  overflow: hidden; }
.rnnviz-grid th.col { vertical-align: bottom; }
.rnnviz-grid th.corner { width: 6.5rem; }
.rnnviz-grid.narrow th.col { writing-mode: vertical-rl; text-align: right; }  /* CJK upright, read downwards */
.rnnviz-grid th.row { text-align: right; }
.rnnviz-grid .rnnviz-axis { font-size: 0.85rem; color: #2a3f5f; text-align: center; margin-top: 0.3rem; }
`;

function gridStyles() {
  if (document.getElementById("rnnviz-grid-css")) return;
  const style = document.createElement("style");
  style.id = "rnnviz-grid-css";
  style.textContent = GRID_CSS;
  document.head.appendChild(style);
}

function element(tag, className, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function gridShape(grid) {
  return `${grid.rows.length}x${grid.columns.length}`; // a table of another shape is built anew
}

function buildGrid(root, grid) {
  gridStyles();
  root.replaceChildren();
  const box = element("div", "rnnviz-grid", root);
  const view = { shape: gridShape(grid), box };
  view.title = element("div", "rnnviz-title", box);
  view.subtitle = element("div", "rnnviz-subtitle", box);
  const legend = element("div", "rnnviz-legend", box);
  const scale = element("span", "", legend);
  view.scaleLow = element("span", "", scale);
  view.scaleBar = element("span", "rnnviz-scale", scale);
  view.scaleHigh = element("span", "", scale);
  view.scaleName = element("span", "", scale);
  const chosen = element("span", "", legend);
  view.chosenMark = element("span", "rnnviz-mark", chosen);
  view.chosenName = element("span", "", chosen);
  const table = element("table", "", element("div", "rnnviz-scroll", box));
  const head = element("tr", "", element("thead", "", table));
  view.corner = element("th", "row corner", head);
  // Columns share the width; a table of many columns scrolls rather than squeezing them unreadable.
  table.style.minWidth = `calc(6.5rem + ${grid.columns.length} * 1.45rem)`;
  view.heads = grid.columns.map(() => element("th", "col", head));
  const body = element("tbody", "", table);
  view.rowHeads = [];
  view.cells = grid.rows.map(() => {
    const tr = element("tr", "", body);
    view.rowHeads.push(element("th", "row", tr));
    return grid.columns.map(() => element("td", "", tr));
  });
  view.axis = element("div", "rnnviz-axis", box);
  return view;
}

function drawGrid(state, grid) {
  const root = state.graph;
  let view = root.__rnnvizGrid;
  if (!view || view.shape !== gridShape(grid)) {
    view = root.__rnnvizGrid = buildGrid(root, grid);
    root.style.minHeight = "";
  }
  view.box.classList.toggle("narrow", grid.narrow);
  view.box.style.setProperty("--rnnviz-grid-font", grid.font);
  view.box.style.setProperty("--rnnviz-chosen", grid.chosen_colour);
  setText(view.title, grid.title);
  setText(view.subtitle, grid.subtitle || "");
  setText(view.scaleLow, "0");
  view.scaleBar.style.background = `linear-gradient(to right, ${grid.scale.join(", ")})`;
  setText(view.scaleHigh, "1");
  setText(view.scaleName, ` ${grid.legend.colour}`);
  view.chosenMark.style.borderColor = grid.chosen_colour;
  setText(view.chosenName, grid.legend.chosen);
  setText(view.corner, grid.y_title);
  setText(view.axis, grid.x_title);
  grid.columns.forEach((label, t) => setText(view.heads[t], label));
  grid.rows.forEach((label, r) => {
    setText(view.rowHeads[r], label);
    const cells = view.cells[r], texts = grid.cells[r], probs = grid.probs[r], colours = grid.colours[r];
    const dark = grid.dark_ink[r];
    for (let t = 0; t < cells.length; t++) {
      const cell = cells[t];
      setText(cell, texts[t]);
      if (cell.__colour !== colours[t]) {
        cell.__colour = colours[t];
        cell.style.background = colours[t];
        cell.style.color = dark[t] ? "#1a1a1a" : "#ffffff";
      }
      cell.classList.toggle("chosen", grid.chosen[t] === r);
      const tip = grid.tip.replace("{step}", grid.columns[t]).replace("{char}", texts[t]).replace("{p}", probs[t].toFixed(3));
      if (cell.title !== tip) cell.title = tip;
    }
  });
}

function watchWidth(state, Plotly) {
  // A chart drawn in a closed tab or a narrow column is resized when its space changes.
  state.width = state.graph.clientWidth;
  state.observer = new ResizeObserver(() => {
    const width = state.graph.clientWidth;
    if (width > 0 && width !== state.width) {
      state.width = width;
      Plotly.Plots.resize(state.graph);
    }
  });
  state.observer.observe(state.graph);
}

export default function (component) {
  const { data, parentElement } = component;
  const state = chartState(parentElement);
  state.waiting = payloadText(data);
  page.lastArrival = performance.now();
  if (state.drawn === null && !state.graph.style.minHeight) {
    // Hold the chart's space until it is drawn: the page does not jump, and the queue knows where it is.
    const height = /^\{"height": (\d+)/.exec(state.waiting);
    if (height) state.graph.style.minHeight = `${height[1]}px`;
  }
  if (state.waiting !== state.drawn) {
    page.waiting.add(state);
    if (page.onArrival) page.onArrival();
    drawWaiting();
  }
  return () => {
    // Streamlit also calls this for a render it superseded before it finished; the chart stays then.
    if (parentElement.isConnected) return;
    page.waiting.delete(state);
    page.screen.unobserve(state.graph);
    if (state.observer) state.observer.disconnect();
    if (window.Plotly) window.Plotly.purge(state.graph);
    charts.delete(parentElement);
  };
}
