"""The HTML report: content, escaping, figures, and rendering in headless Chromium."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from neurograph.errors import DataError
from neurograph.io.export import export_gexf
from neurograph.io.plots import figure_png, plot_entropy
from neurograph.io.report import SECTIONS, correlation_table, write_report

EVIL = '<script>console.error("xss")</script><img src=x onerror="console.error(1)">'
BREAKOUT = "</script><script>console.error('breakout')</script>"
N_GRAPH, K_GRAPH = 40, 10


def _graph_file(path):
    """A dense 40-node co-activation-like graph whose second layer name tries to break out of a <script>."""
    rng = np.random.default_rng(1)
    g = nx.Graph()
    for i in range(N_GRAPH):
        g.add_node(i, layer="layers.1" if i < 25 else BREAKOUT, unit=i % 25, fire_prob=float(rng.random()),
                   entropy=float(rng.random()), mutual_info=0.1 * float(rng.random()), community=i % 3)
    for i in range(N_GRAPH):
        for j in range(i + 1, N_GRAPH):
            if rng.random() < 0.6:
                g.add_edge(i, j, weight=float(rng.random()))
    export_gexf(g, path)
    return g


def _run_dir(path, seed=0):
    """A fake zoo folder: 6 runs x 3 checkpoints on two tasks, neurons.csv and one co-activation figure."""
    rng = np.random.default_rng(seed)
    rows, neurons = [], []
    for task in ("digits", EVIL):
        for r in range(6):
            for epoch in (1, 4, 10):
                acc = 0.3 + 0.05 * epoch + 0.03 * r + 0.02 * rng.random()
                run = f"{task}-{r}"
                rows.append({"run": run, "task": task, "epoch": epoch, "final": epoch == 10,
                             "n_params": 100 * (r + 1), "test_accuracy": acc,
                             "modularity": 0.2 + 0.3 * acc + 0.05 * rng.random(),
                             "modularity_z": 5 * rng.random(), "n_communities": int(rng.integers(2, 6)),
                             "mean_entropy": 0.8 - 0.4 * acc + 0.05 * rng.random(),
                             "mean_mutual_info": 0.1 * rng.random(), "pattern_entropy": 6 + rng.random(),
                             "dead_fraction": 0.1 * rng.random(), "always_on_fraction": 0.0})
                for u in range(5):
                    neurons.append({"run": run, "epoch": epoch, "layer": "layers.1", "unit": u,
                                    "entropy": rng.random(), "mutual_info": 0.1, "community": u % 2})
    path.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(path / "scores.csv", index=False)
    pd.DataFrame(neurons).to_csv(path / "neurons.csv", index=False)
    (path / "m_coactivation.png").write_bytes(figure_png(plot_entropy(pd.DataFrame(neurons))))
    (path / "timeline.gexf").write_text("<gexf/>")
    _graph_file(path / "m.gexf")
    return path


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.scripts, self.imgs, self.h1 = [], 0, [], []
        self.script_attrs, self.script_text, self.graphs, self.details, self.links = [], [], [], [], []
        self._in_h1 = self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        elif tag == "script":
            self.scripts += 1
            self.script_attrs.append(a)
            self.script_text.append("")
            self._in_script = True
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        elif tag == "div" and "ng-graph" in (a.get("class") or ""):
            self.graphs.append(a)
        elif tag == "details":
            self.details.append(a)
        elif tag == "link":
            self.links.append(a)
        self._in_h1 = tag == "h1"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        elif tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_h1:
            self.h1.append(data)
        if self._in_script:
            self.script_text[-1] += data


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run = _run_dir(tmp_path_factory.mktemp("run"))
    return run, write_report(run, metrics=["modularity", "mean_entropy", "composite"], n_boot=100,
                             title=f"zoo {EVIL}", wall_time=12.0)


def test_report_tables_figures_and_escaping(report):
    run, rep = report
    page = rep.path.read_text()
    dom = _Dom()
    dom.feed(page)
    assert dom.sections == list(SECTIONS)
    # the graph data (one JSON block) and the inlined viewer: nothing else is a script, nothing is fetched
    assert dom.scripts == 2
    assert [a.get("type") for a in dom.script_attrs] == ["application/json", None]
    assert all("src" not in a for a in dom.script_attrs) and dom.links == []
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert '<script>console.error("xss")' not in page and "<img src=x" not in page and BREAKOUT not in page
    assert re.search(r"&lt;script&gt;console.error\((&quot;|&#34;)xss(&quot;|&#34;)\)&lt;/script&gt;", page)
    # hover data: every node carries layer, unit, firing probability, entropy, MI and community
    data = json.loads(dom.script_text[0])
    assert data["n_nodes"] == len(data["nodes"]) == N_GRAPH and data["download"] == "m.gexf"
    assert {"layer", "unit", "fire_prob", "entropy", "mutual_info", "community", "x", "y", "color"} <= set(
        data["nodes"][0])
    assert {n["layer"] for n in data["nodes"]} == {"layers.1", BREAKOUT}
    assert data["n_edges_shown"] == len(data["edges"]) < data["n_edges_total"] and data["k"] == K_GRAPH
    assert f"{data['n_edges_shown']} edges" in page and 'href="m.gexf"' in page
    # a verdict in words per section, the models table collapsed
    assert page.count('class="verdict"') >= 5 and "n too small: no verdict" in page
    assert "relates" not in page                     # 6 runs per task: no strength words, no intervals
    assert dom.details and "show all 36 models" in page
    assert '<nav class="toc"' in page
    assert "".join(dom.h1) == f"zoo {EVIL}"
    # every image is an embedded, decodable PNG: scatter, ranking and training per task, entropy, co-activation
    assert len(dom.imgs) == 8
    for src in dom.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'href="timeline.gexf"' in page
    # the correlation table: two tasks x metrics x 3 methods, with the composite and partial columns
    c = rep.correlations
    assert set(c["task"]) == {"digits", EVIL} and (c.groupby(["task", "metric"]).size() == 3).all()
    assert "composite" in set(c["metric"]) and c["partial_r"].notna().any()
    on_file = pd.read_csv(run / "correlations.csv")
    assert len(on_file) == len(c)
    # accuracy was built from modularity: a large r, but 6 runs are too few for a verdict or an interval
    mod = c[(c["task"] == "digits") & (c["metric"] == "modularity") & (c["method"] == "spearman")].iloc[0]
    assert mod["r"] > 0.5 and mod["n_runs"] == 6 and mod["verdict"] == "n too small: no verdict"
    assert c[["ci_low", "ci_high", "p_value"]].isna().all().all() and on_file["ci_low"].isna().all()
    assert len(rep.rankings) == 2 and (rep.rankings["n_groups"] == 6).all()
    assert "p (spearman)" in correlation_table(c).columns


def test_report_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="scores.csv"):
        write_report(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_report(tmp_path / "nope")
    pd.DataFrame({"modularity": [0.1]}).to_csv(tmp_path / "scores.csv", index=False)
    with pytest.raises(DataError, match="test_accuracy"):
        write_report(tmp_path)


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_renders_in_headless_chromium(report, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("headless Chromium test skipped: no chromium executable on PATH "
                    "(Debian: apt-get install -y chromium)")
    run, rep = report
    # a copy with a probe that reports, after load, how many images decoded
    probe = ("<script>window.addEventListener('load', function () {"
             "var imgs = Array.from(document.images);"
             "var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;"
             "var v = (window.neurographViews || {})['graph-1'];"
             "var canv = Array.from(document.querySelectorAll('#graph-1 canvas'));"
             "var drawn = canv.filter(function (c) { return c.width > 0 && c.height > 0; }).length;"
             "var tip = '';"
             "if (v && v.renderer) { v.renderer.emit('enterNode', {node: '0'});"
             " tip = document.querySelector('#graph-1 .ng-tip').textContent; }"
             "var s = document.querySelector('#graph-1 .ng-search'); s.value = 'layers.1:1';"
             "s.dispatchEvent(new Event('input'));"
             "var found = document.querySelector('#graph-1 .ng-info').textContent;"
             "var d = document.createElement('div'); d.id = 'probe';"
             "d.textContent = 'images ' + ok + '/' + imgs.length + ' nodes ' + (v ? v.graph.order : -1)"
             " + ' canvases ' + drawn + ' | ' + tip + ' | ' + found; document.body.appendChild(d); });</script>")
    page = rep.path.read_text()
    check = run / "check.html"
    check.write_text(page.replace("</body>", probe + "</body>"))
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}",
           "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any network request would fail and log
           "--enable-unsafe-swiftshader",  # software WebGL for sigma without a GPU, without the deprecation notice
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", check.as_uri()]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90,
                              env={**os.environ, "HOME": str(tmp_path)})
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"headless Chromium test skipped: chromium could not run ({exc})")
    if proc.returncode != 0 or "<html" not in proc.stdout:
        pytest.skip(f"headless Chromium test skipped: chromium exited {proc.returncode}: "
                    f"{proc.stderr.strip().splitlines()[-1:] if proc.stderr.strip() else ''}")
    dom = _Dom()
    dom.feed(proc.stdout)
    assert dom.sections == list(SECTIONS)
    assert dom.scripts == 3                      # data, viewer, probe: the escaped names did not become scripts
    m = re.search(r'<div id="probe">images (\d+)/(\d+) nodes (-?\d+) canvases (\d+) \| (.*?) \| (.*?)</div>',
                  proc.stdout)
    assert m and m.group(1) == m.group(2) == "8", proc.stdout[-500:]
    # the graph view drew every node into sigma's canvases (WebGL, or the 2D fallback without it)
    assert int(m.group(3)) == N_GRAPH and int(m.group(4)) >= 1, m.group(0)
    # hovering node 0 shows its data; the search box finds nodes by label (layers.1:1, layers.1:10, ...)
    tip, found = m.group(5), m.group(6)
    for field in ("layer: layers.1", "unit: 0", "firing probability", "entropy", "MI with label", "community: 0"):
        assert field in tip, tip
    assert re.fullmatch(r"\d+ node\(s\) match", found) and int(found.split()[0]) >= 1, found
    graph = dom.graphs[0]
    assert graph.get("data-nodes") == str(N_GRAPH) and "data-error" not in graph, graph
    assert graph.get("data-renderer") in ("webgl", "canvas2d")
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
