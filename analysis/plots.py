"""Plots of a strato results file, one PNG each, for a planner to read at a glance.

    from analysis.strato_results import open_results
    from analysis import plots
    with open_results("default.h5") as r:
        plots.all_plots(r, "default_report")      # {name: path of the PNG}

Time plots show, per design, the mean over replications of each report interval and its 95% Student-t
confidence interval across replications (no band with one replication). Every design keeps one colour
in every plot (design_colors). The module also makes the study's decision as `strato run` does (which
designs meet the SLO, the cheapest of them, its paired savings): the decision chart marks it and the
report states it. Figures are drawn with matplotlib's Agg canvas, without pyplot's global state.
"""
import math
import os
import re
import weakref

import numpy as np
import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402  (after choosing the backend)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib import ticker  # noqa: E402

from analysis.strato_results import ResultsError  # noqa: E402

MONTH_S = 730 * 3600.0  # strato's (and AWS's) month
EVENT_RUNS = 20  # replications whose events the latency plot's strip shows
MAX_POINTS = 1500  # longer series are averaged over bins of rows for drawing (more rows than pixels)
SLO_COLOR = "black"  # lines and markers that are not designs stay out of the designs' palette
OUTAGE_COLOR = "0.25"
PLOT_NAMES = ("latency_over_time", "capacity_over_time", "cost_over_time", "errors_over_time", "decision_chart")

# ---- statistics -------------------------------------------------------------------------------------

_T975 = (12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
         2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
         2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
         2.048407, 2.045230, 2.042272)


