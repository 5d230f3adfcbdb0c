// One Plotly chart that stays mounted: new data is applied with Plotly.react (plotly.js diffs the
// figure and redraws what changed) instead of the full newPlot Streamlit's st.plotly_chart does
// whenever a spec changes. loadPlotly comes from plotly_loader.js, which the server puts in front.

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
  const { figure, config, assets, failed } = JSON.parse(text);
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

async function drawWaiting() {
  if (page.running) return; // the running loop picks up whatever is waiting and on screen
  page.running = true;
  try {
    for (let state = nextChart(); state; state = nextChart()) {
      page.waiting.delete(state);
      await draw(state);
    }
  } finally {
    page.running = false;
  }
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
  if (state.drawn === null && !state.graph.style.minHeight) {
    // Hold the chart's space until it is drawn: the page does not jump, and the queue knows where it is.
    const height = /^\{"height": (\d+)/.exec(state.waiting);
    if (height) state.graph.style.minHeight = `${height[1]}px`;
  }
  if (state.waiting !== state.drawn) {
    page.waiting.add(state);
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
