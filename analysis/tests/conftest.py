"""Fixtures for the analysis tests: run the strato binary once per session on a few small studies
written to a temporary directory, parse what it prints (the summary, the paired differences, the
choice), and hand the results files to the tests; plus damaged files and PNG checks.

The binary comes from the environment variable STRATO (the CMake test sets it), else build/strato in
this repository, /work/main/build/strato or /tmp/b/strato; Chromium from STRATO_CHROMIUM, else PATH.
A missing binary, a missing chromium, or a study that strato refuses is a test failure with a message
saying why, never a silent skip.
"""
import dataclasses
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "configs" / "catalog" / "us-east-1.cfg"
if str(REPO) not in sys.path:  # `import analysis` whatever directory pytest was started from
    sys.path.insert(0, str(REPO))

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOT_NAMES = ("latency_over_time", "capacity_over_time", "cost_over_time", "errors_over_time", "decision_chart")
EVENT_KINDS = {
    "instance_pending", "instance_running", "instance_draining", "instance_terminated",
    "instance_unreachable", "instance_failed", "zone_down", "zone_up", "target_healthy",
    "target_unhealthy", "target_draining", "target_unused", "scaling", "replaced_unhealthy",
    "spot_rebalance_recommendation", "spot_interruption_notice", "spot_interruption",
}

# ---- the studies ----------------------------------------------------------------------------------

TCO = """tco: { server_price = "$6000"; amortisation_months = 36.0; cost_of_money = 0.05;
           idle_watts = 150.0; peak_watts = 300.0; pue = 1.5; kwh_price = "$0.10";
           kw_month = "$150"; network_month = "$25"; servers_per_admin = 30.0; admin_year = "$150000"; };"""

TWO_DESIGNS = """@include "us-east-1.cfg"
# A comment the report must escape: <b>bold</b> & "quoted" </pre><img src="nowhere.png">
study: { name = "two-designs"; horizon = "2h"; report_interval = "5m"; replications = 3; seed = 7;
         baseline = "onprem"; };
workload: {
  arrivals: { mean_rps = 5.0; };
  classes = ( { name = "api"; cpu = { dist = "lognormal"; mean = "50ms"; cv = 1.0; };
                response_bytes = { dist = "lognormal"; mean = "10KB"; cv = 1.0; }; } );
  slo: { latency_p99 = "1s"; availability = 0.99; };
};
designs = (
  { name = "onprem"; kind = "onprem"; description = "two 2-core servers & a <tco>";
    servers = 2; server: { cores = 2; };
    %(tco)s },
  { name = "lambda"; kind = "serverless"; description = "one 1,769-MB function";
    functions = ( { name = "web"; memory_mb = 1769; runtime = "python3.12"; timeout = "10s"; } ); }%(extra)s
);
"""

EXTRA_DESIGN = """,
  { name = "arm-fn"; kind = "serverless"; description = "the same on arm64";
    functions = ( { name = "web"; memory_mb = 1769; arch = "arm64"; runtime = "python3.12"; } ); }"""

OUTAGE = """@include "us-east-1.cfg"
study: { name = "outage"; horizon = "2h"; report_interval = "1m"; warmup = "10m"; replications = 2;
         seed = 11; baseline = "asg"; };
workload: {
  arrivals: { mean_rps = 20.0; changes = ( { at = "80m"; factor = 2.5; } ); };
  classes = ( { name = "api"; cpu = { dist = "lognormal"; mean = "40ms"; cv = 1.0; };
                response_bytes = { dist = "lognormal"; mean = "10KB"; cv = 1.0; }; } );
  slo: { latency_p95 = "500ms"; availability = 0.999; };
};
designs = (
  { name = "asg"; kind = "cloud"; description = "an Auto Scaling group of c6i.large, zone 1 down 30m-1h";
    region: { azs = 3; outages = ( { az = 1; at = "30m"; duration = "30m"; } ); };
    instances: { queue_limit = 100; };
    asg: { instance_type = "c6i.large"; min = 3; max = 9; desired = 3;
           policies = ( { type = "target_tracking"; metric = "cpu"; target = 20.0; } ); }; },
  { name = "fixed"; kind = "cloud"; description = "three c6i.large, the same outage";
    region: { azs = 3; outages = ( { az = 1; at = "30m"; duration = "30m"; } ); };
    fleet = ( { type = "c6i.large"; count = 3; } ); },
  { name = "onprem-notco"; kind = "onprem"; description = "one 4-core server without a cost model";
    servers = 1; server: { cores = 4; }; }
);
"""