def t95(df):
    """The 97.5% quantile of Student's t with df degrees of freedom (a 95% two-sided interval); NaN
    below 1. Exact to 6 digits up to 30, then the Cornish-Fisher expansion (better than 1e-7)."""
    df = math.floor(df) if np.isfinite(df) else df
    if not df >= 1:
        return float("nan")
    if df <= len(_T975):
        return _T975[int(df) - 1]
    z = 1.959963984540054
    g = ((z ** 3 + z) / 4, (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96,
         (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384,
         (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160)
    return z + sum(gk / df ** (k + 1) for k, gk in enumerate(g))


def mean_ci(values):
    """(mean, lo, hi, n) of the finite values with a Student-t 95% interval; NaN bounds below 2."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return (float("nan"), float("nan"), float("nan"), 0)
    m = float(x.mean())
    if n < 2:
        return (m, float("nan"), float("nan"), n)
    h = t95(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return (m, m - h, m + h, n)


def _wanted(column):
    """Whether the plots use a series column (only those are averaged, to keep memory small)."""
    if column.startswith("cost_rate_"):
        return False
    return (column in ("arrivals", "desired", "utilization") or column.startswith(
        ("latency_", "errors", "instances_", "group_", "capacity_", "cost_", "lambda_concurrency", "lambda_envs")))


_NICE_S = (60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400, 172800, 604800)


def rows_per_point(n_rows, interval_s):
    """Rows averaged into one drawn point: 1 up to MAX_POINTS rows, else enough rows to make a round
    duration (10 min, 1 h, ...) that keeps the series under MAX_POINTS points."""
    if n_rows <= MAX_POINTS:
        return 1
    need = n_rows / MAX_POINTS
    if interval_s > 0:
        for d in _NICE_S:
            k = d / interval_s
            if k >= need and abs(k - round(k)) < 1e-9:
                return int(round(k))
    return int(math.ceil(need))


def _bin_how(column):
    """How a column's rows combine into a drawn point: the last of a cumulative, the largest of a
    maximum, else the mean."""
    if column == "t_s" or column.startswith("cost_"):
        return "last"
    return "max" if column.endswith(("_max", "_max_s")) else "mean"


def _binned(k, x, *ys, how="mean"):
    """x and ys over bins of k rows: x at each bin's end, y the mean of its finite values (how="max":
    their largest; how="last": the last row's value, for cumulative series)."""
    if k <= 1 or len(x) == 0:
        return (x,) + ys
    n = len(x)
    ends = np.minimum(np.arange(1, math.ceil(n / k) + 1) * k, n) - 1
    out = [np.asarray(x)[ends]]
    for y in ys:
        if how == "last":
            out.append(np.asarray(y)[ends])
            continue
        padded = np.concatenate([y, np.full(len(ends) * k - n, np.nan)]).reshape(-1, k)
        fin = np.isfinite(padded)
        count = fin.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            if how == "max":
                out.append(np.where(count > 0, np.where(fin, padded, -np.inf).max(axis=1), np.nan))
            else:
                out.append(np.where(count > 0, np.where(fin, padded, 0.0).sum(axis=1) / count, np.nan))
    return tuple(out)



class _Stats:
    """Mean and 95% CI half-width over replications of one design's series, point by point.

    A point is a row, or with long series a bin of rows_per_point rows that each run is reduced to
    before the statistics (so that the interval is that of what is drawn). Runs are read one at a time
    and summed (shifted by the first finite value of each cell, so that the variance of large
    cumulative values keeps its digits): memory does not grow with replications. Runs of different
    lengths (an interrupted study) are padded with NaN."""

    def __init__(self, r, design):
        self.runs = r.runs(design)
        self.t_s, self.rows = np.zeros(0), np.zeros(0)
        p = r.provenance
        interval = float(p.get("report_interval_s", 0.0) or 0.0)
        horizon = float(p.get("horizon_s", 0.0) or 0.0)
        self.k = rows_per_point(math.ceil(horizon / interval) if interval > 0 else 0, interval)
        acc = {}
        for run in self.runs:
            s = _read(r, r.series, design, run)
            t = _binned(self.k, np.asarray(s["t_s"], dtype=float))[0]
            if len(t) > len(self.t_s) or len(self.runs) == 0:
                self.t_s = t
                self.rows = np.minimum(self.k, len(s) - self.k * np.arange(len(t))).astype(float)
            for name in s.dtype.names:
                if _wanted(name):
                    x = np.asarray(s[name], dtype=float)
                    self._add(acc, name, _binned(self.k, x, x, how=_bin_how(name))[1])
        self.mean, self.half = {}, {}
        n_rows = len(self.t_s)
        for name, (k, s1, s2, n) in acc.items():
            k, s1, s2, n = (_pad(a, n_rows, 0.0) for a in (k, s1, s2, n))
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(n > 0, k + s1 / n, np.nan)
                var = np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1)
                tq = np.array([t95(c - 1) for c in range(int(n.max(initial=0)) + 1)])
                half = np.where(n >= 2, tq[n.astype(int)] * np.sqrt(var / n), np.nan)
            self.mean[name], self.half[name] = mean, half

    @staticmethod
    def _add(acc, name, x):
        """Adds one run's column to the running shifted sums."""
        if name not in acc:
            acc[name] = [np.zeros(0) for _ in range(4)]
        k, s1, s2, n = (_pad(a, len(x), 0.0) for a in acc[name])
        x = _pad(x, len(n), np.nan)  # a shorter run (interrupted) adds nothing past its end
        fin = np.isfinite(x)
        k = np.where((n == 0) & fin, x, k)
        d = np.where(fin, x - k, 0.0)
        acc[name] = [k, s1 + d, s2 + d * d, n + fin]

    def per_second(self, column):
        """The mean of a per-row count as a rate per second, point by point."""
        with np.errstate(invalid="ignore", divide="ignore"):
            dt = _interval_s(self.t_s)
            return np.where(dt > 0, self.get(column)[0] * self.rows / dt, np.nan)

    def has(self, column):
        """Whether any row of the column has a value."""
        return column in self.mean and bool(np.isfinite(self.mean[column]).any())

    def get(self, column):
        """(mean, half-width) of a column; all NaN when the design lacks it."""
        nan = np.full(len(self.t_s), np.nan)
        return self.mean.get(column, nan), self.half.get(column, nan)


def _pad(a, n, fill):
    """a extended to length n with fill (unchanged when long enough)."""
    if len(a) >= n:
        return a
    return np.concatenate([a, np.full(n - len(a), fill)])


_CACHE = weakref.WeakKeyDictionary()


def _damaged(r, e):
    first = str(e).splitlines()[0] if str(e) else ""
    return ResultsError(f"{r.path}: damaged strato results file ({type(e).__name__}: {first})")


def _read(r, method, *args):
    """r.method(*args), with what h5py raises on a damaged file turned into ResultsError."""
    try:
        return method(*args)
    except ResultsError:
        raise
    except (OSError, KeyError, ValueError, TypeError, IndexError, RuntimeError) as e:
        raise _damaged(r, e) from None


def design_stats(r, design):
    """The averaged series of a design (cached on the open Results)."""
    cache = _CACHE.setdefault(r, {})
    key = ("stats", design)
    if key not in cache:
        cache[key] = _Stats(r, design)
    return cache[key]


def design_events(r, design):
    """The events tables of a design's first EVENT_RUNS replications, as a list (cached)."""
    cache = _CACHE.setdefault(r, {})
    key = ("events", design)
    if key not in cache:
        cache[key] = [_read(r, r.events, design, run) for run in r.runs(design)[:EVENT_RUNS]]
    return cache[key]


def load(r):
    """Reads everything the plots need (so that a damaged file fails here, with ResultsError)."""
    for d in r.designs:
        design_stats(r, d)
        design_events(r, d)


# ---- the SLO and the decision, as `strato run` makes them -------------------------------------------

_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
          "w": 604800.0}


def parse_duration(text):
    """Seconds of a strato duration string ("250ms", "1.5s", "2h"); NaN when it is not one."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]+)\s*", text or "")
    if not m or m.group(2) not in _UNITS:
        return float("nan")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _without_comments(text):
    """The config text with its comments (#, //, /* */) blanked, strings kept."""
    pattern = re.compile(r'"(?:\\.|[^"\\])*"|#[^\n]*|//[^\n]*|/\*.*?\*/', re.S)
    return pattern.sub(lambda m: m.group(0) if m.group(0).startswith('"') else " ", text)


def slo(r):
    """The study's SLO: {'quantile': 0.99 or None, 'label': 'p99' or None, 'latency_s': target or NaN,
    'availability': target or NaN}. Read from the config text's `slo` group; when that cannot be
    parsed, the summary still tells whether a latency SLO exists (its `latency_slo_s` metric)."""
    out = {"quantile": None, "label": None, "latency_s": float("nan"), "availability": float("nan")}
    attrs = r.provenance
    if "slo_quantile" in attrs:  # files from strato that records its SLO (also when it came from an @include)
        q, lat, avail = (float(attrs[k]) for k in ("slo_quantile", "slo_latency_s", "slo_availability"))
        if np.isfinite(q):
            out["quantile"], out["latency_s"] = q, lat
            out["label"] = "p" + ("99.9" if abs(q - 0.999) < 1e-9 else f"{100 * q:g}")
        out["availability"] = avail
        return out
    m = re.search(r"\bslo\s*[:=]\s*\{([^}]*)\}", _without_comments(r.config_text))
    body = m.group(1) if m else ""
    lat = re.search(r'\blatency_p(50|90|95|99|999)\s*[:=]\s*"([^"]*)"', body)
    if lat:
        digits = lat.group(1)
        out["quantile"] = float("0." + digits)
        out["label"] = "p" + (digits if digits != "999" else "99.9")
        out["latency_s"] = parse_duration(lat.group(2))
    avail = re.search(r"\bavailability\s*[:=]\s*([-+0-9.eE]+)", body)
    if avail:
        try:
            out["availability"] = float(avail.group(1))
        except ValueError:
            pass
    if out["quantile"] is None and "latency_slo_s" in r.metrics():
        out["label"] = "SLO percentile"
    return out


def has_slo(r):
    """Whether the study has an SLO at all (latency or availability)."""
    s = slo(r)
    return s["label"] is not None or np.isfinite(s["availability"]) or "slo_met" in r.metrics()


def latency_metric(r):
    """The summary metric the decision judges latency by: the SLO percentile, else p99."""
    return "latency_slo_s" if "latency_slo_s" in r.metrics() else "latency_p99_s"


def _judge(value, target, lower_is_better):
    """0 meets, 1 unclear, 2 fails: strato's rule on a (mean, lo, hi, n) against a target."""
    mean, lo, hi, n = value
    if n == 0:
        return 2
    good, bad = (hi, lo) if lower_is_better else (lo, hi)
    if math.isnan(lo):
        good = bad = mean
    if (good <= target) if lower_is_better else (good >= target):
        return 0
    if (bad > target) if lower_is_better else (bad < target):
        return 2
    return 1


def verdict(r, design):
    """'meets', 'unclear' or 'fails' the SLO (from the confidence intervals); None without an SLO."""
    if not has_slo(r):
        return None
    s, worst = slo(r), 0
    if "latency_slo_s" in r.metrics() and np.isfinite(s["latency_s"]):
        worst = max(worst, _judge(r.summary_value(design, "latency_slo_s"), s["latency_s"], True))
    if np.isfinite(s["availability"]):
        worst = max(worst, _judge(r.summary_value(design, "availability"), s["availability"], False))
    return ("meets", "unclear", "fails")[worst]


def choice(r):
    """The cheapest design by mean cost per month among those that meet the SLO (all designs without
    an SLO); None when none does or no design has a cost."""
    best, best_cost = None, math.inf
    for d in r.designs:
        if verdict(r, d) not in (None, "meets"):
            continue
        mean, _, _, n = r.summary_value(d, "cost_per_month_usd")
        if n > 0 and mean < best_cost:
            best, best_cost = d, mean
    return best


def run_costs_per_month(r, design):
    """{replication: cost per month after the warm-up} of a design's completed runs, rebuilt from the
    series (the cumulative cost at the horizon less that at the end of the warm-up); empty when the
    warm-up does not end on a row or the design has no costs."""
    out = {}
    root_warmup = float(r.provenance.get("warmup_s", 0.0))
    for run in r.runs(design):
        attrs = _read(r, r.run_attrs, design, run)
        if not attrs.get("complete", True):
            continue
        w = float(attrs.get("warmup_s", root_warmup))
        s = _read(r, r.series, design, run)
        t, c = np.asarray(s["t_s"], dtype=float), np.asarray(s["cost_usd"], dtype=float)
        if len(t) == 0 or not np.isfinite(c[-1]) or not t[-1] > w:
            continue
        if w <= 0:
            start = 0.0
        else:
            at = np.flatnonzero(np.isclose(t, w, rtol=1e-12, atol=1e-9))
            if len(at) == 0:
                return {}
            start = c[at[0]]
        out[run] = (c[-1] - start) / (t[-1] - w) * MONTH_S
    if out:  # it must agree with the summary, else it is not what strato measured
        mean = r.summary_value(design, "cost_per_month_usd")[0]
        if not np.isclose(np.mean(list(out.values())), mean, rtol=1e-7, atol=1e-9):
            return {}
    return out


def paired_cost_difference(r, design, other):
    """Cost per month of `design` less that of `other`: (mean, lo, hi, n, paired). Paired over the
    replications both completed when the per-run costs can be rebuilt, else from the baseline
    comparisons when one of them is the baseline, else the difference of the means (no interval)."""
    a, b = run_costs_per_month(r, design), run_costs_per_month(r, other)
    both = sorted(set(a) & set(b))
    if both:
        return mean_ci([a[k] - b[k] for k in both]) + (True,)
    for d, o, sign in ((design, other, 1.0), (other, design, -1.0)):
        if o == r.baseline:
            rows = r.comparisons(d)
            rows = rows[rows["metric"] == "cost_per_month_usd"]
            if len(rows):
                x = rows[0]
                lo, hi = sign * float(x["ci95_lo"]), sign * float(x["ci95_hi"])
                return (sign * float(x["mean_diff"]), min(lo, hi), max(lo, hi), int(x["n"]), True)
    m1, m2 = r.summary_value(design, "cost_per_month_usd")[0], r.summary_value(other, "cost_per_month_usd")[0]
    n = min(r.summary_value(design, "cost_per_month_usd")[3], r.summary_value(other, "cost_per_month_usd")[3])
    return (m1 - m2, float("nan"), float("nan"), n, False)


def savings(r):
    """What the choice saves a month against the other designs strato lists (those that meet the SLO,
    and the baseline): [{'design', 'mean', 'lo', 'hi', 'n', 'paired', 'baseline'}], study order."""
    c = choice(r)
    out = []
    if c is None:
        return out
    for d in r.designs:
        if d == c or not (verdict(r, d) in (None, "meets") or d == r.baseline):
            continue
        if r.summary_value(d, "cost_per_month_usd")[3] == 0:
            continue
        mean, lo, hi, n, paired = paired_cost_difference(r, d, c)
        out.append({"design": d, "mean": mean, "lo": lo, "hi": hi, "n": n, "paired": paired,
                    "baseline": d == r.baseline})
    return out


def decision_sentence(r):
    """The decision in one sentence, worded as `strato run` prints it."""
    c = choice(r)
    if c is None:
        if has_slo(r):
            return ("no design with a cost model meets the SLO with confidence: add capacity, or run more "
                    "replications for the unclear ones")
        return "no design has a cost model"
    mean, lo, hi, _ = r.summary_value(c, "cost_per_month_usd")
    what = "meets the SLO" if has_slo(r) else "has a cost"
    text = f'choice: "{c}", the cheapest design that {what}: ${mean:.0f} a month'
    if not math.isnan(lo):
        text += f" [{lo:.0f}, {hi:.0f}]"
    return text


def slo_text(r):
    """The SLO in words, as strato's decision header gives it ('' without one)."""
    s, parts = slo(r), []
    if s["quantile"] is not None:
        parts.append(f"{s['label']} latency <= {s['latency_s']:g} s")
    elif s["label"]:
        parts.append("a latency SLO (its target could not be read from the config)")
    if np.isfinite(s["availability"]):
        parts.append(f"availability >= {s['availability']:g}")
    return ", ".join(parts)


# ---- common drawing helpers --------------------------------------------------------------------------

def design_colors(r):
    """{design: colour}, in study order; the same in every plot."""
    import matplotlib.colors as mcolors
    names = list(r.designs)
    if len(names) <= 10:
        cmap = [matplotlib.colormaps["tab10"](i) for i in range(10)]
    elif len(names) <= 20:
        cmap = [matplotlib.colormaps["tab20"](i) for i in range(20)]
    else:
        cmap = [matplotlib.colormaps["hsv"](i / len(names)) for i in range(len(names))]
    return {d: mcolors.to_hex(cmap[i]) for i, d in enumerate(names)}


def _lighter(colour, amount=0.5):
    """A colour mixed with white."""
    import matplotlib.colors as mcolors
    rgb = np.array(mcolors.to_rgb(colour))
    return mcolors.to_hex(rgb + (1.0 - rgb) * amount)


def _time_unit(r):
    """(seconds per unit, axis label): hours, or days beyond three days."""
    horizon = float(r.provenance.get("horizon_s", 0.0) or 0.0)
    if not horizon > 0:
        horizon = max((float(design_stats(r, d).t_s[-1]) for d in r.designs if len(design_stats(r, d).t_s)),
                      default=3600.0)
    if horizon > 3 * 86400:
        return 86400.0, "simulated time, days"
    return 3600.0, "simulated time, hours"


def _time_axis(ax, r, label=True):
    """Sets the time axis: range, unit, ticks at round hours."""
    scale, text = _time_unit(r)
    horizon = float(r.provenance.get("horizon_s", 0.0) or 0.0)
    if horizon > 0:
        ax.set_xlim(0, horizon / scale)
    whole = horizon >= 3 * scale  # whole hours (days) once there are a few of them
    steps = ([1, 2, 3, 6, 10] if whole else [1, 2.5, 5, 10]) if scale == 3600.0 else [1, 2, 5, 10]
    ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=12, steps=steps, integer=whole))
    if label:
        ax.set_xlabel(text)


