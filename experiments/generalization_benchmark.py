"""Does co-activation structure predict generalization? neurograph's scores against the field's measures.

Zoos with the PGDL shape (complete hyper-parameter grids, one model per cell, seed twins as their own
axis; :mod:`neurograph.zoo.grid`) on four tasks — digits and Fashion-MNIST (small CNNs in the spirit of
Unterthiner et al.), a Tomita grammar and a generated sentiment language (recurrent classifiers with
0-3 gates) — are trained and scored once (cached), then every measure is evaluated as the field does:

* PGDL conditional mutual information with the generalization gap (``pgdl_cmi``, x100, the organisers'
  definition, on one seed's models: one model per grid cell);
* Kendall's tau and granulated tau (Jiang et al. 2020) against test accuracy and against the gap;
* Spearman with a bootstrap CI, and cross-validated R^2 of a one-measure linear predictor of test
  accuracy;
* the label-free ranking (leave one model out: ridge on a measure family, predicting test accuracy).

Every measure's metrics on the discovery seed (0) form an exploratory table. The verdicts come from
the discovery / confirmation protocol (``confirm_measures``, ``benchmark_summary``): per family the
best measure by CMI on seed 0 (with a selection-aware p-value: the best of k under a permuted gap),
scored on the held-out seeds 1 and 2 beside the CMI of random measures on the same grid; "beats",
"matches" or "loses to" only when every held-out seed agrees beyond a margin and beyond chance, else
"undecided" with what would decide it. ``--quick`` is a smoke test: it prints no verdict.

Measures: every ``ng_*`` column (neurograph: modularity, its z-score, entropy, mutual information,
pattern entropy, dead / always-on fractions, per-layer variants), the ``fsa_*`` columns for recurrent
models, and every ``bl_*`` baseline (Natekar & Sharma's DBI x label-wise Mixup, distance from init,
spectral / Frobenius norm products, PAC-Bayes sharpness, output margin, parameter count, seed-twin
disagreement, WeightWatcher alpha / alpha-hat when installed).

    python experiments/generalization_benchmark.py --out out/generalization [--workers 2]
    python experiments/generalization_benchmark.py --quick --out out/gen_quick      # smoke test, a few minutes
    python experiments/generalization_benchmark.py --executor ray [--address HOST:6379]

The published PGDL figures are printed beside ours for orientation; they are on other model families
(the competition's VGG / NiN / ResNet-like zoos on CIFAR-10, SVHN, CINIC, Oxford flowers and pets,
Fashion-MNIST), so the numbers are not comparable one to one.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pandas as pd

from neurograph.io.atomic import write_csv
from neurograph.io.report import write_report
from neurograph.errors import NeurographError
from neurograph.scoring.benchmark import (SMOKE, benchmark_summary, confirm_measures, evaluate_measures,
                                         family_rankings, measure_columns)
from neurograph.scoring.generalization import pgdl_cmi
from neurograph.zoo.executors import Executor
from neurograph.zoo.grid import default_grid, run_grid

PUBLISHED = pd.DataFrame([
    {"measure": "PGDL winner (Natekar & Sharma: DBI x label-wise Mixup)", "overall": 22.92, "fashion_mnist": 9.24},
    {"measure": "distance from init (PGDL baseline)", "overall": 4.92, "fashion_mnist": 2.02},
    {"measure": "Jacobian norm (PGDL baseline)", "overall": 2.04, "fashion_mnist": 4.19},
])
NOTE = ("published PGDL: CMI x100 on the competition's own model families (public/private phases; "
        "Fashion-MNIST was one of its tasks) - not the same models as ours")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="out/generalization")
    ap.add_argument("--tasks", default="digits,fashion,tomita,sentiment")
    ap.add_argument("--quick", action="store_true", help="small grids (CI and docs): a few minutes")
    ap.add_argument("--executor", default="process", choices=("inprocess", "process", "ray"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--address", default=None, help="Ray cluster address (with --executor ray)")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--n-chance", type=int, default=1000,
                    help="random measures per chance level and permutations per selection test")
    ap.add_argument("--top", type=int, default=12, help="rows printed per task")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    executor = Executor(args.executor, workers=args.workers, address=args.address)
    pd.set_option("display.width", 250)
    fmt = {"float_format": lambda v: f"{v:.3f}", "index": False}
    t_all, cpu_all = time.perf_counter(), _cpu_seconds()
    if args.quick:
        print(f"# --quick: {SMOKE} (small grids, two seeds: this checks that the pipeline runs)")
    per_task, confirm, tables = {}, {}, {}
    for task in args.tasks.split(","):
        spec = default_grid(task, quick=args.quick)
        try:
            t0 = time.perf_counter()
            table = run_grid(spec, out, executor, progress=True)
        except (FileNotFoundError, OSError, ValueError) as exc:
            print(f"# {task}: skipped ({exc})")
            continue
        secs = time.perf_counter() - t0
        res = evaluate_measures(table, spec.hparams, seed=spec.seeds[0], n_boot=args.n_boot)
        res.insert(0, "task", task)
        per_task[task] = res
        tables[task] = table
        write_csv(res, out / f"{task}_measures.csv")
        t1 = time.perf_counter()
        conf = confirm_measures(table, spec.hparams, discovery_seed=spec.seeds[0], n_chance=args.n_chance)
        conf.insert(0, "task", task)
        confirm[task] = conf
        write_csv(conf, out / f"{task}_confirm.csv")
        rank = family_rankings(table)
        write_csv(rank, out / f"{task}_ranking.csv")
        print(f"\n## {task}: {len(table)} models ({len(spec.cells()) // len(spec.seeds)} grid cells x "
              f"{len(spec.seeds)} seeds), hparams {spec.hparams}; test acc {table.test_acc.min():.3f}-"
              f"{table.test_acc.max():.3f}, gap {table.gap.min():.3f}-{table.gap.max():.3f}; {secs:.0f} s")
        print(f"exploratory: every measure on the discovery seed {spec.seeds[0]} (top {args.top} of {len(res)} by "
              "CMI; no chance level, no held-out check: not evidence on its own)")
        print(res.head(args.top).drop(columns=["task", "missing_cells"]).to_string(**fmt))
        flagged = res[res["n_missing"] > 0]
        for r in flagged.itertuples():
            print(f"# incomplete: {r.measure} is NaN on {r.n_missing} model(s), scored on the others: "
                  f"{_short(r.missing_cells)}")
        print(f"discovery / confirmation ({time.perf_counter() - t1:.0f} s): per family the best measure by CMI on "
              f"seed {spec.seeds[0]}, reported on the held-out seeds; chance = CMI of {args.n_chance} random "
              "measures on that seed's grid")
        print(conf.drop(columns=["task", "missing_cells"]).to_string(**fmt))
        if not args.quick:
            for v in benchmark_summary(conf)["verdict"]:
                print(f"# {v}")
        by_seed = _cmi_by_seed(table, spec.hparams)
        write_csv(by_seed.reset_index(), out / f"{task}_cmi_by_seed.csv")
        rho = by_seed.corr(method="spearman")
        pairs = ", ".join(f"seed {a} vs {b}: {rho.loc[a, b]:+.2f}" for i, a in enumerate(rho.index)
                          for b in rho.index[i + 1:])
        print(f"every measure's CMI on each seed: Spearman across the {len(by_seed)} measures {pairs}")
        print("label-free ranking (leave one grid cell out; Spearman of predicted vs true test accuracy):")
        print(rank.to_string(**fmt))
    if per_task:
        allres = pd.concat(per_task.values(), ignore_index=True)
        write_csv(allres, out / "generalization.csv")
        allconf = pd.concat(confirm.values(), ignore_index=True)
        write_csv(allconf, out / "generalization_confirm.csv")
        summary = benchmark_summary(allconf, smoke=args.quick)
        write_csv(summary, out / "generalization_summary.csv")
        cols = ["cmi_gap", "tau_acc", "tau_gap", "gtau_acc", "gtau_gap", "spearman_acc", "cv_r2_acc"]
        mean = allres.groupby(["measure", "family"])[cols].mean().reset_index()
        mean["tasks"] = allres.groupby(["measure", "family"]).size().to_numpy()
        mean = mean.sort_values("cmi_gap", ascending=False)
        write_csv(mean, out / "mean_measures.csv")
        print(f"\n## mean over tasks ({', '.join(per_task)}): measures present on every task first")
        full = mean[mean.tasks == len(per_task)]
        print(full.head(args.top).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"\n# {NOTE}")
        print(PUBLISHED.to_string(index=False))
        print("\n## verdicts (discovery seed chooses, held-out seeds decide; neurograph.scoring.benchmark_summary)")
        if args.quick:
            print(f"# {SMOKE}")
        else:
            for v in summary["verdict"]:
                print(f"- {v}")
        # the zoo report: every model (neurograph scores under their plain names) and the tables above
        models = pd.concat(tables.values(), ignore_index=True)
        models = models.rename(columns={c: c[3:] for c in models.columns if c.startswith("ng_")})
        models = models.assign(test_accuracy=models["test_acc"], run=models["model"].str.replace(r"_s\d+$", "",
                                                                                                   regex=True))
        write_csv(models, out / "scores.csv")
        report = write_report(out, n_boot=min(args.n_boot, 500), title="neurograph: structure vs the field's "
                              "generalization measures")
        print(f"# report: {report.path}")
    print(f"\n# whole run {time.perf_counter() - t_all:.0f} s wall, {_cpu_seconds() - cpu_all:.0f} s CPU (this "
          f"process and its workers); tables in {out}")


def _cmi_by_seed(table: pd.DataFrame, hparams: list[str]) -> pd.DataFrame:
    """CMI (x100) of every measure on every seed's grid: measures x seeds (NaN where undefined)."""
    measures = measure_columns(table)
    out = {}
    for seed, grid in table.groupby("seed"):
        grid = grid.reset_index(drop=True)
        row = {}
        for m in measures:
            try:
                row[m] = pgdl_cmi(grid, m, "gap", hparams).score
            except (NeurographError, ValueError):
                row[m] = float("nan")
        out[int(seed)] = row
    return pd.DataFrame(out).rename_axis("measure")


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished child processes (the pool's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _short(cells: str, limit: int = 6) -> str:
    names = cells.split(";")
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


if __name__ == "__main__":
    main()
