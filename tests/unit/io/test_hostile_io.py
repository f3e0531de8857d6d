"""Hostile outputs and names: nothing runs, leaks or overwrites that the user did not ask for.

Writers (:func:`neurograph.io.atomic.atomic_path`, used by every writer) refuse links, FIFOs,
devices and folders, keep modes, fit long names, and name the file on every OS error; the CLI
refuses an --out that is its own input; the report links only to relative, quoted paths inside
its folder and opens no file a table names outside it; names reaching figures, XML and DOT are
made harmless (:mod:`neurograph.io.names`).
"""

from __future__ import annotations

import errno
import os
import stat
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from lxml import etree
from matplotlib.text import Text

from neurograph._main import main
from neurograph.errors import DataError, FileFormatError
from neurograph.io import atomic
from neurograph.io.atomic import atomic_path, check_not_input, copy_file, write_csv
from neurograph.io.export import export_gexf, export_graphml
from neurograph.io.names import check_plain_name, dot_string, is_plain_name, relative_href, xml_text
from neurograph.io.plots import figure_png, plot_coactivation, plot_entropy, plot_score_grid
from neurograph.io.report import _env, write_report

TABLE = pd.DataFrame({"a": [1, 2, 3], "b": [2.0, 3.0, 5.0]})
HOSTILE = ["ctl\x00\x01\x1b\x7f", "]]>", 'q"uote', "<tag>", "a & b", "$x$", "$\\frac{a$", "\u00e9\u4e2d\U0001f600",
           "\ud800", "x" * 3000, "line\r\nbreak"]


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _write(path):
    return write_csv(TABLE, path)


# ---------------------------------------------------------------------- B: writers
def test_fifo_is_refused_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    with pytest.raises(FileFormatError, match=r"out\.csv.*FIFO") as exc:
        _write(fifo)
    assert exc.value.errno is not None
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and _listing(tmp_path) == ["out.csv"]


def test_device_file_is_refused():
    with pytest.raises(FileFormatError, match=r"/dev/null.*a device"):
        _write("/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "s.csv"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(path))
        with pytest.raises(FileFormatError, match=r"s\.csv.*socket"):
            _write(path)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        sock.close()


def test_folder_is_refused(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(IsADirectoryError, match=r"d\.csv.*folder"):
        _write(tmp_path / "d.csv")
    assert (tmp_path / "d.csv").is_dir() and _listing(tmp_path) == ["d.csv"]


def test_symlink_target_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    with pytest.raises(FileFormatError, match=r"out\.csv.*symbolic link.*victim\.txt"):
        _write(link)
    assert victim.read_text() == "precious" and link.is_symlink() and os.readlink(link) == str(victim)
    assert _listing(tmp_path) == ["out.csv", "victim.txt"]


def test_dangling_symlink_is_refused(tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(FileFormatError, match="symbolic link"):
        _write(link)
    assert not (tmp_path / "elsewhere.csv").exists() and link.is_symlink()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o444])
def test_rewriting_keeps_the_mode(tmp_path, mode):
    path = tmp_path / "t.csv"
    path.write_text("old")
    os.chmod(path, mode)
    _write(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode and path.read_text().startswith("a,b")


def test_new_file_gets_umask_mode_and_setuid_is_not_kept(tmp_path):
    old = os.umask(0o027)
    try:
        _write(tmp_path / "new.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.csv").st_mode) == 0o640
    p = tmp_path / "suid.csv"
    p.write_text("x")
    os.chmod(p, 0o4755)
    _write(p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o755


@pytest.mark.parametrize("length", [200, 244, 255])
def test_long_legal_names_can_be_written(tmp_path, length):
    name = "n" * (length - 4) + ".csv"
    assert len(name.encode()) == length
    path = _write(tmp_path / name)
    assert path.read_text().startswith("a,b") and _listing(tmp_path) == [name]


def test_long_name_temporaries_are_cleaned_up_after_a_killed_writer(tmp_path):
    name = "n" * 240 + ".npz"
    with atomic_path(tmp_path / name, suffix=".npz") as tmp:
        seen = tmp.name
        assert len(seen.encode()) <= 255 and tmp.parent == tmp_path
    stale = tmp_path / seen.replace(f"-{os.getpid()}-", "-999999999-")
    stale.write_text("left by a killed writer")
    with atomic_path(tmp_path / name, suffix=".npz") as tmp:
        tmp.write_text("x")
    assert _listing(tmp_path) == [name]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.EACCES])
