// plotly.js, loaded once per browser tab from the plotly package the server has installed
// (rnnviz/ui/plotly_component.py serves its directory). Shared by the chart component and the
// page's early preload, whichever runs first: both use the one promise window.__rnnvizPlotly.

function plotlyUrl(assetsPath) {
  // Streamlit's own bundle is served from {base}static/js/; the asset route sits beside it, which
  // also holds behind a proxy that mounts the app under a path (as Community Cloud does).
  // (No less-than sign in this file: st.html's sanitizer drops a script that has one.)
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
