"""The plots (analysis.plots): every plot function writes a readable, non-blank PNG for every test
study (several designs, a design without a cost model, one replication, no SLO, a single design);
all_plots makes all of them; each design keeps its colour across plots."""
import importlib
import os
import warnings

import numpy as np
import pytest

from analysis.strato_results import open_results
from analysis.tests.conftest import PLOT_NAMES, STUDY_NAMES, check_png, finite


@pytest.fixture(scope="session")
def plots():
    """The analysis.plots module; a test failure (not a skip) when it cannot be imported."""
    try:
        return importlib.import_module("analysis.plots")
    except Exception as e:  # noqa: BLE001 - any import failure is the finding
        pytest.fail(f"cannot import analysis.plots: {type(e).__name__}: {e}", pytrace=False)


def _handle_colours(handle):
    """The RGB colours (alpha > 0) a legend handle is drawn with: line, marker face and edge, patch."""
    from matplotlib.colors import to_rgba_array
    out = []
    for getter in ("get_color", "get_markerfacecolor", "get_markeredgecolor", "get_facecolor", "get_edgecolor"):
        f = getattr(handle, getter, None)
        if f is None:
            continue
        try:
            rgba = to_rgba_array(f())
        except (TypeError, ValueError):
            continue
        out += [tuple(c[:3]) for c in rgba if c[3] > 0]
    return out


def _legend_entries(fig):
    """[(text, colours)] of every legend entry of a figure, figure legends and axes legends."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    out = []
    for leg in legends:
        handles = getattr(leg, "legend_handles", None) or getattr(leg, "legendHandles", [])
        for text, handle in zip(leg.get_texts(), handles):
            out.append((text.get_text(), _handle_colours(handle)))
    return out


@pytest.fixture(scope="session")
def all_plot_files(plots, studies, tmp_path_factory):
    """{study: (returned mapping, out_dir, figures)} of all_plots, made once per study; figures maps each
    saved file's name to the matplotlib Figure saved there (recorded as it is saved)."""
    import matplotlib.figure
    original = matplotlib.figure.Figure.savefig
    out = {}
    for name, study in studies.items():
        d = tmp_path_factory.mktemp(f"plots-{name}")
        figures = {}

        def recording_savefig(fig, fname, *args, _figures=figures, **kwargs):
            _figures[os.path.basename(os.fspath(fname))] = fig
            return original(fig, fname, *args, **kwargs)

        with pytest.MonkeyPatch.context() as mp, open_results(str(study.h5)) as r:
            mp.setattr(matplotlib.figure.Figure, "savefig", recording_savefig)
            out[name] = (plots.all_plots(r, str(d)), d, figures)
    return out


@pytest.mark.parametrize("plot", PLOT_NAMES)
def test_plot_writes_png(plots, study, plot, tmp_path):
    fn = getattr(plots, plot, None)
    assert callable(fn), f"analysis.plots has no function {plot}"
    png = tmp_path / f"{plot}.png"
    with open_results(str(study.h5)) as r:
        returned = fn(r, str(png))
    assert returned is not None and os.path.realpath(os.fspath(returned)) == os.path.realpath(png), \
        f"{plot} returned {returned!r}, not the path it was given"
    check_png(png, min_colours=3)


def test_all_plots_returns_every_plot(all_plot_files, study):
    mapping, out_dir, _ = all_plot_files[study.name]
    assert isinstance(mapping, dict)
    assert set(mapping) == set(PLOT_NAMES)
    for name, path in mapping.items():
        p = os.path.realpath(os.fspath(path))
        assert os.path.dirname(p) == os.path.realpath(out_dir), f"{name}: {p} is not in {out_dir}"
        check_png(p, min_colours=3)


def test_design_colors(plots, study):
    from matplotlib.colors import to_rgba
    with open_results(str(study.h5)) as r:
        colours = plots.design_colors(r)
        again = plots.design_colors(r)
    assert list(colours) == study.spec.designs, "design_colors is not in study order"
    assert colours == again
    rgba = [to_rgba(c) for c in colours.values()]
    assert len(set(rgba)) == len(rgba), f"two designs share a colour: {colours}"


def _has_colour(img, colour, tolerance=0.09, min_pixels=8):
    """True when at least min_pixels pixels of img are within tolerance (per channel) of colour."""
    from matplotlib.colors import to_rgb
    rgb = np.asarray(img)[..., :3].astype(float)
    if rgb.max() > 1.0:
        rgb = rgb / 255.0
    near = np.all(np.abs(rgb - np.array(to_rgb(colour))) <= tolerance, axis=-1)
    return int(near.sum()) >= min_pixels


