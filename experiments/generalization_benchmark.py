"""Does co-activation structure predict generalization? neurograph's scores against the field's measures.

Zoos with the PGDL shape (complete hyper-parameter grids, one model per cell, seed twins as their own
axis; :mod:`neurograph.zoo.grid`) on four tasks — digits and Fashion-MNIST (small CNNs in the spirit of
Unterthiner et al.), a Tomita grammar and a generated sentiment language (recurrent classifiers with
0-3 gates) — are trained and scored once (cached), then every measure is evaluated as the field does:

* PGDL conditional mutual information with the generalization gap (``pgdl_cmi``, x100, the organisers'
  definition, on the seed-0 models: one model per grid cell);
* Kendall's tau and granulated tau (Jiang et al. 2020) against test accuracy and against the gap;
* Spearman with a bootstrap CI, and cross-validated R^2 of a one-measure linear predictor of test
  accuracy;
* the label-free ranking (leave one model out: ridge on a measure family, predicting test accuracy).

Measures: every ``ng_*`` column (neurograph: modularity, its z-score, entropy, mutual information,
pattern entropy, dead / always-on fractions, per-layer variants), the ``fsa_*`` columns for recurrent
models, and every ``bl_*`` baseline (Natekar & Sharma's DBI x label-wise Mixup, distance from init,
spectral / Frobenius norm products, PAC-Bayes sharpness, output margin, parameter count, seed-twin
disagreement, WeightWatcher alpha / alpha-hat when installed).

    python experiments/generalization_benchmark.py --out out/generalization [--workers 2]
    python experiments/generalization_benchmark.py --quick --out out/gen_quick      # a few minutes
    python experiments/generalization_benchmark.py --executor ray [--address HOST:6379]

The published PGDL figures are printed beside ours for orientation; they are on other model families
(the competition's VGG / NiN / ResNet-like zoos on CIFAR-10, SVHN, CINIC, Oxford flowers and pets,
Fashion-MNIST), so the numbers are not comparable one to one.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from neurograph.scoring.correlation import correlate, label_free_ranking
from neurograph.scoring.generalization import cv_r2, granulated_tau, kendall_tau, pgdl_cmi
from neurograph.zoo.executors import Executor
from neurograph.zoo.grid import default_grid, run_grid

PUBLISHED = pd.DataFrame([
    {"measure": "PGDL winner (Natekar & Sharma: DBI x label-wise Mixup)", "overall": 22.92, "fashion_mnist": 9.24},
    {"measure": "distance from init (PGDL baseline)", "overall": 4.92, "fashion_mnist": 2.02},
    {"measure": "Jacobian norm (PGDL baseline)", "overall": 2.04, "fashion_mnist": 4.19},
])
NOTE = ("published PGDL: CMI x100 on the competition's own model families (public/private phases; "
        "Fashion-MNIST was one of its tasks) - not the same models as ours")


def measures_of(table: pd.DataFrame) -> list[str]:
    """Numeric, non-constant measure columns (neurograph, FSA, baselines) defined on at least 95% of the
    models (a measure missing on part of a grid cannot be compared over the grid)."""
    cols = [c for c in table.columns if c.startswith(("ng_", "fsa_", "bl_"))]
    keep = []
    for c in cols:
        v = pd.to_numeric(table[c], errors="coerce")
        if v.notna().mean() >= 0.95 and v.nunique(dropna=True) > 1:
            keep.append(c)
    return keep


def evaluate(table: pd.DataFrame, hparams: list[str], seed0: int, n_boot: int) -> pd.DataFrame:
    """One row per measure: CMI, tau (acc, gap), granulated tau (acc, gap), Spearman [CI], CV R^2."""
    one = table[table["seed"] == seed0].reset_index(drop=True)
    rows = []
    spear = correlate(table, measures_of(table), "test_acc", methods=("spearman",), n_boot=n_boot, seed=0,
                      groups=table["model"].str.replace(r"_s\d+$", "", regex=True))
    spear = spear.set_index("metric")
    for m in measures_of(table):
        x = pd.to_numeric(table[m], errors="coerce")
        ok = x.notna()
        row = {"measure": m, "family": m.split("_", 1)[0], "n": int(ok.sum())}
        try:
            row["cmi_gap"] = pgdl_cmi(one, m, "gap", hparams).score
        except Exception as exc:  # noqa: BLE001 - a measure that is NaN on one model family: reported, not fatal
            row["cmi_gap"] = np.nan
            row["note"] = str(exc)[:60]
        row["tau_acc"] = kendall_tau(x[ok], table.loc[ok, "test_acc"])
        row["tau_gap"] = kendall_tau(x[ok], table.loc[ok, "gap"])
        for target in ("test_acc", "gap"):
            try:
                row[f"gtau_{'acc' if target == 'test_acc' else 'gap'}"] = granulated_tau(one, m, target, hparams).score
            except Exception:  # noqa: BLE001 - too few complete groups for this measure
                row[f"gtau_{'acc' if target == 'test_acc' else 'gap'}"] = np.nan
        row["spearman_acc"] = spear.loc[m, "r"] if m in spear.index else np.nan
        row["ci_low"] = spear.loc[m, "ci_low"] if m in spear.index else np.nan
        row["ci_high"] = spear.loc[m, "ci_high"] if m in spear.index else np.nan
        try:
            row["cv_r2_acc"] = cv_r2(table, m, "test_acc", folds=5, seed=0)
        except Exception:  # noqa: BLE001
            row["cv_r2_acc"] = np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.sort_values("cmi_gap", ascending=False, na_position="last").reset_index(drop=True)


def ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Leave-one-cell-out ridge predicting test accuracy from each measure family (no test labels used)."""
    groups = table["model"].str.replace(r"_s\d+$", "", regex=True)
    fams = {"neurograph (ng_*)": [c for c in measures_of(table) if c.startswith("ng_")],
            "FSA (fsa_*)": [c for c in measures_of(table) if c.startswith("fsa_")],
            "baselines (bl_*)": [c for c in measures_of(table) if c.startswith("bl_")],
            "parameter count": ["n_params"]}
    fams["neurograph + baselines"] = fams["neurograph (ng_*)"] + fams["baselines (bl_*)"]
    rows = []
    for name, feats in fams.items():
        if not feats:
            continue
        r = label_free_ranking(table, feats, "test_acc", groups=groups)
        rows.append({"features": name, "n_features": len(feats), "spearman_pred_vs_true": r.spearman,
                     "n_groups": r.n_groups})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="out/generalization")
    ap.add_argument("--tasks", default="digits,fashion,tomita,sentiment")
    ap.add_argument("--quick", action="store_true", help="small grids (CI and docs): a few minutes")
    ap.add_argument("--executor", default="process", choices=("inprocess", "process", "ray"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--address", default=None, help="Ray cluster address (with --executor ray)")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--top", type=int, default=12, help="rows printed per task")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    executor = Executor(args.executor, workers=args.workers, address=args.address)
    pd.set_option("display.width", 220)
    t_all = time.perf_counter()
    per_task, means = {}, []
    for task in args.tasks.split(","):
        spec = default_grid(task, quick=args.quick)
        try:
            t0 = time.perf_counter()
            table = run_grid(spec, out, executor, progress=True)
        except (FileNotFoundError, OSError, ValueError) as exc:
            print(f"# {task}: skipped ({exc})")
            continue
        secs = time.perf_counter() - t0
        res = evaluate(table, spec.hparams, spec.seeds[0], args.n_boot)
        res.insert(0, "task", task)
        per_task[task] = res
        res.to_csv(out / f"{task}_measures.csv", index=False)
        rank = ranking(table)
        rank.to_csv(out / f"{task}_ranking.csv", index=False)
        print(f"\n## {task}: {len(table)} models ({len(spec.cells()) // len(spec.seeds)} grid cells x "
              f"{len(spec.seeds)} seeds), hparams {spec.hparams}; test acc {table.test_acc.min():.3f}-"
              f"{table.test_acc.max():.3f}, gap {table.gap.min():.3f}-{table.gap.max():.3f}; {secs:.0f} s")
        print(res.head(args.top).drop(columns=["task"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        best_ng = res[res.family == "ng"].head(1)
        best_bl = res[res.family == "bl"].head(1)
        if len(best_ng) and len(best_bl):
            print(f"# best neurograph score by CMI: {best_ng.measure.iloc[0]} {best_ng.cmi_gap.iloc[0]:.2f}; "
                  f"best baseline: {best_bl.measure.iloc[0]} {best_bl.cmi_gap.iloc[0]:.2f}")
        print("label-free ranking (leave one grid cell out; Spearman of predicted vs true test accuracy):")
        print(rank.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if per_task:
        allres = pd.concat(per_task.values(), ignore_index=True)
        cols = ["cmi_gap", "tau_acc", "tau_gap", "gtau_acc", "gtau_gap", "spearman_acc", "cv_r2_acc"]
        mean = allres.groupby(["measure", "family"])[cols].mean().reset_index()
        mean["tasks"] = allres.groupby(["measure", "family"]).size().to_numpy()
        mean = mean.sort_values("cmi_gap", ascending=False)
        mean.to_csv(out / "mean_measures.csv", index=False)
        print(f"\n## mean over tasks ({', '.join(per_task)}): measures present on every task first")
        full = mean[mean.tasks == len(per_task)]
        print(full.head(args.top).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"\n# {NOTE}")
        print(PUBLISHED.to_string(index=False))
    print(f"\n# whole run {time.perf_counter() - t_all:.0f} s; tables in {out}")


if __name__ == "__main__":
    main()
