"""Held-out hostile checks of the report, the writers and the names (beyond test_hostile_io.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from neurograph.errors import FileFormatError
from neurograph.io.report import write_report


def _run(tmp_path: Path, tasks=("t",) * 5) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    n = len(tasks)
    pd.DataFrame({"run": [f"r{i}" for i in range(n)], "task": list(tasks),
                  "test_accuracy": [0.1 + 0.8 * i / n for i in range(n)],
                  "modularity": [(0.3 * i) % 0.7 for i in range(n)]}).to_csv(run / "scores.csv", index=False)
    return run


# ---------------------------------------------------------------------- the report folder
def test_figures_folder_that_is_a_link_out_is_refused_before_any_write(tmp_path):
    run = _run(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (run / "figures").symlink_to(outside)
    with pytest.raises(FileFormatError, match=r"figures.*symbolic link"):
        write_report(run, n_boot=0)
    assert list(outside.iterdir()) == [] and sorted(p.name for p in run.iterdir()) == ["figures", "scores.csv"]


def test_figures_folder_linked_inside_the_run_is_refused_too(tmp_path):
    run = _run(tmp_path)
    (run / "sub").mkdir()
    (run / "figures").symlink_to("sub")
    with pytest.raises(FileFormatError, match="symbolic link"):
        write_report(run, n_boot=0)
    assert list((run / "sub").iterdir()) == []


@pytest.mark.parametrize("name", ["report.html", "correlations.csv", "ranking.csv"])
def test_a_linked_output_is_refused_before_figures_are_drawn(tmp_path, name):
    run = _run(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (run / name).symlink_to(victim)
    with pytest.raises(FileFormatError, match=rf"{name}.*symbolic link"):
        write_report(run, n_boot=0)
    assert victim.read_text() == "precious"
    assert sorted(p.name for p in run.iterdir()) == sorted(["scores.csv", name])  # no figures/ either


def test_tasks_whose_names_differ_only_in_unsafe_characters_get_their_own_figures(tmp_path):
    run = _run(tmp_path, tasks=["a/b"] * 3 + ["a_b"] * 3 + ["a?b"] * 3)
    res = write_report(run, n_boot=0)
    scatter = {k: v for k, v in res.figures.items() if k.startswith("scatter_")}
    assert set(scatter) == {"scatter_a/b", "scatter_a_b", "scatter_a?b"}
    assert len({Path(v) for v in scatter.values()}) == 3  # three files, none drawn over another
    assert len({Path(v).read_bytes() for v in scatter.values()}) == 3
    assert all(Path(v).parent == run / "figures" for v in res.figures.values())


# ---------------------------------------------------------------------- the command line, before any work
def _one_line_exit_2(capsys, argv, *words):
    from neurograph._main import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(w in err for w in words), err
    return err


def test_report_in_place_refuses_a_linked_figures_folder(tmp_path, capsys):
    run = _run(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (run / "figures").symlink_to(tmp_path / "elsewhere")
    _one_line_exit_2(capsys, ["report", str(run), "--n-boot", "0"], "figures", "symbolic link")
    assert list((tmp_path / "elsewhere").iterdir()) == [] and not (run / "report.html").exists()


def test_report_out_writes_nothing_through_a_linked_timeline_folder(tmp_path, capsys):
    src = _run(tmp_path)
    (src / "timeline").mkdir()
    (src / "timeline" / "a_coactivation.png").write_bytes(b"")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "timeline").symlink_to(elsewhere)
    _one_line_exit_2(capsys, ["report", str(src), "--out", str(out), "--n-boot", "0"], "timeline", "symbolic link")
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in out.iterdir()) == ["timeline"]


def test_report_out_does_not_copy_a_timeline_image_linked_to_outside(tmp_path, capsys):
    from neurograph._main import main

    src = _run(tmp_path)
    (src / "timeline").mkdir()
    secret = tmp_path / "secret_coactivation.png"
    secret.write_bytes(b"SECRET")
    (src / "timeline" / "leak_coactivation.png").symlink_to(secret)
    out = tmp_path / "out"
    assert main(["report", str(src), "--out", str(out), "--n-boot", "0"]) == 0
    assert "leak_coactivation.png" in capsys.readouterr().err
    assert not (out / "timeline" / "leak_coactivation.png").exists()
    assert b"SECRET" not in (out / "report.html").read_bytes()


@pytest.mark.parametrize("sub", ["figures", "timeline", "checkpoints"])
def test_zoo_refuses_a_linked_subfolder_before_reading_its_config(tmp_path, capsys, sub):
    config = tmp_path / "zoo.toml"
    config.write_text("this is not TOML [[[")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / sub).symlink_to(elsewhere)
    _one_line_exit_2(capsys, ["zoo", str(config), "--out", str(out)], sub, "symbolic link")
    assert list(elsewhere.iterdir()) == []


def test_demo_refuses_a_linked_figures_folder_before_training(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "figures").symlink_to(elsewhere)
    _one_line_exit_2(capsys, ["demo", "--out", str(out), "--epochs", "1", "--n-null", "0", "--n-boot", "0"],
                     "figures", "symbolic link")
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in out.iterdir()) == ["figures"]


# ---------------------------------------------------------------------- text reaching the page
EVIL = '</script><script>alert(1)</script><img src=x onerror=alert(2)>'


class _Tags:
    def __init__(self, page: str):
        from html.parser import HTMLParser

        self.tags, self.attrs, self.srcs = [], [], []

        class P(HTMLParser):
            def handle_starttag(p, tag, attrs):  # noqa: N805
                self.tags.append(tag)
                self.attrs += [k for k, _ in attrs]
                self.srcs += [v for k, v in attrs if k == "src"]

        P().feed(page)


def test_no_field_of_the_data_reaches_the_page_as_markup(tmp_path):
    import networkx as nx

    from neurograph.io.export import export_gexf

    run = tmp_path / "run"
    run.mkdir()
    n = 4
    pd.DataFrame({"run": [EVIL + str(i) for i in range(n)], "task": EVIL, "epoch": [1, 2, 1, 2],
                  "test_accuracy": [0.1, 0.5, 0.7, 0.9], "modularity": [0.2, 0.3, 0.1, 0.4],
                  EVIL: [1.0, 2.0, 3.0, 5.0]}).to_csv(run / "scores.csv", index=False)
    pd.DataFrame({"model": ["m", EVIL], "modularity": [0.3, 0.4], "note": [EVIL, EVIL]}).to_csv(
        run / "summary.csv", index=False)
    g = nx.path_graph(4)
    nx.set_node_attributes(g, {i: {"layer": EVIL, "unit": i} for i in g})
    export_gexf(g, run / "m.gexf")
    page = write_report(run, n_boot=0, title=EVIL, metrics=["modularity", EVIL]).path.read_text()
    tags = _Tags(page)
    assert not any(a.startswith("on") for a in tags.attrs) and "x" not in tags.srcs
    # the page's own scripts only: the viewer and one JSON block per graph
    assert tags.tags.count("script") == page.count("<script")
    assert page.lower().count("</script>") == tags.tags.count("script")
    assert "alert(1)" in page  # shown, as text


# ---------------------------------------------------------------------- writers: none bypasses atomic_path
ROOT = Path(__file__).resolve().parents[3]
_METHODS = {"to_csv", "to_json", "to_parquet", "to_html", "to_pickle", "savefig", "write_text", "write_bytes"}
_FUNCS = {("np", "save"), ("np", "savez"), ("np", "savez_compressed"), ("torch", "save"), ("json", "dump"),
          ("shutil", "copy"), ("shutil", "copy2"), ("shutil", "copyfile"), ("pickle", "dump")}
#: (file, function) whose writes go to a temporary file of atomic_path made by its caller, or to memory
_ALLOWED = {("neurograph/io/export.py", "_write_gexf"), ("neurograph/io/plots.py", "figure_png"),
            ("neurograph/io/atomic.py", "copy_file"), ("neurograph/io/atomic.py", "write_csv")}


def _writes(path: Path):
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT).as_posix()

    def visit(node, func, guarded):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = node.name
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                isinstance(i.context_expr, ast.Call) and getattr(i.context_expr.func, "id",
                                                                  getattr(i.context_expr.func, "attr", "")) in
                ("atomic_path", "_writing") for i in node.items):
            guarded = True
        if isinstance(node, ast.Call) and not guarded and (rel, func) not in _ALLOWED:
            f = node.func
            hit = None
            if isinstance(f, ast.Attribute) and f.attr in _METHODS and (node.args or any(
                    k.arg in ("path_or_buf", "fname", "path") for k in node.keywords)):
                hit = f.attr
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in _FUNCS:
                hit = f"{f.value.id}.{f.attr}"
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "nx" \
                    and f.attr.startswith("write_"):
                hit = f"nx.{f.attr}"
            elif isinstance(f, ast.Name) and f.id == "open":
                mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords
                                                                      if k.arg == "mode"), None)
                if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax+"):
                    hit = f"open(..., {mode.value!r})"
            if hit:
                yield f"{rel}:{node.lineno} {hit} in {func}"
        for child in ast.iter_child_nodes(node):
            yield from visit(child, func, guarded)

    yield from visit(tree, "<module>", False)


def test_every_writer_of_the_library_and_experiments_goes_through_atomic_path():
    files = sorted((ROOT / "neurograph").rglob("*.py")) + sorted((ROOT / "experiments").rglob("*.py"))
    assert len(files) > 50
    bypass = [w for p in files for w in _writes(p)]
    assert bypass == []


# ---------------------------------------------------------------------- text reaching interpreters
def test_fsa_dot_holds_no_raw_control_character_and_reads_back():
    import unicodedata

    from neurograph.automata.fsa import FSA

    names = ['a"b\\', "x\x00y\x1b\x7f", "\r\n]]>--$x$", "\ud800z"]
    spec = {n: (i % 2 == 0, {0: names[(i + 1) % 4], 1: n}) for i, n in enumerate(names)}
    fsa = FSA.from_spec(spec)
    dot = fsa.to_dot()
    assert not [c for c in dot if c != "\n" and unicodedata.category(c) in ("Cc", "Cs")]
    assert FSA.from_dot(dot).names() == fsa.names()


@pytest.mark.parametrize("title", ["$\\frac{a$", "$x$"])
def test_fixed_point_figure_draws_its_title_as_written(title):
    import numpy as np
    from matplotlib.text import Text

    from neurograph.dynamics.fixed_points import FixedPoints

    fp = FixedPoints(states=np.array([[0.0, 0.0], [1.0, 0.5]]), q=np.zeros(2),
                     jacobians=np.stack([np.eye(2) * 0.5] * 2), eigenvalues=np.full((2, 2), 0.5, dtype=complex),
                     inputs=np.zeros((2, 1)))
    for fig in (fp.plot(title=title), FixedPoints(states=np.zeros((0, 2)), q=np.zeros(0),
                                                 jacobians=np.zeros((0, 2, 2)), eigenvalues=np.zeros((0, 2), complex),
                                                 inputs=np.zeros((0, 1))).plot(title=title)):
        fig.canvas.draw()  # with mathtext on, "$\frac{a$" raises here
    assert any(t.get_text() == title and not t.get_parse_math() for t in fp.plot(title=title).findobj(Text))


def test_a_model_named_timeline_does_not_draw_the_dynamic_gexf(tmp_path, monkeypatch):
    import networkx as nx

    import neurograph.io.report as report_mod
    from neurograph.io.export import export_gexf

    run = _run(tmp_path)
    g = nx.path_graph(3)
    nx.set_node_attributes(g, {i: {"layer": "h", "unit": i} for i in g})
    export_gexf(g, run / "timeline.gexf")
    pd.DataFrame({"model": ["timeline"], "modularity": [0.3]}).to_csv(run / "summary.csv", index=False)
    opened = []
    monkeypatch.setattr(report_mod, "read_graph_view", lambda p, **k: opened.append(Path(p).name))
    write_report(run, n_boot=0)
    assert opened == []


@pytest.mark.parametrize("argv, culprit", [
    (["zoo", "{out}/scores.csv", "--out", "{out}"], "CONFIG"),
    (["demo", "--zoo", "{out}/scores.csv", "--out", "{out}"], "--zoo"),
    (["score", "--factory", "neurograph.models:MLP", "--layers", "fc1", "--checkpoint", "{out}/c.pt",
      "--data", "{out}/scores.csv", "--out", "{out}/scores.csv"], "--data"),
    (["score", "--factory", "neurograph.models:MLP", "--layers", "fc1", "--checkpoint", "{out}/scores.csv",
      "--data", "{out}/d.pt", "--out", "{out}"], "--checkpoint"),
    (["correlate", "{out}/scores.csv", "--out", "{out}/scores.csv"], "TABLE"),
])
def test_each_command_refuses_an_output_that_is_its_input(tmp_path, capsys, argv, culprit):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores.csv").write_text('name = "x"\n')
    before = sorted(p.name for p in out.iterdir())
    err = _one_line_exit_2(capsys, [a.format(out=out) for a in argv], "--out", "same file as the input", culprit)
    assert "scores.csv" in err
    assert (out / "scores.csv").read_text() == 'name = "x"\n' and sorted(p.name for p in out.iterdir()) == before


def test_report_out_refuses_an_output_hard_linked_to_an_input(tmp_path, capsys):
    src = _run(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    os.link(src / "scores.csv", out / "correlations.csv")
    before = (src / "scores.csv").read_bytes()
    _one_line_exit_2(capsys, ["report", str(src), "--out", str(out), "--n-boot", "0"], "correlations.csv",
                     "same file as the input DIR")
    assert (src / "scores.csv").read_bytes() == before and sorted(p.name for p in out.iterdir()) == ["correlations.csv"]


def test_report_out_skips_a_fifo_image_as_the_in_place_report_does(tmp_path, capsys):
    from neurograph._main import main

    src = _run(tmp_path)
    os.mkfifo(src / "x_coactivation.png")
    (src / "timeline").mkdir()
    os.mkfifo(src / "timeline" / "y_coactivation.png")
    out = tmp_path / "out"
    assert main(["report", str(src), "--out", str(out), "--n-boot", "0"]) == 0
    err = capsys.readouterr().err
    assert "x_coactivation.png" in err and "y_coactivation.png" in err and "not a regular file" in err
    assert not (out / "x_coactivation.png").exists() and (out / "report.html").is_file()


@pytest.mark.parametrize("figure", ["scatter_t.png", "ranking_t.png"])
def test_a_linked_figure_is_refused_before_any_figure_or_table_is_written(tmp_path, figure):
    run = _run(tmp_path)
    (run / "figures").mkdir()
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"precious")
    (run / "figures" / figure).symlink_to(victim)
    with pytest.raises(FileFormatError, match=rf"{figure}.*symbolic link"):
        write_report(run, n_boot=0)
    assert victim.read_bytes() == b"precious"
    assert [p.name for p in (run / "figures").iterdir()] == [figure]
    assert sorted(p.name for p in run.iterdir()) == ["figures", "scores.csv"]


@pytest.mark.parametrize("name", ["report.html", "summary.csv"])
def test_demo_refuses_a_linked_output_before_training(tmp_path, capsys, name):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / name).symlink_to(victim)
    _one_line_exit_2(capsys, ["demo", "--out", str(out), "--epochs", "1", "--n-null", "0", "--n-boot", "0"],
                     "--out", name, "symbolic link")
    assert victim.read_text() == "precious" and sorted(p.name for p in out.iterdir()) == [name]


def test_percent_encoded_dots_stay_a_file_name_inside_the_folder(tmp_path):
    import urllib.parse

    import networkx as nx

    from neurograph.io.export import export_gexf

    run = _run(tmp_path)
    g = nx.path_graph(3)
    nx.set_node_attributes(g, {i: {"layer": "h", "unit": i} for i in g})
    export_gexf(g, tmp_path / "secret.gexf")  # what %2e%2e%2fsecret would reach if a browser decoded it twice
    export_gexf(g, run / "%2e%2e%2fsecret.gexf")
    pd.DataFrame({"model": ["%2e%2e%2fsecret", "..\\secret"], "modularity": [0.3, 0.4]}).to_csv(
        run / "summary.csv", index=False)
    page = write_report(run, n_boot=0).path.read_text()
    assert 'href="%252e%252e%252fsecret.gexf"' in page and 'href="%2e%2e' not in page.lower()
    assert (run / urllib.parse.unquote("%252e%252e%252fsecret.gexf")).is_file()
    assert "..\\\\secret" in page.replace("&#39;", "'") and "not a plain file name" in page


def test_report_out_refuses_a_linked_copy_target_before_copying_anything(tmp_path, capsys):
    src = _run(tmp_path)
    pd.DataFrame({"model": ["m"], "modularity": [0.3]}).to_csv(src / "summary.csv", index=False)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "summary.csv").symlink_to(victim)
    _one_line_exit_2(capsys, ["report", str(src), "--out", str(out), "--n-boot", "0"], "summary.csv",
                     "symbolic link")
    assert victim.read_text() == "precious" and sorted(p.name for p in out.iterdir()) == ["summary.csv"]


def test_file_names_that_are_not_utf8_neither_break_the_report_nor_its_links(tmp_path):
    import networkx as nx

    from neurograph.io.export import export_gexf
    from neurograph.io.names import relative_href

    run = _run(tmp_path)
    g = nx.path_graph(3)
    nx.set_node_attributes(g, {i: {"layer": "h", "unit": i} for i in g})
    bad = os.fsdecode(b"\xff")
    export_gexf(g, run / f"{bad}.gexf")
    (run / f"{bad}.txt").write_text("x")
    page = write_report(run, n_boot=0, title=f"t{bad}").path.read_text(encoding="utf-8")
    assert 'href="%FF.txt"' in page and 'href="%FF.gexf"' in page and "\\udcff.txt" in page
    assert relative_href(f"{bad}.txt", run) == "%FF.txt"
    assert os.path.exists(os.path.join(os.fsencode(run), b"\xff.txt"))


def test_graph_of_statistics_whose_file_name_is_not_utf8(tmp_path, capsys):
    import numpy as np

    from neurograph._main import main
    from neurograph.io.atomic import read_csv
    from neurograph.stats import CoactivationStats

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    name = os.fsdecode(b"\xff")
    stats = CoactivationStats.from_binary(np.c_[y == 1, y == 1, rng.random((60, 4)) < 0.5], y).save(
        tmp_path / f"{name}_stats.npz")
    out = tmp_path / "out"
    assert main(["graph", str(stats), "--out", str(out), "--n-null", "0"]) == 0, capsys.readouterr().err
    written = {os.fsencode(p.name) for p in out.iterdir()}
    assert {b"\xff.gexf", b"\xff_coactivation.png", b"\xff_entropy.png", b"\xff_summary.csv"} <= written
    assert read_csv(out / f"{name}_summary.csv")["name"].tolist() == ["\\udcff"]
