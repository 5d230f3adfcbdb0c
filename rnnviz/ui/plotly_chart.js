// One Plotly chart that stays mounted: new data is applied with Plotly.react (plotly.js diffs the
// figure and redraws what changed) instead of the full newPlot Streamlit's st.plotly_chart does
// whenever a spec changes. plotly.js itself is loaded once per browser tab, from the plotly package
// the server has installed (rnnviz/ui/plotly_component.py serves its directory).

const decoder = new TextDecoder();

function plotlyUrl(assetsPath) {
  // Streamlit's own bundle is served from <base>static/js/; the asset route sits beside it, which
  // also holds behind a proxy that mounts the app under a path (as Community Cloud does).
  const own = Array.from(document.scripts, (script) => script.src).find((src) => src.includes("/static/js/"));
  const base = own ? own.slice(0, own.indexOf("static/js/")) : `${window.location.origin}/`;
  return `${base}${assetsPath}`;
}

function loadPlotly(assetsPath) {
  if (!window.__rnnvizPlotly) {
    window.__rnnvizPlotly = new Promise((resolve, reject) => {
      if (window.Plotly) {
        resolve(window.Plotly);
        return;
      }
      const script = document.createElement("script");
      script.src = plotlyUrl(assetsPath);
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        window.__rnnvizPlotly = undefined; // let the next chart try again
        reject(new Error(`could not load ${script.src}`));
      };
      document.head.appendChild(script);
    });
  }
  return window.__rnnvizPlotly;
}

function payloadText(data) {
  return decoder.decode(data); // chart_payload's UTF-8 JSON, which Streamlit passes on as bytes
}

// Per mounted chart: the payload drawn last and the one waiting. One queue for the page draws the
// charts on screen first (in page order), lets the browser paint, then draws the others: a page
// opening with nine charts shows the ones in view without waiting for the rest. (A paint after every
// chart costs a training page more than it saves.) A busy browser skips the updates it had no time
// for: only a chart's newest payload is drawn.
const charts = new WeakMap();
const page = window.__rnnvizChartQueue || (window.__rnnvizChartQueue = {
  waiting: new Set(),
  running: false,
  // Whether each chart is on screen (or near it), as the browser reports it, without asking for layout.
  screen: new IntersectionObserver((entries) => {
    for (const entry of entries) entry.target.__rnnvizOnScreen = entry.isIntersecting;
  }, { rootMargin: "200px 0px" }),
});

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

function screenRank(state) {
  const seen = state.graph.__rnnvizOnScreen;
  return seen === true ? 0 : seen === undefined ? 1 : 2; // on screen, not yet known, off screen
}

function nextChart() {
  // The best screen rank; within it, the chart highest in the page.
  let best = null;
  let bestRank = 3;
  for (const state of page.waiting) {
    const rank = screenRank(state);
    if (rank < bestRank || (rank === bestRank
        && (best.graph.compareDocumentPosition(state.graph) & Node.DOCUMENT_POSITION_PRECEDING))) {
      best = state;
      bestRank = rank;
    }
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
  page.running = true;
  try {
    let drawnRank = 0;
    for (let state = nextChart(); state; state = nextChart()) {
      if (screenRank(state) > drawnRank) {
        drawnRank = screenRank(state);
        await new Promise((resolve) => setTimeout(resolve, 0)); // show what is on screen first
        continue; // and look again: the page may have scrolled or sent newer payloads meanwhile
      }
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
    if (!page.running) drawWaiting();
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
