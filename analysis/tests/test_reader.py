"""The results reader (analysis.strato_results) against what strato printed for the same run: the
summary and paired differences, the designs in study order, runs, series, events, provenance and the
config text; and a one-line ResultsError for every file it cannot read."""
import math
import shutil
import subprocess

import h5py
import numpy as np
import pytest

from analysis.strato_results import ResultsError, open_results
from analysis.tests.conftest import BAD_KINDS, EVENT_KINDS

SERIES_COLUMNS = (
    "t_s", "arrivals", "successes", "errors", "errors_queue_full", "errors_no_healthy_target",
    "errors_connection_refused", "errors_connect_timeout", "errors_target_died", "errors_timeout",
    "errors_throttled", "errors_expired", "in_flight", "latency_slo_s", "latency_mean_s", "latency_p50_s",
    "latency_p90_s", "latency_p99_s", "latency_p999_s", "latency_max_s", "wait_mean_s", "utilization",
    "instances_pending", "instances_running", "instances_draining", "instances_down", "cost_usd",
)


def same_as_printed(value, printed):
    """True when a stored value rounds to what strato printed (%g, six significant digits)."""
    if math.isnan(printed):
        return math.isnan(value)
    return math.isclose(value, printed, rel_tol=1e-5, abs_tol=1e-12)


def test_designs_in_study_order(study, results):
    assert results.designs == study.spec.designs
    printed = []
    for design, _ in study.summary_order:
        if design not in printed:
            printed.append(design)
    assert results.designs == printed


def test_summary_equals_printed_table(study, results):
    stored = {(row["design"], row["metric"]) for row in results.summary()}
    assert stored == set(study.summary), "the summary's (design, metric) pairs differ from strato's table"
    for (design, metric), (mean, lo, hi, n) in study.summary.items():
        got = results.summary_value(design, metric)
        assert same_as_printed(got[0], mean), f"{design} {metric}: mean {got[0]!r}, strato printed {mean}"
        assert got[3] == n, f"{design} {metric}: n {got[3]}, strato printed {n}"
        if not math.isnan(lo):
            assert same_as_printed(got[1], lo), f"{design} {metric}: ci95_lo {got[1]!r}, strato printed {lo}"
            assert same_as_printed(got[2], hi), f"{design} {metric}: ci95_hi {got[2]!r}, strato printed {hi}"


def test_metrics_in_printed_order(study, results):
    first = study.spec.designs[0]
    assert results.metrics() == [m for d, m in study.summary_order if d == first]


def test_comparisons_equal_printed_differences(study, results):
    table = results.comparisons()
    stored = {(row["design"], row["metric"]) for row in table}
    assert stored == set(study.comparisons)
    assert set(table["baseline"]) <= {study.spec.baseline}
    for row in table:
        mean, lo, hi, n = study.comparisons[(row["design"], row["metric"])]
        assert same_as_printed(float(row["mean_diff"]), mean), f"{row['design']} {row['metric']}"
        assert int(row["n"]) == n
        if not math.isnan(lo):
            assert same_as_printed(float(row["ci95_lo"]), lo)
            assert same_as_printed(float(row["ci95_hi"]), hi)
    for design in study.spec.designs:
        assert all(r["design"] == design for r in results.comparisons(design))


def test_summary_filtered_by_design(study, results):
    for design in study.spec.designs:
        rows = results.summary(design)
        assert len(rows) == len(results.metrics())
        assert set(rows["design"]) == {design}


def test_summary_value_of_an_absent_metric_is_nan(study, results):
    mean, lo, hi, n = results.summary_value(study.spec.designs[0], "no_such_metric")
    assert math.isnan(mean) and math.isnan(lo) and math.isnan(hi) and n == 0


def test_design_without_cost_model_has_nan_cost(studies):
    with open_results(str(studies["outage"].h5)) as r:
        mean, lo, hi, n = r.summary_value("onprem-notco", "cost_per_month_usd")
        assert math.isnan(mean) and n == 0
        assert r.summary_value("asg", "cost_per_month_usd")[0] > 0


def test_kinds_and_descriptions(study, results):
    for design in study.spec.designs:
        assert results.kind(design) == study.spec.kinds[design]
        assert results.description(design) == study.spec.descriptions[design]


def test_runs(study, results):
    for design in study.spec.designs:
        assert results.runs(design) == list(range(study.spec.replications))
        for run in results.runs(design):
            attrs = results.run_attrs(design, run)
            assert bool(attrs["complete"]) is True
            assert attrs["arrivals"] > 0


def test_series_columns_and_rows(study, results):
    spec = study.spec
    rows = math.ceil(spec.horizon_s / spec.interval_s)
    for design in spec.designs:
        for run in results.runs(design):
            s = results.series(design, run)
            assert isinstance(s, np.ndarray) and s.dtype.names is not None
            missing = [c for c in SERIES_COLUMNS if c not in s.dtype.names]
            assert not missing, f"{design} run {run}: no columns {missing}"
            assert len(s) == rows, f"{design} run {run}: {len(s)} rows, expected {rows}"
            assert s["t_s"][0] == pytest.approx(min(spec.interval_s, spec.horizon_s))
            assert s["t_s"][-1] == pytest.approx(spec.horizon_s)
            assert np.all(np.diff(s["t_s"]) > 0)
            assert int(s["arrivals"].sum()) == results.run_attrs(design, run)["arrivals"]