def test_os_errors_while_writing_name_the_file_and_leave_nothing(tmp_path, monkeypatch, code):
    path = tmp_path / "scores.csv"
    path.write_text("original")
    os.chmod(path, 0o600)

    def fail(self, *a, **k):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(FileFormatError, match=r"cannot write '.*scores\.csv'") as exc:
        _write(path)
    assert exc.value.errno == code and os.strerror(code) in str(exc.value) and "ngtmp" not in str(exc.value)
    assert path.read_text() == "original" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _listing(tmp_path) == ["scores.csv"]


def test_failing_rename_names_the_target(tmp_path, monkeypatch):
    def fail(src, dst):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), src, dst)

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(FileFormatError, match=r"g\.gexf"):
        export_gexf(nx.path_graph(3), tmp_path / "g.gexf")
    assert _listing(tmp_path) == []


def test_writing_to_a_full_device_names_the_file(tmp_path, monkeypatch):
    """Every write goes to /dev/full (ENOSPC) through os.open of the temporary file."""
    real_open = open

    def full_open(file, mode="r", *a, **k):
        if "w" in mode and "ngtmp" in str(file):
            return real_open("/dev/full", mode, *a, **k)
        return real_open(file, mode, *a, **k)

    import builtins

    monkeypatch.setattr(builtins, "open", full_open)
    from neurograph.stats import CoactivationStats

    stats = CoactivationStats.from_binary(np.eye(4, dtype=bool), np.array([0, 1, 0, 1]))
    with pytest.raises(FileFormatError, match=r"s_stats\.npz.*No space left") as exc:
        stats.save(tmp_path / "s_stats.npz")
    assert exc.value.errno == errno.ENOSPC and _listing(tmp_path) == []


def test_torch_write_failure_names_the_file(tmp_path, monkeypatch):
    def fail(obj, f):
        raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64 vs 0")

    import torch

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(FileFormatError, match=r"final\.pt"):
        with atomic_path(tmp_path / "final.pt") as tmp:
            torch.save({}, tmp)
    assert _listing(tmp_path) == []


