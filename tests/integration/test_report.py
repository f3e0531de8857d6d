"""The HTML report: content, escaping, figures, and rendering in headless Chromium."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from neurograph.errors import DataError
from neurograph.io.plots import figure_png, plot_entropy
from neurograph.io.report import SECTIONS, correlation_table, write_report

EVIL = '<script>console.error("xss")</script><img src=x onerror="console.error(1)">'


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
    return path


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.scripts, self.imgs, self.h1 = [], 0, [], []
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        elif tag == "script":
            self.scripts += 1
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        self._in_h1 = tag == "h1"

    def handle_data(self, data):
        if self._in_h1:
            self.h1.append(data)


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
    assert dom.scripts == 0
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;console.error(&quot;xss&quot;)&lt;/script&gt;" in page
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
    # accuracy was built from modularity: strong positive correlation, and a sane interval
    mod = c[(c["task"] == "digits") & (c["metric"] == "modularity") & (c["method"] == "spearman")].iloc[0]
    assert mod["r"] > 0.5 and mod["ci_low"] <= mod["r"] <= mod["ci_high"]
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
             "var d = document.createElement('div'); d.id = 'probe';"
             "d.textContent = 'images ' + ok + '/' + imgs.length; document.body.appendChild(d); });</script>")
    page = rep.path.read_text()
    check = run / "check.html"
    check.write_text(page.replace("</body>", probe + "</body>"))
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}",
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
    assert dom.scripts == 1                      # only the probe: the escaped names did not become scripts
    m = re.search(r'<div id="probe">images (\d+)/(\d+)</div>', proc.stdout)
    assert m and m.group(1) == m.group(2) == "8", proc.stdout[-500:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