def test_latency_slo_column_only_with_a_latency_slo(study, results):
    s = results.series(study.spec.designs[0], 0)
    if study.spec.slo.get("percentile"):
        assert np.isfinite(s["latency_slo_s"]).any()
    else:
        assert np.isnan(s["latency_slo_s"]).all()


def test_events_decoded(studies):
    with open_results(str(studies["outage"].h5)) as r:
        for design in ("asg", "fixed"):
            for run in r.runs(design):
                e = r.events(design, run)
                assert e.dtype.names == ("t_s", "kind", "az", "id", "value")
                kinds = set(e["kind"].tolist())
                assert kinds <= EVENT_KINDS, f"undecoded event kinds {kinds - EVENT_KINDS}"
                down = e[e["kind"] == "zone_down"]
                up = e[e["kind"] == "zone_up"]
                assert len(down) == 1 and down["t_s"][0] == pytest.approx(1800.0) and down["az"][0] == 1
                assert len(up) == 1 and up["t_s"][0] == pytest.approx(3600.0) and up["az"][0] == 1
                assert "instance_unreachable" in kinds
                assert np.all(np.diff(e["t_s"]) >= 0)
        assert "scaling" in set(r.events("asg", 0)["kind"].tolist()), "the ASG should scale out at the 2.5x step"
        e = r.events("onprem-notco", 0)
        assert len(e) == 0 and e.dtype.names == ("t_s", "kind", "az", "id", "value")


def test_provenance(study, results, strato_bin):
    p = results.provenance
    spec = study.spec
    assert p["format"] == "strato-results"
    assert p["format_version"] == 2
    assert p["study"] == study.name
    assert p["master_seed"] == spec.seed
    assert p["replications"] == spec.replications
    assert p["horizon_s"] == pytest.approx(spec.horizon_s)
    assert p["report_interval_s"] == pytest.approx(spec.interval_s)
    assert p["baseline"] == spec.baseline == results.baseline
    assert bool(p["complete"]) is True
    assert "run" in p["command_line"] and study.config.name in p["command_line"]
    assert p["config_path"].endswith(study.config.name)
    version = subprocess.run([strato_bin, "--version"], capture_output=True, text=True).stdout.split()
    assert p["strato_version"] in version
    assert "config" not in p


def test_config_text(study, results):
    assert results.config_text == study.config.read_text()


def test_warmup_recorded(studies):
    with open_results(str(studies["outage"].h5)) as r:
        assert r.provenance["warmup_s"] == pytest.approx(600.0)


# ---- files and names the reader refuses -------------------------------------------------------------

def assert_one_line(err, *needles):
    msg = str(err)
    assert msg.strip(), "empty message"
    assert "\n" not in msg and "\r" not in msg, f"message of several lines: {msg!r}"
    for n in needles:
        assert n in msg, f"{n!r} not in message {msg!r}"


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_file_raises_results_error(bad_files, kind):
    path = bad_files[kind]
    with pytest.raises(ResultsError) as info:
        r = open_results(str(path))
        # a reader that opens lazily must still refuse when the data are read
        for d in r.designs:
            r.series(d, 0)
        r.close()
    assert_one_line(info.value, path.name)


def test_unknown_version_message_names_the_version(bad_files):
    with pytest.raises(ResultsError) as info:
        open_results(str(bad_files["unknown_version"]))
    assert_one_line(info.value, "99")


def test_results_file_without_summary(studies, tmp_path):
    """A file whose study was cut short (no /summary) is refused with one line, not a KeyError."""
    path = tmp_path / "cut.h5"
    shutil.copy(studies["two-designs"].h5, path)
    with h5py.File(path, "r+") as f:
        del f["summary"]
    with pytest.raises(ResultsError) as info:
        open_results(str(path))
    assert_one_line(info.value, path.name)


@pytest.mark.parametrize("call", ["kind", "description", "runs", "series", "events", "run_attrs", "summary_value"])
def test_unknown_design_raises_results_error(studies, call):
    with open_results(str(studies["two-designs"].h5)) as r:
        args = {"series": (0,), "events": (0,), "run_attrs": (0,), "summary_value": ("cost_usd",)}.get(call, ())
        with pytest.raises(ResultsError) as info:
            getattr(r, call)("no-such-design", *args)
        assert_one_line(info.value, "no-such-design")


def test_unknown_run_raises_results_error(studies):
    with open_results(str(studies["two-designs"].h5)) as r:
        for call in (r.series, r.events, r.run_attrs):
            with pytest.raises(ResultsError) as info:
                call("lambda", 42)
            assert_one_line(info.value, "42")


def test_context_manager_closes(studies):
    with open_results(str(studies["two-designs"].h5)) as r:
        assert r.designs
    with pytest.raises(Exception):
        r.series("lambda", 0)