def test_other_errors_in_the_block_are_not_blamed_on_the_output(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing_input"):
        with atomic_path(tmp_path / "o.csv") as tmp:
            (tmp_path / "missing_input").read_text()
    with pytest.raises(ValueError, match="boom"):
        with atomic_path(tmp_path / "o.csv"):
            raise ValueError("boom")
    assert _listing(tmp_path) == []


def test_check_not_input_by_inode(tmp_path):
    data = tmp_path / "d.npz"
    data.write_bytes(b"data")
    (tmp_path / "hard.npz").hardlink_to(data)
    (tmp_path / "soft.npz").symlink_to(data)
    for out in (data, tmp_path / "hard.npz", tmp_path / "soft.npz", tmp_path / "." / "d.npz"):
        with pytest.raises(FileFormatError, match=r"--out: .* same file as the input DATA '.*d\.npz'"):
            check_not_input(out, {"DATA": data, "--checkpoint": None})
    check_not_input(tmp_path / "new.npz", {"DATA": data})
    assert data.read_bytes() == b"data"


def test_copy_file_refuses_a_link_at_the_destination(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text("new")
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "dst.csv").symlink_to(victim)
    with pytest.raises(FileFormatError, match=r"dst\.csv.*symbolic link"):
        copy_file(src, tmp_path / "dst.csv")
    assert victim.read_text() == "precious"
    assert copy_file(src, tmp_path / "ok.csv").read_text() == "new"


# ---------------------------------------------------------------------- B: the CLI
def test_correlate_refuses_its_own_input(tmp_path, capsys):
    t = tmp_path / "T.csv"
    TABLE.to_csv(t, index=False)
    before = t.read_bytes()
    assert main(["correlate", str(t), "--metrics", "a", "--target", "b", "--out", str(t)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0] and "same file as the input TABLE" in err[0]
    assert t.read_bytes() == before


def test_correlate_refuses_a_fifo_before_any_work(tmp_path, capsys):
    t = tmp_path / "T.csv"
    TABLE.to_csv(t, index=False)
    os.mkfifo(tmp_path / "F.csv")
    assert main(["correlate", str(t), "--metrics", "a", "--target", "b", "--out", str(tmp_path / "F.csv")]) == 2
    out, err = capsys.readouterr()
    assert "FIFO" in err and "F.csv" in err and "pearson" not in out
    assert stat.S_ISFIFO(os.lstat(tmp_path / "F.csv").st_mode)


def test_record_refuses_to_overwrite_its_data(tmp_path, capsys):
    data = tmp_path / "d.npz"
    np.savez(data, X=np.zeros((4, 3), np.float32), y=np.array([0, 1, 0, 1]))
    before = data.read_bytes()
    rc = main(["record", "--factory", "torch.nn:Identity", "--layers", "x", "--out", str(data), str(data)])
    assert rc == 2 and data.read_bytes() == before
    assert "same file as the input DATA" in capsys.readouterr().err


def _stats_file(path: Path) -> Path:
    from neurograph.stats import CoactivationStats

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    fired = np.c_[y == 1, y == 1, rng.random((60, 4)) < 0.5]
    return CoactivationStats.from_binary(fired, y).save(path)


def test_graph_leaves_its_input_statistics_alone(tmp_path, capsys):
    stats = _stats_file(tmp_path / "m_stats.npz")
    before = (stats.read_bytes(), os.stat(stats).st_ino, os.stat(stats).st_mtime_ns)
    assert main(["graph", str(stats), "--out", str(tmp_path), "--n-null", "0"]) == 0
    assert (stats.read_bytes(), os.stat(stats).st_ino, os.stat(stats).st_mtime_ns) == before
    assert (tmp_path / "m.gexf").is_file() and str(stats) in capsys.readouterr().out


def test_graph_refuses_to_write_over_its_input(tmp_path, capsys):
    stats = _stats_file(tmp_path / "s.npz")
    os.replace(stats, tmp_path / "m.gexf")  # a statistics archive under the name of an output
    before = (tmp_path / "m.gexf").read_bytes()
    assert main(["graph", str(tmp_path / "m.gexf"), "--out", str(tmp_path), "--name", "m", "--n-null", "0"]) == 2
    err = capsys.readouterr().err
    assert "same file as the input STATS" in err and "m.gexf" in err
    assert (tmp_path / "m.gexf").read_bytes() == before and _listing(tmp_path) == ["m.gexf"]


def test_report_out_does_not_copy_through_a_link(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    pd.DataFrame({"run": list("abcd"), "test_accuracy": [0.1, 0.5, 0.7, 0.9],
                  "modularity": [0.2, 0.3, 0.1, 0.4]}).to_csv(src / "scores.csv", index=False)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "scores.csv").symlink_to(victim)
    assert main(["report", str(src), "--out", str(out), "--n-boot", "0"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "precious" and (out / "scores.csv").is_symlink()
    assert not (out / "report.html").exists()


# ---------------------------------------------------------------------- A: the report trusts no name
class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.srcs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])


def _run_folder(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"run": list("abcd"), "task": "t", "test_accuracy": [0.1, 0.5, 0.7, 0.9],
                  "modularity": [0.2, 0.3, 0.1, 0.4]}).to_csv(run / "scores.csv", index=False)
    return run


def _graph() -> nx.Graph:
    g = nx.path_graph(4)
    nx.set_node_attributes(g, {i: {"layer": "h", "unit": i} for i in g})
    return g


def _assert_links_safe(page: str, run: Path) -> list[str]:
    parser = _Links()
    parser.feed(page)
    for href in parser.hrefs:
        if href.startswith("#"):
            continue
        assert urllib.parse.urlsplit(href).scheme == "" and not href.startswith("/"), href
        assert urllib.parse.quote(urllib.parse.unquote(href), safe="/") == href, href
        target = (run / urllib.parse.unquote(href)).resolve()
        assert target == run.resolve() or run.resolve() in target.parents, href
    assert all(s.startswith("data:image/png;base64,") for s in parser.srcs)
    return parser.hrefs


def test_javascript_named_gexf_is_no_script_link(tmp_path):
    run = _run_folder(tmp_path)
    export_gexf(_graph(), run / "javascript:alert(1).gexf")
    page = write_report(run, n_boot=0).path.read_text()
    hrefs = _assert_links_safe(page, run)
    assert "javascript%3Aalert%281%29.gexf" in hrefs and not any(h.lower().startswith("javascript:") for h in hrefs)
    assert 'href="javascript:' not in page.lower()


def test_summary_model_names_outside_the_folder_open_nothing(tmp_path, monkeypatch):
    run = _run_folder(tmp_path)
    outside = tmp_path / "secret.gexf"
    export_gexf(_graph(), outside)
    names = ["../secret", str(tmp_path / "secret"), "/etc/passwd", "a\x01b", "javascript:x"]
    pd.DataFrame({"model": names, "modularity": 0.3}).to_csv(run / "summary.csv", index=False)
    opened = []
    import neurograph.io.report as report_mod

    real = report_mod.read_graph_view
    monkeypatch.setattr(report_mod, "read_graph_view", lambda p, **k: opened.append(Path(p)) or real(p, **k))
    page = write_report(run, n_boot=0).path.read_text()
    assert opened == []  # no graph is read: none of the names is a plain name
    for n in ("../secret", "/etc/passwd", "javascript:x"):
        assert f"names the model &#39;{n}" in page or f"names the model '{n}" in page
    assert page.count('class="warning"') == len(names) and "secret.gexf" not in page.split('id="files"')[1]
    _assert_links_safe(page, run)


def test_link_pointing_outside_is_neither_drawn_nor_linked(tmp_path):
    run = _run_folder(tmp_path)
    export_gexf(_graph(), tmp_path / "outside.gexf")
    (run / "leak.gexf").symlink_to(tmp_path / "outside.gexf")
    (run / "leak_coactivation.png").symlink_to(tmp_path / "outside.gexf")
    page = write_report(run, n_boot=0).path.read_text()
    hrefs = _assert_links_safe(page, run)
    assert "leak.gexf" not in hrefs and "leak_coactivation.png" not in hrefs
    assert "&#39;leak.gexf&#39; is a link to a file outside" in page
    assert "&#39;leak_coactivation.png&#39; is a link to a file outside" in page


def test_relative_href_quotes_and_confines(tmp_path):
    (tmp_path / "a b#?.csv").write_text("x")
    assert relative_href("a b#?.csv", tmp_path) == "a%20b%23%3F.csv"
    assert relative_href("../x", tmp_path) is None and relative_href("/etc/passwd", tmp_path) is None
    assert relative_href(tmp_path, tmp_path) is None


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/b", "a\\b", ".", "..", "", "a\nb", "\x00", "http:x",
                                  "~root", "x" * 256, 3])