ONE_REP = """@include "us-east-1.cfg"
study: { name = "one-rep"; horizon = "90m"; report_interval = "7m"; replications = 1; seed = 3; };
workload: {
  arrivals: { profile = "diurnal"; mean_rps = 3.0; peak_to_mean = 1.5; };
  classes = ( { name = "api"; cpu = { dist = "exponential"; mean = "80ms"; }; } );
};
designs = (
  { name = "lambda-small"; kind = "serverless"; description = "a 512-MB function";
    functions = ( { name = "web"; memory_mb = 512; runtime = "python3.12"; } ); },
  { name = "lambda-big"; kind = "serverless"; description = "a 1,769-MB function";
    functions = ( { name = "web"; memory_mb = 1769; runtime = "python3.12"; } ); }
);
"""

SINGLE = """study: { name = "single"; horizon = "1h"; report_interval = "2m"; replications = 2; seed = 5; };
workload: {
  arrivals: { mean_rps = 8.0; };
  classes = ( { name = "api"; cpu = { dist = "exponential"; mean = "100ms"; }; } );
  slo: { latency_p99 = "10ms"; };
};
designs = (
  { name = "box"; kind = "onprem"; description = "one 2-core server, too slow for the SLO";
    servers = 1; server: { cores = 2; }; }
);
"""


@dataclasses.dataclass
class Spec:
    """What a study is, as written in its config: the expectations the tests check against."""
    config: str
    designs: list
    kinds: dict
    descriptions: dict
    replications: int
    horizon_s: float
    interval_s: float
    seed: int
    baseline: str
    slo: dict  # {"percentile": "p99", "availability": 0.99}, or {} without an SLO
    events: bool = False  # some design has infrastructure events


SPECS = {
    "two-designs": Spec(
        config=TWO_DESIGNS % {"tco": TCO, "extra": ""},
        designs=["onprem", "lambda"], kinds={"onprem": "onprem", "lambda": "serverless"},
        descriptions={"onprem": "two 2-core servers & a <tco>", "lambda": "one 1,769-MB function"},
        replications=3, horizon_s=7200.0, interval_s=300.0, seed=7, baseline="onprem",
        slo={"percentile": "p99", "availability": 0.99}),
    "outage": Spec(
        config=OUTAGE,
        designs=["asg", "fixed", "onprem-notco"],
        kinds={"asg": "cloud", "fixed": "cloud", "onprem-notco": "onprem"},
        descriptions={"asg": "an Auto Scaling group of c6i.large, zone 1 down 30m-1h",
                      "fixed": "three c6i.large, the same outage",
                      "onprem-notco": "one 4-core server without a cost model"},
        replications=2, horizon_s=7200.0, interval_s=60.0, seed=11, baseline="asg",
        slo={"percentile": "p95", "availability": 0.999}, events=True),
    "one-rep": Spec(
        config=ONE_REP,
        designs=["lambda-small", "lambda-big"], kinds={"lambda-small": "serverless", "lambda-big": "serverless"},
        descriptions={"lambda-small": "a 512-MB function", "lambda-big": "a 1,769-MB function"},
        replications=1, horizon_s=5400.0, interval_s=420.0, seed=3, baseline="lambda-small", slo={}),
    "single": Spec(
        config=SINGLE,
        designs=["box"], kinds={"box": "onprem"}, descriptions={"box": "one 2-core server, too slow for the SLO"},
        replications=2, horizon_s=3600.0, interval_s=120.0, seed=5, baseline="box",
        slo={"percentile": "p99"}),
}
STUDY_NAMES = list(SPECS)


@dataclasses.dataclass
class Study:
    """One study strato ran: its spec, files, and what strato printed."""
    name: str
    spec: Spec
    config: Path
    h5: Path
    stdout: str
    summary: dict       # (design, metric) -> (mean, lo, hi, n) as printed; NaN where printed "-" or no CI
    summary_order: list  # (design, metric) in printed order
    comparisons: dict   # (design, metric) -> (mean_diff, lo, hi, n) as printed
    choice: object      # the design strato chose, or None


# ---- strato's printed output ----------------------------------------------------------------------

_ROW = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(?:\[\s*(\S+),\s*(\S+)\]|\(one replication\))?\s*(\d+)$")
_CHOICE = re.compile(r'^choice: "([^"]+)"')


def _num(text):
    return float("nan") if text in (None, "-") else float(text)


