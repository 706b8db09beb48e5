"""A study's report: one self-contained HTML page (inline CSS, the plots beside it as PNG files).

    python3 -m analysis.report RESULTS.h5 [-o DIR]        # DIR: RESULTS' base name + "_report"

The page states the study's question (its designs and SLO), the decision in one sentence as `strato
run` makes it (the cheapest design that meets the SLO, judged on the confidence intervals), what the
choice saves against the others (paired differences), the summary table with its 95% intervals and
the differences against the baseline, the plots, the config as it was run, and where the results came
from. A results file that cannot be read ends the program with one line on stderr and status 2.
"""
import html
import os
import sys

import numpy as np

from analysis import plots
from analysis.cli import Parser, UsageError
from analysis.strato_results import ResultsError, open_results

PROG = "analysis.report"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 1.2em 2em 3em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.chosen td { background: #eef7ee; font-weight: 600; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; margin-right: 0.4em;
          vertical-align: -0.1em; }
#decision { font-size: 1.25em; font-weight: 600; background: #f6f8fa; border-left: 5px solid #2c7a2c;
            padding: 0.6em 0.9em; }
#decision.none { border-left-color: #b03030; }
.meets { color: #1d6b1d; font-weight: 600; } .fails { color: #b03030; font-weight: 600; }
.unclear { color: #a26400; font-weight: 600; }
.note { color: #555; font-size: 0.92em; }
.warning { background: #fff4e5; border: 1px solid #f0b36b; padding: 0.5em 0.8em; }
figure { margin: 1.2em 0 2em; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.92em; margin-top: 0.3em; }
.ci { display: block; color: #666; font-size: 0.86em; }
.wide { overflow-x: auto; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; line-height: 1.35; }
"""

_CAPTIONS = {
    "decision_chart": "Cost per month against latency over the run, per design, with 95% intervals both ways; "
                      "the SLO target, the choice (ringed) and the Pareto front (designs no other beats on both).",
    "latency_over_time": "Latency of each report interval: p50 and p99 (and the SLO's percentile), mean over "
                         "replications with a 95% band; the SLO target dashed; infrastructure events (zone "
                         "outages, scaling, spot interruptions, hardware failures), if any, below.",
    "capacity_over_time": "Arrivals per second, then each design's capacity: instances by state and market with "
                          "the desired capacity, Lambda concurrency and environments, on-premises servers.",
    "cost_over_time": "Cumulative cost by category per design (mean over replications); Savings Plan and "
                      "Reserved Instance coverage below zero; the net total as a black line.",
    "errors_over_time": "Failed requests per second by reason, per design (mean over replications).",
}
_FIGURE_ORDER = ("decision_chart", "latency_over_time", "capacity_over_time", "cost_over_time", "errors_over_time")


# ---- formatting ----------------------------------------------------------------------------------------

def fmt_ci(mean, lo, hi, n, digits=4):
    """'m [lo, hi]' with `digits` significant digits, 'm' without an interval, '-' without a value."""
    if n == 0 or mean is None or not np.isfinite(mean):
        return "-"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{mean:.{digits}g}"
    return f"{mean:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def metric_digits(metric):
    """Significant digits to show a metric with (as strato's decision table does)."""
    if metric == "availability":
        return 5
    if metric.startswith("cost"):
        return 6
    return 4 if metric.endswith("_s") or metric == "throughput_rps" else 3


def duration_text(seconds):
    """'1 d', '8 h', '5 min', '90 s' (a duration in its largest whole unit); '-' for NaN."""
    if seconds is None or not np.isfinite(seconds):
        return "-"
    for unit, size in (("w", 604800.0), ("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size and abs(seconds / size - round(seconds / size)) < 1e-9:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _ci_html(text):
    """A fmt_ci text as HTML with the interval on a line of its own (the cell's text is unchanged)."""
    mean, sep, rest = text.partition(" [")
    return _e(mean) + (f' <span class="ci">[{_e(rest)}</span>' if sep else "")


def _ge_le(text):
    """'<=' and '>=' as the signs."""
    return text.replace("<=", "≤").replace(">=", "≥")


def _e(text):
    """Text escaped for an HTML text node (quotes kept as they are)."""
    return html.escape(str(text), quote=False)


def _a(text):
    """Text escaped for an HTML attribute value."""
    return html.escape(str(text), quote=True)


# ---- the page's parts ----------------------------------------------------------------------------------

def _question(r, colors):
    """The study's question: its designs (kind, description) and its SLO."""
    p = r.provenance
    slo_words = plots.slo_text(r)
    reps = int(p.get("replications", 0) or 0)
    warm = float(p.get("warmup_s", float("nan")))
    if plots.has_slo(r):
        ask = f"Which of these {len(r.designs)} designs meets the SLO for the least money?"
    else:
        ask = f"Which of these {len(r.designs)} designs costs the least? (The study sets no SLO.)"
    how = (f"Each design ran {reps} replication{'s' if reps != 1 else ''} of {_e(duration_text(p.get('horizon_s')))}"
           f" of simulated time, every design seeing the same requests in a replication")
    if np.isfinite(warm) and warm > 0:
        how += f"; the first {_e(duration_text(warm))} (warm-up) are left out of the summary"
    elif not np.isfinite(warm):
        how += "; the warm-up was found per design (MSER-5) and left out of the summary"
    rows = []
    for d in r.designs:
        rows.append(f'<tr data-design="{_a(d)}"><td><span class="swatch" style="background:{colors[d]}"></span>'
                    f"{_e(d)}</td><td>{_e(r.kind(d))}</td><td>{_e(r.description(d))}</td></tr>")
    slo_line = (f'<p id="slo">SLO: {_e(_ge_le(slo_words))}.</p>' if slo_words else
                '<p id="slo">No SLO: every design is acceptable and the choice is the cheapest one with a cost.</p>')
    return (f'<section id="question"><h2>The question</h2><p>{ask}</p><p>{how}.</p>{slo_line}'
            f'<table id="designs"><thead><tr><th>design</th><th>kind</th><th>description</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


def _verdict_table(r, chosen):
    """strato's decision table: per design its verdict, SLO latency, availability, intervals in SLO, cost."""
    metric = plots.latency_metric(r)
    s = plots.slo(r)
    lat_head = f"{s['label']} latency (SLO), s" if metric == "latency_slo_s" and s["label"] else "p99 latency, s"
    head = ("<tr><th>design</th><th>SLO</th>"
            f"<th>{_e(lat_head)}</th><th>availability</th><th>intervals in SLO</th><th>cost per month, USD</th></tr>")
    rows = []
    for d in r.designs:
        v = plots.verdict(r, d)
        cost = r.summary_value(d, "cost_per_month_usd")
        cells = [f'<td class="{v or ""}">{_e(v or "-")}</td>',
                 f'<td class="num">{_e(fmt_ci(*r.summary_value(d, metric), digits=3))}</td>',
                 f'<td class="num">{_e(fmt_ci(*r.summary_value(d, "availability"), digits=5))}</td>',
                 f'<td class="num">{_e(fmt_ci(*r.summary_value(d, "slo_attainment"), digits=3))}</td>',
                 f'<td class="num">{_e(fmt_ci(*cost, digits=6) if cost[3] else "no cost model")}</td>']
        cls = ' class="chosen"' if d == chosen else ""
        rows.append(f'<tr data-design="{_a(d)}" data-verdict="{_a(v or "")}"{cls}><td>{_e(d)}</td>'
                    f'{"".join(cells)}</tr>')
    return f'<div class="wide"><table id="verdicts"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def _savings(r, chosen):
    """What the choice saves a month against the other designs strato lists (paired differences)."""
    items = plots.savings(r)
    if chosen is None or not items:
        why = ("there is no choice" if chosen is None else "the study has one design" if len(r.designs) == 1
               else "no other design with a cost meets the SLO" if plots.has_slo(r) else "no other design has a cost")
        return f'<p id="savings" class="note">No savings to show: {why}.</p>'
    rows = []
    for s in items:
        ci = f"[{s['lo']:.0f}, {s['hi']:.0f}]" if np.isfinite(s["lo"]) else "-"
        how = "paired" if s["paired"] else "difference of the means"
        note = "the baseline" if s["baseline"] else ""
        words = f"the choice costs ${abs(s['mean']):.0f} a month {'less' if s['mean'] >= 0 else 'more'}"
        rows.append(f'<tr data-design="{_a(s["design"])}"><td>{_e(s["design"])}</td>'
                    f'<td class="num">{s["mean"]:.0f}</td><td class="num">{_e(ci)}</td><td>{_e(how)}</td>'
                    f'<td>{_e(words)}</td><td>{_e(note)}</td></tr>')
    return ('<table id="savings"><thead><tr><th>against</th><th>saving per month, USD</th><th>95% CI</th>'
            '<th>interval</th><th>in words</th><th></th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>'
            '<p class="note">Saving: the other design\'s cost per month less the choice\'s, replication by '
            'replication (the same requests in both), with its 95% Student-t interval. A negative saving is '
            'a cheaper design that does not meet the SLO with confidence.</p>')


def _decision(r, colors):
    """The decision sentence, the verdict table and the savings."""
    chosen = plots.choice(r)
    cls = "" if chosen is not None else ' class="none"'
    sentence = plots.decision_sentence(r)
    reps = int(r.provenance.get("replications", 0) or 0)
    rule = ("A design meets the SLO when the 95% interval of its SLO percentile lies below the target and that "
            "of its availability above its target, fails when the interval lies on the wrong side, and is "
            "unclear otherwise (more replications would tell). The choice is the cheapest design, by mean cost "
            "per month, among those that meet it." if plots.has_slo(r) else
            "Without an SLO the choice is the design with the lowest mean cost per month.")
    return (f'<section id="answer"><h2>The decision</h2>'
            f'<p id="decision" data-choice="{_a(chosen or "")}"{cls}>{_e(sentence)}</p>'
            f'<p class="note">{rule} ({reps} replication{"s" if reps != 1 else ""}, 95% confidence intervals.)</p>'
            f"{_verdict_table(r, chosen)}<h3>What the choice saves</h3>{_savings(r, chosen)}</section>")


def _summary(r):
    """The summary table (metric rows, design columns) and the differences against the baseline."""
    metrics = r.metrics()
    units = {m: u for m, u in zip(r.summary_table["metric"], r.summary_table["unit"])}
    head = "<tr><th>metric</th><th>unit</th>" + "".join(f"<th>{_e(d)}</th>" for d in r.designs) + "</tr>"
    rows = []
    for m in metrics:
        cells = "".join(f'<td class="num" data-design="{_a(d)}" data-metric="{_a(m)}">'
                        f'{_ci_html(fmt_ci(*r.summary_value(d, m), digits=metric_digits(m)))}</td>' for d in r.designs)
        rows.append(f'<tr data-metric="{_a(m)}"><td>{_e(m)}</td><td>{_e(units.get(m, ""))}</td>{cells}</tr>')
    out = ('<section id="summary-section"><h2>Summary</h2><p class="note">Mean over replications and its 95% '
           'Student-t interval, over the requests that arrived after the warm-up ("-": no value).</p>'
           f'<div class="wide"><table id="summary"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>')
    others = [d for d in r.designs if d != r.baseline and len(r.comparisons(d))]
    if others:
        head = "<tr><th>metric</th><th>unit</th>" + "".join(f"<th>{_e(d)}</th>" for d in others) + "</tr>"
        rows = []
        for m in metrics:
            cells = []
            for d in others:
                c = r.comparisons(d)
                c = c[c["metric"] == m]
                text = "-" if len(c) == 0 else fmt_ci(float(c[0]["mean_diff"]), float(c[0]["ci95_lo"]),
                                                       float(c[0]["ci95_hi"]), int(c[0]["n"]), metric_digits(m))
                cells.append(f'<td class="num" data-design="{_a(d)}" data-metric="{_a(m)}">{_ci_html(text)}</td>')
            rows.append(f'<tr data-metric="{_a(m)}"><td>{_e(m)}</td><td>{_e(units.get(m, ""))}</td>'
                        f'{"".join(cells)}</tr>')
        out += (f'<h3>Against the baseline, "{_e(r.baseline)}"</h3><p class="note">Paired differences design − '
                'baseline over the replications (the same requests in both) and their 95% intervals.</p>'
                f'<div class="wide"><table id="comparisons"><thead>{head}</thead>'
                f'<tbody>{"".join(rows)}</tbody></table></div>')
    return out + "</section>"


def _figures(paths):
    """The plots, by relative file name."""
    out = ['<section id="plots"><h2>Plots</h2>']
    for name in _FIGURE_ORDER:
        if name in paths:
            file = os.path.basename(paths[name])
            out.append(f'<figure id="fig-{name}"><img src="{_a(file)}" alt="{_a(name.replace("_", " "))}">'
                       f"<figcaption>{_e(_CAPTIONS[name])}</figcaption></figure>")
    return "".join(out) + "</section>"


def _provenance(r, results_path):
    """Where the results came from: strato's version, the seed, the replications, the command line."""
    p = r.provenance
    rows = [("results file", os.path.abspath(results_path)), ("strato version", p.get("strato_version", "")),
            ("study", p.get("study", "")), ("config file", p.get("config_path", "")),
            ("command line", p.get("command_line", "")), ("master seed", p.get("master_seed", "")),
            ("replications", p.get("replications", "")), ("horizon", duration_text(p.get("horizon_s"))),
            ("report interval", duration_text(p.get("report_interval_s"))),
            ("warm-up", duration_text(p.get("warmup_s")) if np.isfinite(float(p.get("warmup_s", float("nan"))))
             else "auto (per design)"),
            ("baseline", p.get("baseline", "")), ("complete", "yes" if p.get("complete", True) else "no (interrupted)"),
            ("format version", p.get("format_version", ""))]
    body = "".join(f'<tr data-key="{_a(k)}"><th>{_e(k)}</th><td>{_e(v)}</td></tr>' for k, v in rows)
    return (f'<section id="provenance"><h2>Provenance</h2><table id="provenance-table"><tbody>{body}</tbody></table>'
            '</section>')


def render_html(r, results_path, figure_paths):
    """The report page's HTML text."""
    study = r.provenance.get("study", "") or os.path.basename(results_path)
    colors = plots.design_colors(r)
    warn = ""
    if not r.provenance.get("complete", True):
        warn = ('<p id="incomplete" class="warning">The study was interrupted: the file holds the runs that '
                'finished (and the one that was interrupted); figures are over those.</p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(study)}: strato report</title>"
            f"<style>{_CSS}</style></head><body>"
            f'<h1>{_e(study)}</h1><p class="lead">strato study report · {len(r.designs)} designs · '
            f'{_e(r.provenance.get("replications", ""))} replications · '
            f'results file {_e(os.path.basename(results_path))}</p>'
            f"{warn}{_question(r, colors)}{_decision(r, colors)}{_summary(r)}{_figures(figure_paths)}"
            f'<section id="config-section"><h2>Configuration</h2><p class="note">The config text as it was run'
            f' ({_e(r.provenance.get("config_path", ""))}).</p><pre id="config">{_e(r.config_text)}</pre></section>'
            f"{_provenance(r, results_path)}</body></html>\n")


def build_report(results_path, out_dir):
    """Writes the plots and out_dir/index.html for a results file; returns the page's path. Raises
    ResultsError when the file cannot be read, OSError when out_dir cannot be written."""
    with open_results(results_path) as r:
        plots.load(r)  # a damaged file fails here, before anything is written
        os.makedirs(out_dir, exist_ok=True)
        figures = plots.all_plots(r, out_dir)
        page = render_html(r, results_path, figures)
    path = os.path.join(out_dir, "index.html")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, path)
    return path


def _parser():
    p = Parser(prog="python3 -m analysis.report",
                description="Write a strato study's report: plots and one HTML page.")
    p.add_argument("results", metavar="RESULTS.h5", help="a results file written by `strato run`")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="output directory (default: the results file's base name + '_report', here)")
    return p


def main(argv=None):
    """`python3 -m analysis.report RESULTS.h5 [-o DIR]`: 0 done, 2 bad input, 1 cannot write."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
    except UsageError as e:
        print(f"{PROG}: {e} (usage: python3 -m analysis.report RESULTS.h5 [-o DIR])", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)
    out = args.out or os.path.splitext(os.path.basename(args.results))[0] + "_report"
    try:
        path = build_report(args.results, out)
    except ResultsError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{PROG}: cannot write the report in {out}: {e.strerror or e}", file=sys.stderr)
        return 1
    except Exception as e:  # never a traceback for the user
        print(f"{PROG}: unexpected error ({type(e).__name__}: {e}); please report it", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