def _shade_warmup(ax, r):
    """Greys the warm-up (left out of the summary); returns a legend handle or None."""
    w = float(r.provenance.get("warmup_s", float("nan")))
    if not (np.isfinite(w) and w > 0):
        return None
    scale, _ = _time_unit(r)
    ax.axvspan(0, w / scale, color="0.9", zorder=0, lw=0)
    return Patch(color="0.9", label="warm-up (not in the summary)")


def _replications_note(r):
    """The subtitle that says what lines and bands are."""
    n = max((len(r.runs(d)) for d in r.designs), default=0)
    if n <= 1:
        return "one replication: no confidence band"
    return f"lines: mean of {n} replications; bands: 95% confidence interval (Student t)"


def _new_figure(n_rows, height_ratios=None, width=11.0, row_height=2.4, sharex=True):
    """A figure with n_rows stacked axes (a list)."""
    heights = height_ratios or [1.0] * n_rows
    fig = Figure(figsize=(width, 1.2 + row_height * sum(heights)), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, 1, sharex=sharex, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]
    return fig, list(axes)


def _finish(fig, png, title, subtitle=None, legend_handles=None, legend_cols=4):
    """Stacks the title, a subtitle and a legend above the plots (measured, so that they never
    overlap whatever the figure's height), lays the figure out and writes the PNG."""
    h, dpi = fig.get_figheight(), fig.dpi
    renderer = fig.canvas.get_renderer()
    y = 0.08
    t = fig.text(0.5, 1 - y / h, title, ha="center", va="top", fontsize=13, fontweight="bold")
    y += t.get_window_extent(renderer).height / dpi + 0.05
    if subtitle:
        t = fig.text(0.5, 1 - y / h, subtitle, ha="center", va="top", fontsize=9, color="0.3")
        y += t.get_window_extent(renderer).height / dpi + 0.05
    if legend_handles:
        leg = fig.legend(handles=legend_handles, loc="upper center", bbox_to_anchor=(0.5, 1 - y / h),
                         ncol=min(legend_cols, len(legend_handles)), frameon=False, fontsize=9)
        y += leg.get_window_extent(renderer).height / dpi
    fig.set_layout_engine("constrained", rect=(0, 0, 1, 1 - (y + 0.05) / h), h_pad=0.04, w_pad=0.04)
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    fig.savefig(png, dpi=dpi)
    return png