def test_plain_names_are_checked(name):
    assert not is_plain_name(name)
    with pytest.raises(DataError, match="plain file name"):
        check_plain_name(name, "model name")


def test_every_template_is_autoescaped():
    env = _env()
    names = env.list_templates()
    assert "report.html.j2" in names and len(names) >= 8
    assert all(env.autoescape(n) for n in names) and env.autoescape(None)


# ---------------------------------------------------------------------- C: text reaching interpreters
@pytest.mark.parametrize("name", ["$\\frac{a$", "$x$", "a$b", "\\$"])
def test_dollar_names_do_not_crash_or_become_math(name):
    t = pd.DataFrame({"entropy": [0.1, 0.5, 0.7, 0.2], "layer": [name, name, "b", "b"],
                      "test_accuracy": [0.2, 0.4, 0.6, 0.8], name: [1.0, 2.0, 3.0, 5.0]})
    figs = [plot_entropy(t, title=name), plot_score_grid(t, [name], title=name),
            plot_coactivation(np.eye(3), np.array([0, 0, 1]), labels=[name, name, "c"], title=name)]
    for fig in figs:
        assert figure_png(fig)[:4] == b"\x89PNG"
        texts = [t for t in fig.findobj(Text) if t.get_text() == name]
        assert texts and not any(t.get_parse_math() for t in texts)