def parse_strato_stdout(text):
    """(summary, order, comparisons, choice) from `strato run`'s stdout."""
    summary, order, comparisons, choice = {}, [], {}, None
    section = None
    for line in text.splitlines():
        if line.startswith("design") and "metric" in line and "mean" in line:
            section = "summary"
            continue
        if line.startswith("paired differences"):
            section = "comparisons"
            continue
        if not line.strip():
            section = None
            continue
        m = _CHOICE.match(line)
        if m:
            choice = m.group(1)
            continue
        if section is None:
            continue
        m = _ROW.match(line.rstrip())
        assert m, f"cannot parse this line of strato's {section} table: {line!r}"
        design, metric, _unit, mean, lo, hi, n = m.groups()
        value = (_num(mean), _num(lo), _num(hi), int(n))
        if section == "summary":
            summary[(design, metric)] = value
            order.append((design, metric))
        else:
            comparisons[(design, metric)] = value
    return summary, order, comparisons, choice


# ---- running strato -------------------------------------------------------------------------------

def _locate_strato():
    env = os.environ.get("STRATO")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            pytest.fail(f"STRATO={env} is not an executable file: build strato (cmake --build build) or fix STRATO",
                        pytrace=False)
        return env
    candidates = [REPO / "build" / "strato", Path("/work/main/build/strato"), Path("/tmp/b/strato")]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    pytest.fail("no strato binary: set STRATO to the built binary (tried "
                + ", ".join(map(str, candidates)) + ")", pytrace=False)


@pytest.fixture(scope="session")
def strato_bin():
    """Path of the strato binary under test."""
    return _locate_strato()