def _design_handles(r, designs=None):
    """Legend lines, one per design, in its colour."""
    colors = design_colors(r)
    return [Line2D([], [], color=colors[d], lw=2.5, label=d) for d in (designs or r.designs)]


def _latency_unit(values):
    """(factor, unit) to show latencies: milliseconds when everything is below a second."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) and v.max() < 1.0:
        return 1000.0, "ms"
    return 1.0, "s"


def _log_if_wide(ax, values, axis="y", ratio=30.0):
    """Switches an axis to a log scale when the positive values span more than `ratio`."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) and v.max() / v.min() > ratio:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
        return True
    return False


def _colored_title(ax, r, design, extra=""):
    """A panel title: the design's name in its colour, its kind, and more."""
    colors = design_colors(r)
    kind = r.kind(design)
    ax.set_title(f"{design}{'' if kind == design else f' ({kind})'}{extra}", loc="left", fontsize=10,
                 color=colors[design], fontweight="bold")


# ---- latency -------------------------------------------------------------------------------------------

def _zone_spans(events, horizon):
    """[(down_s, up_s, az)] of the zone outages in one run's events."""
    spans, open_at = [], {}
    for e in events[np.isin(events["kind"], ("zone_down", "zone_up"))]:
        if e["kind"] == "zone_down":
            open_at[int(e["az"])] = float(e["t_s"])
        elif int(e["az"]) in open_at:
            spans.append((open_at.pop(int(e["az"])), float(e["t_s"]), int(e["az"])))
    spans += [(t, horizon, az) for az, t in open_at.items()]
    return spans


def _configured_outages(r):
    """Zone outages found at the same times in every replication of a design (configured ones),
    union over designs: {(down_s, up_s, az)}."""
    horizon = float(r.provenance.get("horizon_s", 0.0) or 0.0)
    out = set()
    for d in r.designs:
        runs = design_events(r, d)
        common = None
        for ev in runs:
            spans = {(round(a, 3), round(b, 3), z) for a, b, z in _zone_spans(ev, horizon)}
            common = spans if common is None else common & spans
        out |= common or set()
    return sorted(out)


_EVENT_STYLE = {  # kind: (label, marker, colour or None for the design's, size)
    "scaling": ("scaling action", "|", None, 60),
    "spot_interruption": ("spot interruption", "x", "black", 28),
    "instance_failed": ("hardware failure", "*", "#8b0000", 45),
}


def _event_strip(ax, r):
    """One row per design: zone outages as bars, scaling actions, spot interruptions and hardware
    failures as markers, for the first replications (each its own line within the row)."""
    colors = design_colors(r)
    scale, _ = _time_unit(r)
    horizon = float(r.provenance.get("horizon_s", 0.0) or 0.0)
    used = set()
    n_designs = len(r.designs)
    for i, d in enumerate(r.designs):
        row = n_designs - 1 - i
        runs = design_events(r, d)
        for k, ev in enumerate(runs):
            y = row + (0.0 if len(runs) == 1 else 0.35 - 0.7 * k / (len(runs) - 1))
            for a, b, _z in _zone_spans(ev, horizon):
                ax.plot([a / scale, b / scale], [y, y], color=OUTAGE_COLOR, lw=3.5, alpha=0.6,
                        solid_capstyle="butt")
                used.add("zone")
            for kind, (_label, marker, colour, size) in _EVENT_STYLE.items():
                t = ev["t_s"][ev["kind"] == kind]
                if len(t):
                    ax.scatter(t / scale, np.full(len(t), y), marker=marker, s=size, lw=1.2,
                               color=colour or colors[d], zorder=3)
                    used.add(kind)
    ax.set_yticks(range(n_designs))
    ax.set_yticklabels(list(reversed(r.designs)), fontsize=8)
    for label, d in zip(ax.get_yticklabels(), reversed(r.designs)):
        label.set_color(colors[d])
    ax.set_ylim(-0.6, n_designs - 0.4)
    runs_shown = min(EVENT_RUNS, max(len(r.runs(d)) for d in r.designs))
    which = "replication 0" if runs_shown == 1 else f"replications 0-{runs_shown - 1}, one line each"
    ax.set_title(f"infrastructure events ({which})", loc="left", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    handles = []
    if "zone" in used:
        handles.append(Line2D([], [], color=OUTAGE_COLOR, lw=3.5, alpha=0.6, label="zone outage"))
    for kind, (label, marker, colour, _s) in _EVENT_STYLE.items():
        if kind in used:
            handles.append(Line2D([], [], ls="", marker=marker, color=colour or "0.35", mew=1.2,
                                  ms=8 if marker != "|" else 10, label=label))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)