def test_static_and_timeline_xml_are_well_formed_for_hostile_names(tmp_path):
    from neurograph.graph.activation import activation_graph
    from neurograph.io.timeline import export_dynamic_gexf
    from neurograph.stats import CoactivationStats

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    fired = rng.random((100, len(HOSTILE))) < 0.5
    fired[:, 0] = y == 1
    fired[:, 1] = y == 1
    neurons = pd.DataFrame({"layer": HOSTILE, "unit": np.arange(len(HOSTILE))})
    stats = CoactivationStats.from_binary(fired, y, neurons=neurons)
    g = activation_graph(stats)
    paths = [export_gexf(g, tmp_path / "s.gexf"), export_graphml(g, tmp_path / "s.graphml"),
             export_dynamic_gexf([g, g], tmp_path / "t.gexf", times=[0.0, 1.0], name="".join(HOSTILE[:6]))]
    for p in paths:
        root = etree.parse(str(p)).getroot()  # raises on XML that is not well-formed
        text = etree.tostring(root, encoding="unicode")
        assert "\x00" not in text and "\x1b" not in text
    G = nx.read_gexf(paths[2])
    assert "]]>" in {d["layer"] for _, d in G.nodes(data=True)} and "<tag>" in {d["layer"] for _, d in
                                                                                 G.nodes(data=True)}


@pytest.mark.parametrize("name", HOSTILE)
def test_xml_text_and_dot_string(name):
    from xml.sax.saxutils import escape

    etree.fromstring(f"<a>{escape(xml_text(name))}</a>".encode("utf-8", "surrogatepass"))
    quoted = dot_string(name)
    body = quoted[1:-1]
    assert quoted[0] == quoted[-1] == '"' and "\n" not in body and "\x00" not in body
    # every quote inside is escaped: removing escaped pairs leaves no bare quote
    assert '"' not in body.replace("\\\\", "").replace('\\"', "")


# ---------------------------------------------------------------------- B: a real "File too large" for every writer
def _writers():
    import torch

    from neurograph.automata.fsa import FSA
    from neurograph.io.plots import save_figure
    from neurograph.stats import CoactivationStats

    rng = np.random.default_rng(0)
    stats = CoactivationStats.from_binary(rng.random((50, 30)) < 0.5, rng.integers(0, 2, 50))
    graph = nx.gnm_random_graph(40, 200, seed=0)
    fig = plot_entropy(pd.DataFrame({"entropy": rng.random(50), "layer": "h"}))
    fsa = FSA(transitions=rng.integers(0, 20, (20, 30)), outputs=rng.integers(0, 2, 20), alphabet=np.arange(30),
              start=0)
    big = pd.DataFrame(rng.random((200, 5)))

    def torch_save(p):
        with atomic_path(p, suffix=".pt") as tmp:
            torch.save({"w": torch.zeros(2000)}, tmp)

    return {"csv": lambda p: write_csv(big, p), "gexf": lambda p: export_gexf(graph, p),
            "graphml": lambda p: export_graphml(graph, p), "png": lambda p: save_figure(fig, p),
            "npz": stats.save, "dot": fsa.save_dot, "json": fsa.save, "pt": torch_save}


