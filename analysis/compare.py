"""What-if: two strato results files side by side (a study and its variant: another seed, a changed
design, a heavier workload).

    python3 -m analysis.compare A.h5 B.h5 [-o DIR] [--design NAME ...]

For each design present in both files (or those named), prints every summary metric in A and in B
with their 95% intervals and the difference B - A with its interval (Welch's, from the two summaries:
the files hold no per-replication values to pair); then each file's decision. With -o, writes
DIR/compare.png: cost per month and latency (the SLO percentile, else p99) of both files per design.
A file that cannot be read, or a design that is not in both files, ends it with one line on stderr
and status 2.
"""
import math
import os
import sys

import numpy as np

from analysis import plots
from analysis.report import fmt_ci, metric_digits
from analysis.cli import Parser, UsageError
from analysis.strato_results import ResultsError, open_results

PROG = "analysis.compare"
CHART = "compare.png"


def welch_difference(a, b):
    """B - A of two summaries (mean, lo, hi, n) with Welch's 95% interval: (mean, lo, hi, n). The
    standard errors come back from the intervals' half-widths (the wider side, for intervals cut at
    a bound); no interval when either has fewer than two replications."""
    (ma, la, ha, na), (mb, lb, hb, nb) = a, b
    if na == 0 or nb == 0 or not (np.isfinite(ma) and np.isfinite(mb)):
        return (float("nan"), float("nan"), float("nan"), 0)
    d = mb - ma
    if na < 2 or nb < 2 or not all(np.isfinite([la, ha, lb, hb])):
        return (d, float("nan"), float("nan"), min(na, nb))
    sa = max(ha - ma, ma - la) / plots.t95(na - 1)
    sb = max(hb - mb, mb - lb) / plots.t95(nb - 1)
    var = sa * sa + sb * sb
    if var == 0:
        return (d, d, d, min(na, nb))
    df = var * var / (sa ** 4 / (na - 1) + sb ** 4 / (nb - 1))
    h = plots.t95(df) * math.sqrt(var)
    return (d, d - h, d + h, min(na, nb))


def common_designs(a, b, wanted=None):
    """Designs of A that B also has, in A's order; `wanted` restricts them (ResultsError for a name
    that is not in both)."""
    both = [d for d in a.designs if d in b.designs]
    if wanted:
        for name in wanted:
            if name not in both:
                where = ("only in " + a.path) if name in a.designs else ("only in " + b.path) if name in b.designs \
                    else "in neither file"
                raise ResultsError(f"no design called {name!r} in both files ({where}; in both: "
                                   f"{', '.join(both) or 'none'})")
        return [d for d in both if d in wanted]
    if not both:
        raise ResultsError(f"no design is in both files ({a.path}: {', '.join(a.designs)}; "
                           f"{b.path}: {', '.join(b.designs)})")
    return both


def _describe(label, r):
    """One line about a file: its study, replications, horizon and SLO."""
    p = r.provenance
    slo = plots.slo_text(r) or "no SLO"
    return (f"{label}: {r.path}: study {p.get('study', '')!r}, {p.get('replications', '?')} replications, "
            f"horizon {p.get('horizon_s', float('nan')) / 3600:g} h, seed {p.get('master_seed', '?')}; SLO: {slo}")


def table(a, b, designs):
    """The comparison as text lines."""
    lines = [_describe("A", a), _describe("B", b)]
    only_a = [d for d in a.designs if d not in b.designs]
    only_b = [d for d in b.designs if d not in a.designs]
    if only_a or only_b:
        lines.append("not compared: " + "; ".join(x for x in (
            f"only in A: {', '.join(only_a)}" if only_a else "", f"only in B: {', '.join(only_b)}" if only_b else "")
            if x))
    metrics = a.metrics() + [m for m in b.metrics() if m not in a.metrics()]
    units = dict(zip(a.summary_table["metric"], a.summary_table["unit"]))
    units.update({m: u for m, u in zip(b.summary_table["metric"], b.summary_table["unit"]) if m not in units})
    nan = (float("nan"),) * 3 + (0,)
    for d in designs:
        kinds = a.kind(d) if a.kind(d) == b.kind(d) else f"{a.kind(d)} in A, {b.kind(d)} in B"
        rows = []
        for m in metrics:
            va = a.summary_value(d, m) if m in a.metrics() else nan
            vb = b.summary_value(d, m) if m in b.metrics() else nan
            k = metric_digits(m)
            rows.append((m, units.get(m, ""), fmt_ci(*va, digits=k), fmt_ci(*vb, digits=k),
                         fmt_ci(*welch_difference(va, vb), digits=min(k, 4))))
        wa = max(len(x[2]) for x in rows + [("", "", "A", "B", "")])
        wb = max(len(x[3]) for x in rows + [("", "", "A", "B", "")])
        lines += ["", f'design "{d}" ({kinds})',
                  f"{'metric':<22} {'unit':<9} {'A':<{wa}}  {'B':<{wb}}  B - A (Welch 95% CI)"]
        lines += [f"{m:<22} {u:<9} {ta:<{wa}}  {tb:<{wb}}  {td}" for m, u, ta, tb, td in rows]
    lines += ["", f"A's decision: {plots.decision_sentence(a)}", f"B's decision: {plots.decision_sentence(b)}"]
    return lines


def _latency_metric(a, b):
    """(metric, label) comparable in both files: the SLO percentile when both judge the same one."""
    sa, sb = plots.slo(a), plots.slo(b)
    if "latency_slo_s" in a.metrics() and "latency_slo_s" in b.metrics() and sa["label"] == sb["label"] \
            and sa["label"]:
        return "latency_slo_s", sa["label"]
    return "latency_p99_s", "p99"


