"""The what-if comparison (analysis.compare.main): a file against itself differs by nothing; two seeds
of one study give the same designs, with B - A differences; only designs present in both files are
compared; --design restricts the table; -o writes a chart."""
import importlib
import re

import pytest

from analysis.strato_results import open_results
from analysis.tests.conftest import check_png, finite, named, numbers


@pytest.fixture(scope="session")
def compare():
    """The analysis.compare module; a test failure (not a skip) when it cannot be imported."""
    try:
        return importlib.import_module("analysis.compare")
    except Exception as e:  # noqa: BLE001 - any import failure is the finding
        pytest.fail(f"cannot import analysis.compare: {type(e).__name__}: {e}", pytrace=False)


def run(compare, capsys, *args):
    """compare.main(args) -> (status, stdout)."""
    status = compare.main([str(a) for a in args])
    out = capsys.readouterr().out
    return status, out


def metric_lines(out, designs, metrics):
    """{(design, metric): line} of the printed table. A line belongs to the metric it names and to the
    design it names, or else to the design last named on a line of its own above it (tables grouped by
    design under a heading)."""
    table, current = {}, None
    by_length = sorted(metrics, key=len, reverse=True)
    for line in out.splitlines():
        here = [d for d in designs if named(line, d)]
        metric = next((m for m in by_length if re.search(rf"(?<![\w]){re.escape(m)}(?![\w])", line)), None)
        if metric is None:
            if len(here) == 1:
                current = here[0]
            continue
        design = here[0] if len(here) == 1 else current
        if design is not None:
            table.setdefault((design, metric), line)
    return table


def line_numbers(line, designs, metrics):
    """The numbers on a line once design and metric names (which may hold digits) are taken out."""
    for name in sorted(list(designs) + list(metrics), key=len, reverse=True):
        line = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", line)
    return numbers(line)


def near(x, v, scale):
    """x is v to 1% of v plus 0.5% of the scale of the values compared (rounding in print)."""
    return abs(x - v) <= 0.01 * abs(v) + 0.005 * scale


def test_file_against_itself_differs_by_nothing(compare, capsys, studies):
    h5 = studies["two-designs"].h5
    status, out = run(compare, capsys, h5, h5)
    assert status == 0
    with open_results(str(h5)) as r:
        designs, metrics = r.designs, r.metrics()
        lines = metric_lines(out, designs, metrics)
        for d in designs:
            for m in metrics:
                mean = r.summary_value(d, m)[0]
                if not finite(mean):
                    continue
                assert (d, m) in lines, f"no line for {d} {m} in:\n{out}"
                nums = line_numbers(lines[(d, m)], designs, metrics)
                assert 0.0 in nums, f"{d} {m}: no zero difference on {lines[(d, m)]!r}"
                same = [x for x in nums if near(x, mean, abs(mean))]
                assert mean == 0 or len(same) >= 2, f"{d} {m}: A and B should both show {mean:.6g}: {lines[(d, m)]!r}"


def test_two_seeds_same_designs_and_b_minus_a(compare, capsys, studies, other_seed):
    a, b = studies["two-designs"].h5, other_seed.h5
    status, out = run(compare, capsys, a, b)
    assert status == 0
    with open_results(str(a)) as ra, open_results(str(b)) as rb:
        assert ra.designs == rb.designs
        designs, metrics = ra.designs, ra.metrics()
        lines = metric_lines(out, designs, metrics)
        assert {d for d, _ in lines} == set(designs), f"designs in the table: {sorted({d for d, _ in lines})}"
        checked = 0
        for d in designs:
            for m in ("cost_per_month_usd", "latency_p99_s", "throughput_rps", "utilization"):
                va, vb = ra.summary_value(d, m)[0], rb.summary_value(d, m)[0]
                if not (finite(va) and finite(vb)):
                    continue
                assert (d, m) in lines, f"no line for {d} {m}"
                nums = line_numbers(lines[(d, m)], designs, metrics)
                scale = max(abs(va), abs(vb))
                assert any(near(x, va, scale) for x in nums), f"{d} {m}: A's {va:.6g} not on {lines[(d, m)]!r}"
                assert any(near(x, vb, scale) for x in nums), f"{d} {m}: B's {vb:.6g} not on {lines[(d, m)]!r}"
                diff = vb - va
                assert any(near(x, diff, scale) for x in nums), \
                    f"{d} {m}: B - A = {diff:.6g} not on {lines[(d, m)]!r}"
                checked += 1
        assert checked >= 4


def test_only_designs_in_both_files(compare, capsys, studies, with_extra_design):
    a, b = studies["two-designs"].h5, with_extra_design.h5
    status, out = run(compare, capsys, a, b)
    assert status == 0
    with open_results(str(b)) as rb:
        lines = metric_lines(out, rb.designs, rb.metrics())
    assert {d for d, _ in lines} == {"onprem", "lambda"}, f"compared designs: {sorted({d for d, _ in lines})}"


def test_design_option_restricts(compare, capsys, studies, other_seed):
    a, b = studies["two-designs"].h5, other_seed.h5
    status, out = run(compare, capsys, a, b, "--design", "lambda")
    assert status == 0
    with open_results(str(a)) as ra:
        lines = metric_lines(out, ra.designs, ra.metrics())
    assert {d for d, _ in lines} == {"lambda"}, f"compared designs: {sorted({d for d, _ in lines})}"


def test_chart(compare, capsys, studies, other_seed, tmp_path):
    out_dir = tmp_path / "chart"
    status, _ = run(compare, capsys, studies["outage"].h5, studies["outage"].h5, "-o", out_dir)
    assert status == 0
    pngs = sorted(out_dir.glob("*.png"))
    assert pngs, f"no PNG in {out_dir}"
    for p in pngs:
        check_png(p, min_colours=3)
    status, _ = run(compare, capsys, studies["two-designs"].h5, other_seed.h5, "-o", tmp_path / "chart2")
    assert status == 0
    assert list((tmp_path / "chart2").glob("*.png"))


def test_unknown_design_is_status_2(compare, capsys, studies):
    h5 = studies["two-designs"].h5
    status = compare.main([str(h5), str(h5), "--design", "no-such-design"])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "no-such-design" in err


def test_one_replication_without_ci(compare, capsys, studies):
    """One replication has no CI: the comparison still runs."""
    h5 = studies["one-rep"].h5
    status, out = run(compare, capsys, h5, h5)
    assert status == 0 and out.strip()