def _has_events(r):
    """Whether any design has an event the strip shows."""
    kinds = ("zone_down",) + tuple(_EVENT_STYLE)
    return any(np.isin(ev["kind"], kinds).any() for d in r.designs for ev in design_events(r, d))


def latency_over_time(r, png):
    """p50 and p99 of each report interval per design (and the SLO's percentile when it is another),
    with 95% bands over replications, the SLO target as a line, and the infrastructure events."""
    colors = design_colors(r)
    s = slo(r)
    panels = []
    if s["quantile"] not in (None, 0.5, 0.99) or (s["label"] and s["quantile"] is None):
        panels.append(("latency_slo_s", f"{s['label']} (the SLO percentile)"))
    panels += [("latency_p99_s", "p99"), ("latency_p50_s", "p50")]
    strip = _has_events(r)
    ratios = [1.0] * len(panels) + ([0.22 + 0.2 * len(r.designs)] if strip else [])
    fig, axes = _new_figure(len(ratios), ratios, row_height=2.5)
    scale, _ = _time_unit(r)
    warm = None
    outages = _configured_outages(r)
    data = {}
    for column, _ in panels:  # per design (x, mean, lo, hi), binned for drawing
        data[column] = []
        for d in r.designs:
            mean, half = design_stats(r, d).get(column)
            data[column].append((design_stats(r, d).t_s / scale, mean, mean - half, mean + half))
    factor, unit = _latency_unit(np.concatenate([v[1] for c in data.values() for v in c] + [[s["latency_s"]]]))
    for ax, (column, label) in zip(axes, panels):
        target = float("nan")
        if (column == "latency_slo_s") or (s["quantile"] == 0.99 and column == "latency_p99_s") or \
                (s["quantile"] == 0.5 and column == "latency_p50_s"):
            target = s["latency_s"]
        shown = np.concatenate([v[1] for v in data[column]] + [[target]]) * factor
        shown = shown[np.isfinite(shown) & (shown > 0)]
        log = _log_if_wide(ax, shown)
        warm = _shade_warmup(ax, r) or warm
        for a, b, _z in outages:
            ax.axvspan(a / scale, b / scale, facecolor="none", edgecolor="0.75", hatch="//", lw=0, zorder=0)
        alpha = 0.25 / math.sqrt(len(r.designs))
        for d, (x, mean, lo, hi) in zip(r.designs, data[column]):  # bands first: lines stay on top
            if np.isfinite(lo).any():
                floor = shown.min() / 10 if log and len(shown) else -np.inf
                ax.fill_between(x, np.maximum(lo * factor, floor), hi * factor, color=colors[d], alpha=alpha, lw=0)
        for d, (x, mean, lo, hi) in zip(r.designs, data[column]):
            ax.plot(x, mean * factor, color=colors[d], lw=1.2)
        if np.isfinite(target):
            ax.axhline(target * factor, color=SLO_COLOR, ls="--", lw=1.4)
            ax.annotate(f"SLO: {s['label']} ≤ {target * factor:g} {unit}", xy=(1.0, target * factor),
                        xycoords=("axes fraction", "data"), xytext=(-4, 3), textcoords="offset points",
                        ha="right", va="bottom", fontsize=8, color=SLO_COLOR,
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
        if len(shown):  # the means set the range; a wide band (few replications) is cut at the top
            ax.set_ylim(shown.min() / 1.5 if log else 0, shown.max() * (2.0 if log else 1.15))
        ax.set_ylabel(f"{label} latency, {unit}")
        ax.grid(alpha=0.3)
        _time_axis(ax, r, label=False)
    if strip:
        _event_strip(axes[-1], r)
    axes[-1].set_xlabel(_time_unit(r)[1])
    handles = _design_handles(r)
    if warm:
        handles.append(warm)
    if outages:
        handles.append(Patch(facecolor="none", edgecolor="0.75", hatch="//", label="zone outage (every replication)"))
    return _finish(fig, png, f"{r.provenance.get('study', '')}: response time per report interval",
                   _replications_note(r) + _bin_note(r), handles)


# ---- capacity ------------------------------------------------------------------------------------------

def _bin_note(r):
    """'' or what one drawn point stands for when rows are binned."""
    k = max((design_stats(r, d).k for d in r.designs), default=1)
    if k <= 1:
        return ""
    step = k * float(r.provenance.get("report_interval_s", 0.0) or 0.0)
    return f"; drawn as averages over {_duration_text(step)}" if step > 0 else f"; drawn as averages of {k} rows"


def _duration_text(seconds):
    """'10 min', '2 h', '45 s'."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size and abs(seconds / size - round(seconds / size)) < 1e-9:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _interval_s(t):
    """Length of each row's interval, s (the first starts at 0; the last may be shorter)."""
    return np.diff(np.concatenate([[0.0], t])) if len(t) else t


def _from_zero(x, *ys):
    """x and ys with a first point at time 0 holding the first row's value, so that a step plot
    ('pre': each row's value over the interval that ends at it) covers the first interval too."""
    if len(x) == 0:
        return (x,) + ys
    return (np.concatenate([[0.0], x]),) + tuple(np.concatenate([y[:1], y]) for y in ys)


def _capacity_layers(r, design):
    """[(label, values, colour, kind)] of what to draw for a design's capacity: kind 'stack' (areas
    stacked from 0) or 'line'; the y label."""
    st, colour = design_stats(r, design), design_colors(r)[design]
    m = lambda c: np.nan_to_num(st.get(c)[0])  # noqa: E731
    layers, ylabel = [], "instances"
    if st.has("group_on_demand_in_service") or st.has("group_spot_in_service"):
        layers += [("On-Demand in service", m("group_on_demand_in_service"), colour, "stack"),
                   ("spot in service", m("group_spot_in_service"), _lighter(colour, 0.55), "stack"),
                   ("pending (booting)", m("group_on_demand_pending") + m("group_spot_pending"), "#c7c7c7", "stack"),
                   ("terminating", m("group_on_demand_terminating") + m("group_spot_terminating"), "#7f7f7f", "stack")]
        if st.has("desired"):
            layers.append(("desired capacity", st.get("desired")[0], "black", "line"))
    elif st.has("instances_running"):
        onprem = r.kind(design) == "onprem"
        layers += [("servers serving" if onprem else "running", m("instances_running"), colour, "stack"),
                   ("pending (booting)", m("instances_pending"), "#c7c7c7", "stack"),
                   ("draining", m("instances_draining"), "#7f7f7f", "stack"),
                   ("failed" if onprem else "down (unreachable or failed)", m("instances_down"), "#f4a6a6", "stack")]
        ylabel = "servers" if onprem else "instances"
    if st.has("lambda_concurrency_mean"):
        if not layers:
            ylabel = "concurrent executions"
        else:
            ylabel += " / executions"
        layers += [("Lambda concurrency, max", st.get("lambda_concurrency_max")[0], _lighter(colour, 0.45), "line"),
                   ("Lambda concurrency, mean", st.get("lambda_concurrency_mean")[0], colour, "line")]
        if st.has("lambda_envs_idle"):
            envs = np.nan_to_num(st.get("lambda_envs_idle")[0]) + np.nan_to_num(st.get("lambda_envs_busy")[0])
            layers.append(("environments (idle + busy)", envs, "0.25", "line"))
    layers = [l for l in layers if l[3] == "line" or np.any(l[1] > 0)]
    return layers, ylabel


def _arrival_rates(r):
    """{design: mean arrivals per second, point by point}."""
    return {d: design_stats(r, d).per_second("arrivals") for d in r.designs}


def capacity_over_time(r, png):
    """Arrivals per second (top), then per design its capacity over time: instances by state and
    market with the desired capacity, Lambda concurrency, on-premises servers serving."""
    colors = design_colors(r)
    scale, _ = _time_unit(r)
    fig, axes = _new_figure(1 + len(r.designs), [1.0] + [1.0] * len(r.designs), row_height=2.0)
    ax = axes[0]
    warm = _shade_warmup(ax, r)
    rates = _arrival_rates(r)
    first = r.designs[0]
    same = all(len(rates[d]) == len(rates[first]) and np.allclose(rates[d], rates[first], equal_nan=True)
               for d in r.designs)
    if same:
        ax.plot(design_stats(r, first).t_s / scale, rates[first], color="0.15", lw=1.2)
        ax.set_title("arrivals (the same requests in every design)", loc="left", fontsize=10)
    else:
        for d in r.designs:
            ax.plot(design_stats(r, d).t_s / scale, rates[d], color=colors[d], lw=1.2)
        ax.set_title("arrivals per design", loc="left", fontsize=10)
    ax.set_ylabel("requests/s")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    _time_axis(ax, r, label=False)
    for ax, d in zip(axes[1:], r.designs):
        _shade_warmup(ax, r)
        layers, ylabel = _capacity_layers(r, d)
        stack = [l for l in layers if l[3] == "stack"]
        if stack:
            x, *ys = _from_zero(design_stats(r, d).t_s / scale, *[l[1] for l in stack])
            ax.stackplot(x, *ys, colors=[l[2] for l in stack], labels=[l[0] for l in stack], step="pre", lw=0)
        for label, y, c, kind in layers:
            if kind == "line":
                x, y = _from_zero(design_stats(r, d).t_s / scale, y)
                ls = {"desired capacity": "--", "environments (idle + busy)": ":"}.get(label, "-")
                ax.plot(x, y, color=c, lw=1.3, ls=ls, label=label, drawstyle="steps-pre")
        if not layers:
            ax.text(0.5, 0.5, "no capacity columns for this design", transform=ax.transAxes, ha="center",
                    va="center", color="0.4")
        else:
            ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(ticker.MaxNLocator(nbins=5, integer=True))
        ax.grid(alpha=0.3)
        note = ": its cloud part (the on-premises servers are not in the series)" if r.kind(d) == "hybrid" else ""
        _colored_title(ax, r, d, note)
        _time_axis(ax, r, label=False)
    axes[-1].set_xlabel(_time_unit(r)[1])
    n = max(len(r.runs(d)) for d in r.designs)
    sub = (f"mean of {n} replications" if n > 1 else "one replication") + _bin_note(r)
    return _finish(fig, png, f"{r.provenance.get('study', '')}: load and capacity", sub,
                   [warm] if warm else None)


# ---- cost ------------------------------------------------------------------------------------------------

COST_CATEGORIES = ("ec2_on_demand", "ec2_spot", "reserved_fee", "savings_plan_fee", "covered", "ebs", "elb_hours",
                   "elb_lcu", "transfer_zones", "transfer_internet", "lambda_requests", "lambda_duration",
                   "lambda_provisioned", "api_gateway", "onprem_hardware", "onprem_power", "onprem_space",
                   "onprem_network", "onprem_staff")


_CATEGORY_COLORS = ("#4e79a7", "#a0cbe8", "#f28e2b", "#ffbe7d", "#59a14f", "#8cd17d", "#b6992d", "#f1ce63",
                    "#499894", "#86bcb6", "#e15759", "#ff9d9a", "#79706e", "#bab0ac", "#d37295", "#fabfd2",
                    "#b07aa1", "#d4a6c8", "#9d7660")


COST_LABELS = {"ec2_on_demand": "EC2 On-Demand", "ec2_spot": "EC2 spot", "reserved_fee": "Reserved Instances fee",
               "savings_plan_fee": "Savings Plan fee", "covered": "covered by commitments (negative)",
               "ebs": "EBS volumes", "elb_hours": "load balancer hours", "elb_lcu": "load balancer LCUs",
               "transfer_zones": "transfer between zones", "transfer_internet": "transfer to the internet",
               "lambda_requests": "Lambda requests", "lambda_duration": "Lambda duration",
               "lambda_provisioned": "Lambda provisioned concurrency", "api_gateway": "API Gateway",
               "onprem_hardware": "on-premises hardware", "onprem_power": "on-premises power",
               "onprem_space": "on-premises space", "onprem_network": "on-premises network",
               "onprem_staff": "on-premises staff"}


def _category_colors():
    """{cost category: colour}, fixed, so that a category looks the same in every panel and study
    (a palette apart from the designs' tab10)."""
    return dict(zip(COST_CATEGORIES, _CATEGORY_COLORS))


def _usd(x, _pos=None, cents=None):
    """'$1,234', with cents when asked (default: below $10)."""
    if not np.isfinite(x):
        return ""
    cents = abs(x) < 10 and x != 0 if cents is None else cents
    text = f"${abs(x):,.2f}" if cents else f"${abs(x):,.0f}"
    return "-" + text if x < 0 else text


class _UsdFormatter(ticker.Formatter):
    """Dollar ticks, with cents only when a tick is not a whole dollar."""

    def __call__(self, x, pos=None):
        locs = np.asarray(self.locs, dtype=float)
        return _usd(x, cents=bool(np.any(np.abs(locs - np.round(locs)) > 1e-6)))


def cost_over_time(r, png):
    """Cumulative cost per design stacked by category (mean over replications), a panel per design;
    the covered (negative) line below zero and the net total as a black line."""
    colors = _category_colors()
    scale, _ = _time_unit(r)
    fig, axes = _new_figure(len(r.designs), row_height=2.2)
    used, warm = [], None
    for ax, d in zip(axes, r.designs):
        st = design_stats(r, d)
        x = st.t_s / scale
        warm = _shade_warmup(ax, r) or warm
        month = r.summary_value(d, "cost_per_month_usd")
        w = float(r.provenance.get("warmup_s", 0.0))
        after = " after the warm-up" if not (w == 0) else ""  # NaN: warm-up "auto"
        extra = f": {_usd(month[0])} a month{after}" if month[3] > 0 else ""
        _colored_title(ax, r, d, extra)
        if not st.has("cost_usd"):
            why = " (an on-premises design without tco)" if r.kind(d) == "onprem" else ""
            ax.text(0.5, 0.5, "no cost model" + why,
                    transform=ax.transAxes, ha="center", va="center", color="0.4", fontsize=10)
            ax.set_yticks([])
            _time_axis(ax, r, label=False)
            continue
        pos, neg = [], []
        for c in COST_CATEGORIES:
            y = np.nan_to_num(st.get(f"cost_{c}_usd")[0])
            if np.any(np.abs(y) > 1e-9):
                (neg if y[-1] < 0 else pos).append((c, y))
                if c not in used:
                    used.append(c)
        if pos:
            ax.stackplot(x, *[y for _, y in pos], colors=[colors[c] for c, _ in pos], lw=0)
        if neg:
            ax.stackplot(x, *[y for _, y in neg], colors=[colors[c] for c, _ in neg], lw=0, hatch="//")
        ax.plot(x, st.get("cost_usd")[0], color="black", lw=1.4)
        ax.yaxis.set_major_formatter(_UsdFormatter())
        ax.yaxis.set_major_locator(ticker.MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
        ax.set_ylabel("cumulative, USD")
        ax.grid(alpha=0.3)
        if neg:
            ax.axhline(0, color="0.3", lw=0.8)
        _time_axis(ax, r, label=False)
    axes[-1].set_xlabel(_time_unit(r)[1])
    used.sort(key=COST_CATEGORIES.index)
    handles = [Patch(facecolor=colors[c], hatch="//" if c == "covered" else None, label=COST_LABELS.get(c, c))
               for c in used]
    handles.append(Line2D([], [], color="black", lw=1.4, label="total"))
    if warm:
        handles.append(warm)
    n = max((len(r.runs(d)) for d in r.designs), default=0)
    sub = "USD booked since the start, " + (f"mean of {n} replications" if n > 1 else "one replication")
    return _finish(fig, png, f"{r.provenance.get('study', '')}: cumulative cost by category", sub, handles,
                   legend_cols=4)


# ---- errors ----------------------------------------------------------------------------------------------

ERROR_REASONS = ("queue_full", "no_healthy_target", "connection_refused", "connect_timeout", "target_died",
                 "timeout", "throttled", "expired")


def _error_layers(r, design):
    """[(reason, errors per second, point by point)] of the reasons a design has errors for."""
    st = design_stats(r, design)
    layers = []
    for k in ERROR_REASONS:
        rate = np.nan_to_num(st.per_second(f"errors_{k}"))
        if rate.sum() > 0:
            layers.append((k, rate))
    return layers


def _percent(x):
    """A share as a percentage with two significant digits ('0.059%', '0.0008%')."""
    return f"{x * 100:.2g}%" if x * 100 < 10 else f"{x * 100:.0f}%"


def errors_over_time(r, png):
    """Failed requests per second by reason, per design (mean over replications, stacked); designs
    without a failed request get a thin panel that says so."""
    import matplotlib.colors as mcolors
    cmap = matplotlib.colormaps["Set2"]
    reason_colors = {k: mcolors.to_hex(cmap(i)) for i, k in enumerate(ERROR_REASONS)}
    scale, _ = _time_unit(r)
    layers = {d: _error_layers(r, d) for d in r.designs}
    fig, axes = _new_figure(len(r.designs), [1.0 if layers[d] else 0.4 for d in r.designs], row_height=2.0)
    used, warm = [], None
    for ax, d in zip(axes, r.designs):
        st = design_stats(r, d)
        warm = _shade_warmup(ax, r) or warm
        total = float(np.nansum(st.get("errors")[0] * st.rows))
        arrivals = float(np.nansum(st.get("arrivals")[0] * st.rows))
        share = f" ({_percent(total / arrivals)} of arrivals)" if arrivals > 0 and total > 0 else ""
        _colored_title(ax, r, d, f": {total:,.0f} failed request{'' if round(total) == 1 else 's'} per run{share}"
                       if total > 0 else ": no failed requests")
        if layers[d]:
            x, *ys = _from_zero(st.t_s / scale, *[y for _, y in layers[d]])
            ax.stackplot(x, *ys, colors=[reason_colors[k] for k, _ in layers[d]], step="pre", lw=0)
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_locator(ticker.MaxNLocator(nbins=4))
            ax.set_ylabel("errors/s")
            used += [k for k, _ in layers[d] if k not in used]
        else:
            ax.set_ylim(0, 1)
            ax.set_yticks([])
        ax.grid(alpha=0.3)
        _time_axis(ax, r, label=False)
    axes[-1].set_xlabel(_time_unit(r)[1])
    used.sort(key=ERROR_REASONS.index)
    handles = [Patch(color=reason_colors[k], label=k.replace("_", " ")) for k in used]
    if warm:
        handles.append(warm)
    n = max((len(r.runs(d)) for d in r.designs), default=0)
    sub = "failed requests per second in each report interval, by reason; " + \
        (f"mean of {n} replications" if n > 1 else "one replication") + _bin_note(r)
    return _finish(fig, png, f"{r.provenance.get('study', '')}: failed requests", sub, handles or None, legend_cols=5)


# ---- the decision --------------------------------------------------------------------------------------

def pareto_front(points):
    """The designs no other beats on both cost and latency, by cost: points is {design: (cost, latency)}."""
    front, best = [], math.inf
    for d, (c, l) in sorted(points.items(), key=lambda kv: (kv[1][0], kv[1][1])):
        if l < best:
            front.append(d)
            best = l
    return front


def _err(mean, lo, hi):
    """An asymmetric error bar [[below], [above]], or None without an interval."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return [[max(mean - lo, 0.0)], [max(hi - mean, 0.0)]]


def decision_chart(r, png):
    """Cost per month (x) against the SLO percentile's latency (or p99) (y) per design, with 95%
    intervals both ways, the SLO target, the choice and the Pareto front."""
    colors = design_colors(r)
    s = slo(r)
    metric = latency_metric(r)
    label = s["label"] if metric == "latency_slo_s" and s["label"] else "p99"
    fig = Figure(figsize=(10.5, 6.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    lat = {d: r.summary_value(d, metric) for d in r.designs}
    cost = {d: r.summary_value(d, "cost_per_month_usd") for d in r.designs}
    factor, unit = _latency_unit([v[2] if np.isfinite(v[2]) else v[0] for v in lat.values()] + [s["latency_s"]])
    chosen = choice(r)
    placed = [d for d in r.designs if cost[d][3] > 0 and np.isfinite(cost[d][0]) and np.isfinite(lat[d][0])]
    handles = []
    for d in placed:
        v = verdict(r, d)
        (cm, clo, chi, _), (lm, llo, lhi, _) = cost[d], lat[d]
        face = {"meets": colors[d], "unclear": _lighter(colors[d], 0.6), "fails": "white", None: colors[d]}[v]
        ax.errorbar([cm], [lm * factor], xerr=_err(cm, clo, chi),
                    yerr=None if _err(lm, llo, lhi) is None else np.array(_err(lm, llo, lhi)) * factor,
                    fmt="o", ms=9, color=colors[d], mfc=face, mec=colors[d], mew=2, capsize=4, elinewidth=1.3,
                    zorder=3)
        handles.append(Line2D([], [], ls="", marker="o", ms=9, color=colors[d], mfc=face, mew=2,
                              label=d + (f" ({v})" if v else "")))
    costs_known = {d: (cost[d][0], lat[d][0] * factor) for d in placed}
    if len(costs_known) >= 3:
        front = pareto_front(costs_known)
        xs = [costs_known[d][0] for d in front]
        ys = [costs_known[d][1] for d in front]
        if len(front) > 1:
            ax.plot(xs, ys, color="0.45", ls=":", lw=1.6, zorder=2, drawstyle="steps-post")
            handles.append(Line2D([], [], color="0.45", ls=":", lw=1.6,
                                  label=f"Pareto front ({len(front)} designs)"))
        else:
            handles.append(Line2D([], [], ls="",
                                  label=f"Pareto front: {front[0]} alone\n(cheaper and faster than the rest)"))
    if chosen in costs_known:
        cx, cy = costs_known[chosen]
        ax.scatter([cx], [cy], s=420, facecolors="none", edgecolors="black", linewidths=1.8, zorder=4)
        why = "the cheapest that meets the SLO" if has_slo(r) else "the cheapest"
        handles.append(Line2D([], [], ls="", marker="o", ms=15, mfc="none", mec="black", mew=1.8,
                              label=f"choice: {chosen}, {_usd(cx)} a month\n({why})"))
    if np.isfinite(s["latency_s"]) and metric == "latency_slo_s":
        ax.axhline(s["latency_s"] * factor, color=SLO_COLOR, ls="--", lw=1.4, zorder=1)
        handles.append(Line2D([], [], color=SLO_COLOR, ls="--", lw=1.4,
                              label=f"SLO: {s['label']} ≤ {s['latency_s'] * factor:g} {unit}"))
    ys = [lat[d][0] * factor for d in placed] + ([s["latency_s"] * factor] if np.isfinite(s["latency_s"]) else [])
    _log_if_wide(ax, ys)
    if _log_if_wide(ax, [cost[d][0] for d in placed], axis="x"):
        ax.xaxis.set_major_formatter(_UsdFormatter())
    else:
        ax.xaxis.set_major_formatter(_UsdFormatter())
        if placed:
            lo = min(cost[d][1] if np.isfinite(cost[d][1]) else cost[d][0] for d in placed)
            hi = max(cost[d][2] if np.isfinite(cost[d][2]) else cost[d][0] for d in placed)
            pad = max((hi - lo) * 0.12, abs(hi) * 0.05, 1.0)
            ax.set_xlim(max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad)
    if ax.get_yscale() == "linear":
        ax.set_ylim(bottom=0, top=max(ys + [0]) * 1.15 if ys else None)
    ax.set_xlabel("cost per month, USD (730 h, after the warm-up)")
    ax.set_ylabel(f"{label} latency over the run, {unit}")
    ax.grid(alpha=0.3)
    missing = [d for d in r.designs if d not in placed]
    if missing:
        notes = []
        for d in missing:
            m = lat[d][0]
            why = "no cost model" if cost[d][3] == 0 else "no latency"
            notes.append(f"{d}: {why}" + (f", {label} {m * factor:.3g} {unit}" if np.isfinite(m) else ""))
        ax.text(0.99, 0.02, "not placed:\n" + "\n".join(notes), transform=ax.transAxes, ha="right", va="bottom",
                fontsize=8, color="0.3", bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7"})
    if not placed:
        ax.text(0.5, 0.5, "no design has both a cost and a latency", transform=ax.transAxes, ha="center", color="0.4")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False,
              title="design (verdict)" if has_slo(r) else "design", title_fontsize=9)
    n = max((len(r.runs(d)) for d in r.designs), default=0)
    sub = (f"bars: 95% confidence intervals over {n} replications" if n > 1 else "one replication: no intervals")
    sub += "; hollow: fails the SLO, pale: unclear" if has_slo(r) else ""
    return _finish(fig, png, f"{r.provenance.get('study', '')}: cost against latency", sub)


# ---- all of them ----------------------------------------------------------------------------------------

def all_plots(r, out_dir):
    """Writes every plot into out_dir as <name>.png; returns {name: path}, names as PLOT_NAMES."""
    os.makedirs(out_dir, exist_ok=True)
    load(r)
    functions = {"latency_over_time": latency_over_time, "capacity_over_time": capacity_over_time,
                 "cost_over_time": cost_over_time, "errors_over_time": errors_over_time,
                 "decision_chart": decision_chart}
    return {name: functions[name](r, os.path.join(out_dir, name + ".png")) for name in PLOT_NAMES}
