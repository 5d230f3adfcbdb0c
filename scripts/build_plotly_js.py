"""Build the plotly.js the charts load: only the trace types they draw, from npm, with esbuild.

    python scripts/build_plotly_js.py [--esbuild 0.28.2]

Writes rnnviz/ui/plotly_bundle/plotly-rnnviz.min.js (and plotly.js's licence beside it) for the very
plotly.js version the installed plotly.py writes its JSON for (the version named in its bundled
plotly.min.js). Run it after bumping plotly in requirements.txt; tests/unit/test_plotly_component.py
fails until then. Needs node and npm (npm's registry is reachable here).

Why not plotly's own "cartesian" dist bundle (it was used before): on the way to every fresh page's
first chart, a browser fetched and evaluated it in ~0.59 s and drew a first heatmap 0.21 s later; this
one takes ~0.17 s and 0.26 s (scripts/bench_plotly_js.py). The dist bundles wrap the library in one
UMD factory, which V8 compiles eagerly; this is a plain esbuild IIFE of ``plotly.js/lib/core`` with
the traces registered, so most functions are compiled when first called. It also leaves out eight
trace types and the calendars component that nothing here uses.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnviz.ui.plotly_component import BUNDLED_PLOTLY_JS, BUNDLED_TRACES, FULL_PLOTLY_JS, plotly_js_version  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--esbuild", default="0.28.2", help="the esbuild version to build with")
    args = parser.parse_args()
    version = plotly_js_version(FULL_PLOTLY_JS)
    if version is None:
        sys.exit(f"no plotly.js version in {FULL_PLOTLY_JS}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(work),
                        f"plotly.js@{version}", f"esbuild@{args.esbuild}"], check=True)
        # scatter is part of plotly.js's core; the others are registered as the dist bundles do
        modules = ", ".join(f"require('plotly.js/lib/{trace}')" for trace in BUNDLED_TRACES if trace != "scatter")
        (work / "entry.js").write_text(
            f"var Plotly = require('plotly.js/lib/core');\nPlotly.register([{modules}]);\nmodule.exports = Plotly;\n",
            encoding="utf-8")
        # The header names the version, as the dist bundles' does: plotly_component checks it
        banner = (f"/**\n* plotly.js ({', '.join(BUNDLED_TRACES)} - minified) v{version}\n"
                  "* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license\n*/")
        out = work / "plotly.min.js"
        subprocess.run([str(work / "node_modules" / ".bin" / "esbuild"), "entry.js", "--bundle", "--minify",
                        "--format=iife", "--global-name=Plotly", "--target=es2016", "--define:global=window",
                        "--define:define.amd=false",
                        "--loader:.css=empty",  # maplibre's stylesheet, wanted only by map traces
                        f"--banner:js={banner}", f"--outfile={out}"], cwd=work, check=True)
        BUNDLED_PLOTLY_JS.parent.mkdir(exist_ok=True)
        shutil.copyfile(out, BUNDLED_PLOTLY_JS)
        shutil.copyfile(work / "node_modules" / "plotly.js" / "LICENSE", BUNDLED_PLOTLY_JS.with_name("LICENSE"))
    size = BUNDLED_PLOTLY_JS.stat().st_size
    print(f"{BUNDLED_PLOTLY_JS}: plotly.js {version}, {', '.join(BUNDLED_TRACES)}; {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
