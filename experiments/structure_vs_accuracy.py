"""Do modularity and neuron entropy relate closely to accuracy? A model zoo measured honestly.

Claim (neuron activation graphs, Mostafa & Mondal, arXiv 2106.04693): community quality
(modularity) and the entropy of neuron behaviour are closely related to a model's
performance. The paper gives no number we can trust, so this script trains a zoo of MLPs
(widths, depths, dropout, label noise, seeds, checkpoints along training) on digits and
on a generated task, scores every checkpoint, and prints

  A. correlations of every score with test accuracy over *final* models (independent
     runs), with bootstrap 95% CIs and partial correlations controlling for model size;
  B. the same over *all checkpoints*, with whole runs resampled together;
  C. label-free ranking: held-out runs' accuracy predicted from structure scores alone
     (leave-one-run-out), against a baseline that only knows the epoch and the size;
  D. a verdict sentence computed from the numbers above.

Run:  python experiments/structure_vs_accuracy.py [--out DIR] [--config TOML] [--n-boot 2000]
(about 3-6 minutes on the 2-core dev machine). Files: DIR/scores.csv, DIR/report.html,
DIR/figures/*.png (scatter plots with fits and CIs), DIR/final_correlations.csv, ...
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from neurograph.io.atomic import write_csv
from neurograph.scoring.correlation import composite_score, correlate, label_free_ranking
from neurograph.io.plots import plot_score_vs_accuracy, save_figure
from neurograph.io.report import correlation_table, write_report
from neurograph.scoring.scores import LABEL_FREE_SCORES
from neurograph.scoring.verdicts import calibrated_correlations
from neurograph.scoring.verdicts import verdict as rule
from neurograph.zoo.runs import load_zoo_config, run_zoo

HERE = Path(__file__).resolve().parent
METRICS = ["modularity", "modularity_z", "n_communities", "mean_entropy", "mean_entropy_active",
           "mean_mutual_info", "pattern_entropy", "dead_fraction", "composite"]
CLAIM = ["modularity", "mean_entropy"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "results" / "structure_vs_accuracy"))
    ap.add_argument("--config", default=str(HERE / "configs" / "structure_vs_accuracy.toml"))
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    t0 = time.perf_counter()
    res = run_zoo(load_zoo_config(args.config), out, progress=True)
    table = res.table.copy()
    table["composite"] = np.nan
    for _, idx in table.groupby("task").groups.items():
        table.loc[idx, "composite"] = composite_score(table.loc[idx])
    final = table[table["final"]]
    print(f"\nzoo: {len(table)} checkpoints of {table['run'].nunique()} runs "
          f"({', '.join(f'{t}: {n}' for t, n in table.groupby('task')['run'].nunique().items())} runs) "
          f"trained and scored in {res.seconds:.0f} s")
    print(table.groupby("task")["test_accuracy"].describe()[["count", "min", "50%", "max"]].round(3).to_string())

    tables = {}
    for label, data, groups in (("A. final models (one per run)", final, None),
                                ("B. all checkpoints (runs resampled together)", table, "run")):
        parts = []
        for task, sub in data.groupby("task"):
            c = correlate(sub, METRICS, "test_accuracy", "n_params", n_boot=args.n_boot, seed=args.seed,
                          groups=groups)
            c.insert(0, "task", task)
            parts.append(c)
        tables[label] = calibrated_correlations(pd.concat(parts, ignore_index=True))
        print(f"\n{label}: correlation with test accuracy, r [95% bootstrap CI]; partial = controlling n_params")
        print(correlation_table(tables[label]).to_string(index=False))
    write_csv(tables["A. final models (one per run)"], out / "final_correlations.csv")
    write_csv(tables["B. all checkpoints (runs resampled together)"], out / "checkpoint_correlations.csv")

    print("\nC. label-free ranking: Spearman(predicted, true accuracy) of held-out runs (leave-one-run-out ridge)")
    rows = []
    for task, sub in table.groupby("task"):
        sub = sub.assign(log_params=np.log(sub["n_params"]), log_epoch=np.log1p(sub["epoch"]))
        for name, feats in (("structure scores", list(LABEL_FREE_SCORES)),
                            ("modularity + mean_entropy", CLAIM),
                            ("baseline: epoch + size", ["log_epoch", "log_params"]),
                            ("structure + epoch + size", [*LABEL_FREE_SCORES, "log_epoch", "log_params"])):
            for scope, d in (("all checkpoints", sub), ("final models", sub[sub["final"]])):
                r = label_free_ranking(d, feats, groups="run")
                rows.append({"task": task, "features": name, "rows": scope, "n": r.n, "spearman": r.spearman,
                             "p_value": r.p_value})
    ranking = pd.DataFrame(rows)
    write_csv(ranking, out / "label_free_ranking.csv")
    print(ranking.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    for m in METRICS:
        save_figure(plot_score_vs_accuracy(final, m, hue="task", title=f"{m} vs test accuracy (final models)"),
                    fig_dir / f"final_{m}.png")
    rep = write_report(out, n_boot=args.n_boot, seed=args.seed, title="structure vs accuracy",
                       wall_time=time.perf_counter() - t0)

    print("\nD. verdict")
    print(verdict(tables["A. final models (one per run)"], ranking))
    print(f"\nreport: {rep.path}  (scatter plots: {fig_dir}/final_*.png); total {time.perf_counter() - t0:.0f} s")


def verdict(corr: pd.DataFrame, ranking: pd.DataFrame) -> str:
    """One sentence per task on the claim, from the final-model Spearman correlations and the ranking.

    The words come from the library's one rule (:func:`neurograph.scoring.verdicts.verdict`): a
    strength only with >= 10 runs and a bootstrap interval that excludes 0. The claim of a close
    relation holds in a task when both ``CLAIM`` scores are "strongly" related there.
    """
    lines = []
    sp = corr[corr["method"] == "spearman"].set_index(["task", "metric"])
    for task in sorted(corr["task"].unique()):
        parts, close = [], True
        for m in CLAIM:
            r = sp.loc[(task, m)]
            v = rule(r["r"], r["ci_low"], r["ci_high"], int(r["n_runs"]), n=int(r["n"]), subject=m)
            parts.append(f"{m} rho = {r['r']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] ({v.words})")
            close &= v.strength == "strongly"
        rk = ranking[ranking["task"] == task].set_index(["features", "rows"])["spearman"]
        lines.append(f"{task}: {'; '.join(parts)}. The claim of a close relation "
                     f"{'holds' if close else 'does not hold'} here. Label-free ranking of held-out runs "
                     f"(Spearman): final models {rk[('structure scores', 'final models')]:.2f} from structure "
                     f"scores vs {rk[('baseline: epoch + size', 'final models')]:.2f} from size alone; all "
                     f"checkpoints {rk[('structure scores', 'all checkpoints')]:.2f} vs "
                     f"{rk[('baseline: epoch + size', 'all checkpoints')]:.2f} from epoch and size.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