@pytest.mark.parametrize("kind", ["csv", "gexf", "graphml", "png", "npz", "dot", "json", "pt"])
def test_every_writer_names_the_file_when_it_is_too_large(tmp_path, kind):
    """RLIMIT_FSIZE makes every write past 64 bytes fail with EFBIG, as on a file system that is full."""
    import gc
    import resource
    import signal

    write = _writers()[kind]
    target = tmp_path / f"out_{kind}.{kind}"
    target.write_bytes(b"old")
    gc.collect()  # nothing of earlier tests is collected (or written) inside the limit
    gc.disable()
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, old_limit[1]))
        try:
            write(target)
        except Exception as exc:  # noqa: BLE001 - checked below, outside the limit
            caught = exc
        else:
            caught = None
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
        gc.enable()
    assert isinstance(caught, FileFormatError), repr(caught)
    assert f"out_{kind}.{kind}" in str(caught) and "ngtmp" not in str(caught)
    if kind == "pt":  # torch's zip writer loses the errno
        assert "the write failed" in str(caught)
    else:
        assert caught.errno == errno.EFBIG and "File too large" in str(caught)
    assert target.read_bytes() == b"old" and _listing(tmp_path) == [target.name]


def test_report_with_mathtext_task_names(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"run": list("abcd"), "task": "$\\frac{a$", "epoch": [1, 1, 1, 1],
                  "test_accuracy": [0.1, 0.5, 0.7, 0.9], "modularity": [0.2, 0.3, 0.1, 0.4]}
                 ).to_csv(run / "scores.csv", index=False)
    res = write_report(run, n_boot=0)  # drawing the title made mathtext raise
    page = res.path.read_text()
    fig = Path(res.figures["scatter_$\\frac{a$"])
    assert "Task $\\frac{a$" in page and fig.is_file() and fig.name.startswith("scatter___frac_a_-")


def test_timeline_refuses_layers_that_coincide_once_xml_safe(tmp_path):
    from neurograph.errors import GraphError
    from neurograph.graph.activation import activation_graph
    from neurograph.io.timeline import export_dynamic_gexf
    from neurograph.stats import CoactivationStats

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    fired = np.c_[y == 1, y == 1, y == 0, y == 0]
    neurons = pd.DataFrame({"layer": ["h", "h", "h\x00", "h\x00"], "unit": [0, 1, 0, 1]})
    g = activation_graph(CoactivationStats.from_binary(fired, y, neurons=neurons))
    with pytest.raises(GraphError, match=r"'h' and 'h\\x00' coincide"):
        export_dynamic_gexf([g, g], tmp_path / "t.gexf", times=[0.0, 1.0])
    assert _listing(tmp_path) == []


def test_report_skips_fifos_instead_of_blocking(tmp_path):
    import signal

    run = _run_folder(tmp_path)
    os.mkfifo(run / "pipe.gexf")
    os.mkfifo(run / "pipe_coactivation.png")

    def stuck(*_):
        raise TimeoutError("the report blocked reading a FIFO")

    old = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(20)
    try:
        page = write_report(run, n_boot=0).path.read_text()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert "&#39;pipe.gexf&#39; is not a regular file" in page
    assert "&#39;pipe_coactivation.png&#39; is not a regular file" in page
    assert stat.S_ISFIFO(os.lstat(run / "pipe.gexf").st_mode)