def write_study_dir(directory, config_text, cfg_name="study.cfg"):
    """Writes the config into a directory of its own with the region catalog beside it; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    if not CATALOG.is_file():
        pytest.fail(f"the region catalog {CATALOG} is missing", pytrace=False)
    shutil.copy(CATALOG, directory / CATALOG.name)
    cfg = directory / cfg_name
    cfg.write_text(config_text)
    return cfg


def run_strato(strato, cfg, h5, *extra):
    """Runs `strato run CFG -o H5 [extra]` in the config's directory; returns its stdout."""
    cmd = [strato, "run", cfg.name, "-o", str(h5), *extra]
    p = subprocess.run(cmd, cwd=cfg.parent, capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or not h5.is_file():
        pytest.fail(f"{' '.join(cmd)} (in {cfg.parent}) exited {p.returncode}:\n{p.stderr}", pytrace=False)
    return p.stdout


def _make_study(strato, root, name, spec, *extra, h5_name=None):
    d = root / name
    cfg = write_study_dir(d, spec.config, f"{name}.cfg")
    h5 = d / (h5_name or f"{name}.h5")
    out = run_strato(strato, cfg, h5, *extra)
    summary, order, comparisons, choice = parse_strato_stdout(out)
    assert summary, f"strato printed no summary table for {name}:\n{out}"
    return Study(name, spec, cfg, h5, out, summary, order, comparisons, choice)


@pytest.fixture(scope="session")
def studies(strato_bin, tmp_path_factory):
    """Every study of SPECS, run once: {name: Study}."""
    root = tmp_path_factory.mktemp("studies")
    return {name: _make_study(strato_bin, root, name, spec) for name, spec in SPECS.items()}


@pytest.fixture(scope="session", params=STUDY_NAMES)
def study(request, studies):
    """Each study in turn."""
    return studies[request.param]


@pytest.fixture(scope="session")
def other_seed(strato_bin, tmp_path_factory):
    """The two-design study run with another master seed (--seed 99)."""
    root = tmp_path_factory.mktemp("seed99")
    return _make_study(strato_bin, root, "two-designs", SPECS["two-designs"], "--seed", "99",
                       h5_name="two-designs-seed99.h5")


@pytest.fixture(scope="session")
def with_extra_design(strato_bin, tmp_path_factory):
    """The two-design study with a third design, "arm-fn", that the first file does not have."""
    spec = dataclasses.replace(SPECS["two-designs"], config=TWO_DESIGNS % {"tco": TCO, "extra": EXTRA_DESIGN},
                               designs=["onprem", "lambda", "arm-fn"])
    root = tmp_path_factory.mktemp("extra")
    return _make_study(strato_bin, root, "two-plus", spec)


@pytest.fixture()
def results(study):
    """The study's results file, open."""
    from analysis.strato_results import open_results
    r = open_results(str(study.h5))
    yield r
    r.close()


# ---- files that are not good results --------------------------------------------------------------

BAD_KINDS = ("missing", "not_hdf5", "foreign_hdf5", "unknown_version", "truncated", "corrupt_summary",
             "corrupt_series")
# compare reads only the summary tables, so a file whose series alone are damaged is fine for it
SUMMARY_BAD_KINDS = tuple(k for k in BAD_KINDS if k != "corrupt_series")


def _garble_first_chunk(path, dataset):
    """The bytes of an HDF5 file with the first (compressed) chunk of one dataset overwritten."""
    import h5py
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        if ds.compression is None or ds.chunks is None:
            pytest.fail(f"{dataset} is no longer stored in compressed chunks: rewrite the corrupt-file fixture",
                        pytrace=False)
        info = ds.id.get_chunk_info(0)
    data = bytearray(Path(path).read_bytes())
    data[info.byte_offset: info.byte_offset + info.size] = b"\xff" * info.size
    return bytes(data)


@pytest.fixture(scope="session")
def bad_files(studies, tmp_path_factory):
    """{kind: path} of files the reader must refuse, made from the two-design study's results."""
    import h5py
    good = studies["two-designs"].h5
    d = tmp_path_factory.mktemp("bad")
    out = {"missing": d / "no-such-file.h5"}
    out["not_hdf5"] = d / "notes.h5"
    out["not_hdf5"].write_text("these are not the results you are looking for\n" * 20)
    out["foreign_hdf5"] = d / "foreign.h5"
    with h5py.File(out["foreign_hdf5"], "w") as f:
        f.attrs["format"] = "something-else"
        f["data"] = np.arange(10.0)
        f.create_group("designs")
    out["unknown_version"] = d / "future.h5"
    shutil.copy(good, out["unknown_version"])
    with h5py.File(out["unknown_version"], "r+") as f:
        f.attrs["format_version"] = np.int32(99)
    out["truncated"] = d / "truncated.h5"
    data = good.read_bytes()
    out["truncated"].write_bytes(data[: len(data) // 2])
    for kind, dataset in (("corrupt_summary", "summary"),
                          ("corrupt_series", f"designs/{SPECS['two-designs'].designs[-1]}/runs/0/series")):
        out[kind] = d / f"{kind}.h5"  # opens as HDF5; the dataset's first chunk is garbage
        out[kind].write_bytes(_garble_first_chunk(good, dataset))
    return out


# ---- checks ---------------------------------------------------------------------------------------

def distinct_colours(rgb):
    """Number of distinct RGB colours of an image array (floats in [0, 1] or uint8)."""
    a = np.asarray(rgb)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    a = a[..., :3]
    if a.dtype != np.uint8:
        a = np.clip(np.round(a * 255), 0, 255).astype(np.uint32)
    else:
        a = a.astype(np.uint32)
    packed = (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]
    return len(np.unique(packed))


def check_png(path, min_colours=2):
    """Asserts that path is a non-empty PNG that matplotlib reads, with at least min_colours colours;
    returns the image array."""
    import matplotlib.image as mpimg
    p = Path(path)
    assert p.is_file(), f"{p}: no such file"
    assert p.stat().st_size > 0, f"{p}: empty"
    with open(p, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE, f"{p}: not a PNG (bad signature)"
    img = mpimg.imread(str(p))
    assert img.ndim in (2, 3) and img.shape[0] > 0 and img.shape[1] > 0, f"{p}: image of shape {img.shape}"
    n = distinct_colours(img)
    assert n >= min_colours, f"{p}: {n} distinct colour(s): blank"
    return img


def finite(x):
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def chromium_binary():
    """Chromium: $STRATO_CHROMIUM (the CMake test sets it), else chromium on PATH; a test failure saying
    how to install it when there is none."""
    env = os.environ.get("STRATO_CHROMIUM")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            pytest.fail(f"STRATO_CHROMIUM={env} is not an executable file", pytrace=False)
        return env
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed: apt-get install -y chromium (the report test renders the page "
                "in headless Chromium)", pytrace=False)


_NUMBER = re.compile(r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+−]?\.\d+")


def numbers(text):
    """Every number written in a text (thousands separators and the Unicode minus understood)."""
    return [float(m.replace(",", "").replace("−", "-")) for m in _NUMBER.findall(text)]


def named(text, name):
    """True when a design name appears in text as a whole name (not part of a longer one)."""
    return re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text) is not None