def chart(a, b, designs, png, names=("A", "B")):
    """Two panels, cost per month and latency, each with A's and B's bar per design and their 95%
    intervals; the SLO targets as lines. Returns png."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D
    colors = plots.design_colors(a)
    extra = iter(plots.design_colors(b).values())
    colors.update({d: next(extra, "0.5") for d in designs if d not in colors})
    metric, label = _latency_metric(a, b)
    width = max(7.0, 1.3 * len(designs) + 3.0)
    fig = Figure(figsize=(2 * width, 5.6), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    x = np.arange(len(designs))
    lat_values = [a.summary_value(d, metric)[0] for d in designs] + [b.summary_value(d, metric)[0] for d in designs]
    factor, unit = plots._latency_unit(lat_values + [plots.slo(a)["latency_s"], plots.slo(b)["latency_s"]])
    for ax, m, scale, ylabel in ((axes[0], "cost_per_month_usd", 1.0, "cost per month, USD"),
                                 (axes[1], metric, factor, f"{label} latency over the run, {unit}")):
        for j, (r, hatch, light) in enumerate(((a, "//", 0.55), (b, None, 0.0))):
            for i, d in enumerate(designs):
                mean, lo, hi, n = r.summary_value(d, m)
                xi = x[i] + (j - 0.5) * 0.38
                if n == 0 or not np.isfinite(mean):
                    ax.text(xi, 0, "none", ha="center", va="bottom", fontsize=8, color="0.4", rotation=90)
                    continue
                err = None if not (np.isfinite(lo) and np.isfinite(hi)) else \
                    [[max(mean - lo, 0) * scale], [max(hi - mean, 0) * scale]]
                ax.bar(xi, mean * scale, width=0.36, color=plots._lighter(colors[d], light), edgecolor=colors[d],
                       hatch=hatch, lw=1.2, yerr=err, capsize=4, error_kw={"lw": 1.1, "ecolor": "0.2"})
        ax.set_xticks(x)
        many = len(designs) > 3
        ax.set_xticklabels(designs, rotation=20 if many else 0, ha="right" if many else "center")
        for lab, d in zip(ax.get_xticklabels(), designs):
            lab.set_color(colors[d])
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    axes[0].yaxis.set_major_formatter(plots._UsdFormatter())
    handles = [Patch(facecolor="white", edgecolor="0.3", hatch="//", label=f"A: {names[0]}"),
               Patch(facecolor="0.3", edgecolor="0.3", label=f"B: {names[1]}")]
    targets = {}
    if metric == "latency_slo_s":
        for tag, r, ls in (("A", a, "--"), ("B", b, ":")):
            t = plots.slo(r)["latency_s"]
            if np.isfinite(t):
                targets.setdefault(t, []).append((tag, ls))
    for t, tags in targets.items():
        axes[1].axhline(t * factor, color="black", ls=tags[0][1], lw=1.3)
        whose = " and ".join(tag for tag, _ in tags)
        handles.append(Line2D([], [], color="black", ls=tags[0][1], lw=1.3,
                              label=f"SLO of {whose}: {label} ≤ {t * factor:g} {unit}"))
    axes[0].set_title("cost per month (730 h, after the warm-up)", loc="left", fontsize=10)
    axes[1].set_title(f"{label} latency", loc="left", fontsize=10)
    n = (a.provenance.get("replications", "?"), b.provenance.get("replications", "?"))
    return plots._finish(fig, png, "What-if: A against B, per design",
                         f"bars: mean over replications ({n[0]} in A, {n[1]} in B); whiskers: 95% confidence intervals",
                         handles, legend_cols=4)


def _parser():
    p = Parser(prog="python3 -m analysis.compare",
                description="Compare two strato results files design by design (B - A).")
    p.add_argument("a", metavar="A.h5")
    p.add_argument("b", metavar="B.h5")
    p.add_argument("-o", "--out", metavar="DIR", help=f"also write DIR/{CHART}")
    p.add_argument("--design", metavar="NAME", action="append", help="compare only this design (repeatable)")
    return p


def _names(pa, pb):
    """Short names for the two files: base names, or paths when those are the same."""
    na, nb = os.path.basename(pa), os.path.basename(pb)
    return (pa, pb) if na == nb else (na, nb)


def main(argv=None):
    """`python3 -m analysis.compare A.h5 B.h5 [-o DIR] [--design NAME ...]`: 0 done, 2 bad input,
    1 cannot write the chart."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
    except UsageError as e:
        print(f"{PROG}: {e} (usage: python3 -m analysis.compare A.h5 B.h5 [-o DIR] [--design NAME ...])",
              file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)
    try:
        with open_results(args.a) as a, open_results(args.b) as b:
            designs = common_designs(a, b, args.design)
            try:
                lines = table(a, b, designs)
            except (OSError, KeyError, ValueError, TypeError, IndexError) as e:
                raise ResultsError(f"damaged strato results file ({type(e).__name__}: {e})") from None
            png = None
            if args.out:
                os.makedirs(args.out, exist_ok=True)
                png = chart(a, b, designs, os.path.join(args.out, CHART), _names(args.a, args.b))
    except ResultsError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{PROG}: cannot write the chart in {args.out}: {e.strerror or e}", file=sys.stderr)
        return 1
    except Exception as e:  # never a traceback for the user
        print(f"{PROG}: unexpected error ({type(e).__name__}: {e}); please report it", file=sys.stderr)
        return 1
    print("\n".join(lines))
    if png:
        print(f"\nchart: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
