"""The command lines `python3 -m analysis.report` and `python3 -m analysis.compare`: exit status 0 on
good input; on a file they cannot read or a design that does not exist, status 2 and exactly one line
on stderr naming the module, never a traceback."""
import os
import shutil
import subprocess
import sys

import pytest

from analysis.tests.conftest import BAD_KINDS, REPO, SUMMARY_BAD_KINDS, check_png


def run_module(module, *args, cwd=REPO, env=None):
    """Runs `python3 -m analysis.MODULE ARGS` with this interpreter; returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", f"analysis.{module}", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_clean_failure(p, module):
    """Exit status 2 and one line on stderr, "analysis.MODULE: message", no traceback."""
    assert "Traceback" not in p.stderr, f"a traceback on stderr:\n{p.stderr}"
    assert p.returncode == 2, f"exit status {p.returncode}, expected 2; stderr: {p.stderr!r}"
    lines = p.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].strip(), f"stderr is not exactly one line: {p.stderr!r}"
    assert lines[0].startswith(f"analysis.{module}: "), f"stderr does not start with 'analysis.{module}: ': {lines[0]!r}"


def test_report_cli(studies, tmp_path):
    out = tmp_path / "out"
    p = run_module("report", studies["two-designs"].h5, "-o", out)
    assert p.returncode == 0, f"exit status {p.returncode}: {p.stderr}"
    assert "Traceback" not in p.stderr
    assert (out / "index.html").is_file()


def test_report_cli_default_directory(studies, tmp_path):
    """Without -o the report goes to RESULTS basename + "_report" (run from the results' directory, so
    that beside the file and in the current directory are the same place)."""
    shutil.copy(studies["one-rep"].h5, tmp_path / "x.h5")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = run_module("report", "x.h5", cwd=tmp_path, env=env)
    assert p.returncode == 0, f"exit status {p.returncode}: {p.stderr}"
    assert (tmp_path / "x_report" / "index.html").is_file(), f"no x_report/index.html in {os.listdir(tmp_path)}"


def test_compare_cli(studies, other_seed, tmp_path):
    a, b = studies["two-designs"].h5, other_seed.h5
    p = run_module("compare", a, b)
    assert p.returncode == 0, f"exit status {p.returncode}: {p.stderr}"
    assert "Traceback" not in p.stderr
    assert p.stdout.strip()
    out = tmp_path / "cmp"
    p = run_module("compare", a, b, "-o", out, "--design", "lambda")
    assert p.returncode == 0, f"exit status {p.returncode}: {p.stderr}"
    pngs = sorted(out.glob("*.png"))
    assert pngs, f"compare -o wrote no PNG in {out}"
    for png in pngs:
        check_png(png, min_colours=3)


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_report_cli_refuses_bad_file(bad_files, kind, tmp_path):
    out = tmp_path / "out"
    p = run_module("report", bad_files[kind], "-o", out)
    assert_clean_failure(p, "report")


@pytest.mark.parametrize("kind", SUMMARY_BAD_KINDS)
@pytest.mark.parametrize("position", ["A", "B"])
def test_compare_cli_refuses_bad_file(studies, bad_files, kind, position):
    good, bad = studies["two-designs"].h5, bad_files[kind]
    p = run_module("compare", *((bad, good) if position == "A" else (good, bad)))
    assert_clean_failure(p, "compare")


def test_compare_cli_unknown_design(studies, other_seed):
    p = run_module("compare", studies["two-designs"].h5, other_seed.h5, "--design", "no-such-design")
    assert_clean_failure(p, "compare")
    assert "no-such-design" in p.stderr


@pytest.mark.parametrize("module", ["report", "compare"])
def test_usage_error_exits_2(module):
    p = run_module(module)
    assert p.returncode == 2, f"exit status {p.returncode} without arguments"
    assert "Traceback" not in p.stderr