@pytest.mark.parametrize("name", STUDY_NAMES)
def test_same_design_same_colour_across_plots(plots, all_plot_files, studies, name):
    """Each design's colour from design_colors is drawn in the latency plot and, for designs with a
    cost, in the decision chart."""
    import matplotlib.image as mpimg
    mapping, _, _ = all_plot_files[name]
    with open_results(str(studies[name].h5)) as r:
        colours = plots.design_colors(r)
        costed = [d for d in r.designs if finite(r.summary_value(d, "cost_per_month_usd")[0])]
    latency = mpimg.imread(os.fspath(mapping["latency_over_time"]))
    decision = mpimg.imread(os.fspath(mapping["decision_chart"]))
    for design, colour in colours.items():
        assert _has_colour(latency, colour), f"{name}: {design}'s colour {colour} is not in latency_over_time"
        if design in costed:
            assert _has_colour(decision, colour), f"{name}: {design}'s colour {colour} is not in decision_chart"


def _shade_of(rgb, colour):
    """True when rgb is colour, or colour mixed with white (a paler shade of it)."""
    from matplotlib.colors import to_rgb
    c, x = np.array(to_rgb(colour)), np.array(rgb)
    if np.all(np.abs(c - x) <= 0.01):
        return True
    room = 1.0 - c
    if np.any((room < 1e-6) & (np.abs(x - c) > 0.01)):
        return False
    mix = [1.0 - (1.0 - xi) / ri for xi, ri in zip(x, room) if ri >= 1e-6]
    return bool(mix) and 0.0 <= min(mix) and max(mix) < 1.0 and max(mix) - min(mix) <= 0.02


@pytest.mark.parametrize("name", STUDY_NAMES)
def test_legend_colours_are_design_colours(plots, all_plot_files, studies, name):
    """Every legend entry that is a design's name ("asg", or "asg (meets)") is drawn in that design's colour
    (or a paler shade of it), in every plot; the latency plot's and the decision chart's legends name
    every design they show."""
    mapping, _, figures = all_plot_files[name]
    with open_results(str(studies[name].h5)) as r:
        colours = plots.design_colors(r)
        costed = [d for d in r.designs if finite(r.summary_value(d, "cost_per_month_usd")[0])]
    for plot, path in mapping.items():
        fig = figures.get(os.path.basename(os.fspath(path)))
        entries = _legend_entries(fig) if fig is not None else []
        seen = set()
        for text, drawn in entries:
            for design, colour in colours.items():
                if text == design or text.startswith(design + " ("):
                    seen.add(design)
                    assert any(_shade_of(c, colour) for c in drawn), \
                        f"{plot}: legend entry {text!r} is drawn in {drawn}, not in {design}'s colour {colour}"
        if plot == "latency_over_time" and len(colours) > 1:
            assert seen == set(colours), f"{plot}: designs without a legend entry: {set(colours) - seen}"
        if plot == "decision_chart" and len(costed) > 1:
            assert set(costed) <= seen, f"{plot}: designs without a legend entry: {set(costed) - seen}"


@pytest.mark.parametrize("name", STUDY_NAMES)
def test_latency_lines_drawn_in_their_design_colour(plots, all_plot_files, studies, name):
    """In latency_over_time, a line that shows a design's mean latency over replications (p50, p99 or the
    SLO percentile, in s or ms) is drawn in that design's colour: colours are not swapped between plots."""
    from matplotlib.colors import to_hex
    mapping, _, figures = all_plot_files[name]
    fig = figures.get(os.path.basename(os.fspath(mapping["latency_over_time"])))
    assert fig is not None, "latency_over_time was not saved with Figure.savefig"
    with open_results(str(studies[name].h5)) as r:
        colours = plots.design_colors(r)
        means = {}
        for d in r.designs:
            runs = [r.series(d, run) for run in r.runs(d)]
            for column in ("latency_p50_s", "latency_p99_s", "latency_slo_s"):
                with warnings.catch_warnings():  # an interval where no run completed a request: NaN
                    warnings.simplefilter("ignore", RuntimeWarning)
                    means[(d, column)] = np.nanmean(np.vstack([s[column] for s in runs]), axis=0)
    by_colour = {to_hex(c): d for d, c in colours.items()}
    matched = set()
    for ax in fig.axes:
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            design = by_colour.get(to_hex(line.get_color()))
            best = None
            for (d, column), m in means.items():
                if len(y) != len(m) or not np.isfinite(m).any():
                    continue
                for scale in (1.0, 1000.0):
                    if np.allclose(y, m * scale, rtol=1e-6, atol=0, equal_nan=True):
                        best = (d, column) if best is None or best[0] == d else ("ambiguous", column)
            if best is None or best[0] == "ambiguous":
                continue  # not a mean latency line, or two designs with the same data
            assert design == best[0], \
                f"the line of {best[0]}'s {best[1]} is drawn in {to_hex(line.get_color())}, not {colours[best[0]]}"
            matched.add(best[0])
    assert matched == set(colours), \
        f"no line of latency_over_time shows the mean latency over replications of {set(colours) - matched}"


def test_plots_leave_no_figure_open(plots, studies, tmp_path):
    """Making every plot does not accumulate open pyplot figures (memory, and matplotlib's warning)."""
    import matplotlib.pyplot as plt
    before = set(plt.get_fignums())
    with open_results(str(studies["outage"].h5)) as r:
        plots.all_plots(r, str(tmp_path))
    assert set(plt.get_fignums()) <= before
