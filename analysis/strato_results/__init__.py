"""Reading strato results files (HDF5, written by `strato run`).

    from analysis.strato_results import open_results
    with open_results("default.h5") as r:
        print(r.designs, r.summary_value("lambda", "cost_per_month_usd"))

A file holds, per design, one series table (a row per report interval) and one events table per
replication, then a summary (mean and 95% CI per design and metric) and paired comparisons against the
baseline. Everything comes back as numpy structured arrays (strings decoded), or as pandas DataFrames
through `frame()` when pandas is installed. A file that is missing, is not a strato results file, has
a format version this reader does not know or is damaged raises ResultsError with a one-line message.
"""
import os

import numpy as np

FORMAT = "strato-results"
KNOWN_VERSIONS = (2,)


class ResultsError(Exception):
    """A results file that cannot be read: the message is one line, fit for a user."""


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def _decode(arr):
    """A structured array with its variable-length string columns as fixed numpy unicode strings."""
    if arr.dtype.names is None:
        return arr
    fields, columns = [], []
    for name in arr.dtype.names:
        col = arr[name]
        if col.dtype.kind == "O":
            col = np.array([_text(v) for v in col], dtype=str)
        fields.append((name, col.dtype))
        columns.append(col)
    out = np.empty(len(arr), dtype=fields)
    for name, col in zip(arr.dtype.names, columns):
        out[name] = col
    return out


class Results:
    """An open results file. Use as a context manager, or call close()."""

    def __init__(self, path):
        try:
            import h5py
        except ImportError as e:  # pragma: no cover - the interpreter lacks Debian's python3-h5py
            raise ResultsError("this Python has no h5py: run with /usr/bin/python3 (Debian's python3-h5py)") from e
        self.path = path
        if not os.path.exists(path):
            raise ResultsError(f"{path}: no such file")
        try:
            self._f = h5py.File(path, "r")
        except OSError as e:
            raise ResultsError(f"{path}: not an HDF5 file, or a damaged one ({str(e).splitlines()[0]})") from None
        try:
            fmt = _text(self._f.attrs.get("format", b""))
            if fmt != FORMAT:
                raise ResultsError(f"{path}: not a strato results file (format attribute {fmt!r})")
            version = int(self._f.attrs.get("format_version", -1))
            if version not in KNOWN_VERSIONS:
                raise ResultsError(
                    f"{path}: format version {version}, this reader knows {', '.join(map(str, KNOWN_VERSIONS))}:"
                    " use the analysis/ of the strato that wrote it")
            self.summary_table = self._table("summary")
            self.comparisons_table = self._table("comparisons")
            order = []
            for d in self.summary_table["design"]:
                if d not in order:
                    order.append(d)
            for d in self._f["designs"]:  # designs with no finished run are not in the summary
                if d not in order:
                    order.append(d)
            self.designs = order
        except ResultsError:
            self._f.close()
            raise
        except (KeyError, OSError, ValueError) as e:
            self._f.close()
            raise ResultsError(f"{path}: damaged or incomplete strato results file ({e})") from None

    def _damaged(self, e):
        """The ResultsError for data h5py could not read."""
        return ResultsError(f"{self.path}: damaged strato results file ({str(e).splitlines()[0] if str(e) else e!r})")

    def _table(self, path):
        try:
            return _decode(self._f[path][()])
        except KeyError:
            raise ResultsError(f"{self.path}: no /{path} table (the study was interrupted before it ended)") from None

    # ---- the study --------------------------------------------------------------------------------
    @property
    def provenance(self):
        """The root attributes: strato_version, study, config_path, command_line, master_seed,
        replications, horizon_s, report_interval_s, warmup_s, baseline, complete, format_version."""
        out = {}
        for k, v in self._f.attrs.items():
            if k == "config":
                continue
            out[k] = _text(v) if isinstance(v, (bytes, str)) else (v.item() if hasattr(v, "item") else v)
        return out

    @property
    def config_text(self):
        """The config file's text as it was run."""
        return _text(self._f.attrs.get("config", b""))

    @property
    def baseline(self):
        return _text(self._f.attrs["baseline"])

    def _design(self, design):
        if design not in self.designs:
            raise ResultsError(f"{self.path}: no design called {design!r} (designs: {', '.join(self.designs)})")
        return self._f["designs"][design]

    def kind(self, design):
        return _text(self._design(design).attrs["kind"])

    def description(self, design):
        return _text(self._design(design).attrs.get("description", b""))

    def runs(self, design):
        """Replication numbers of a design, in order."""
        g = self._design(design)
        return sorted(int(r) for r in g["runs"]) if "runs" in g else []

    def series(self, design, run):
        """One run's series: a structured array, one row per report interval (columns in the README)."""
        try:
            return self._design(design)["runs"][str(run)]["series"][()]
        except KeyError:
            raise ResultsError(f"{self.path}: design {design!r} has no run {run}") from None
        except OSError as e:
            raise self._damaged(e) from None

    def events(self, design, run):
        """One run's events, with `kind` as text ('zone_down', 'spot_interruption', ...)."""
        try:
            ds = self._design(design)["runs"][str(run)]["events"]
        except KeyError:
            raise ResultsError(f"{self.path}: design {design!r} has no run {run}") from None
        import h5py
        try:
            raw = ds[()]
        except OSError as e:
            raise self._damaged(e) from None
        names = {v: k for k, v in (h5py.check_enum_dtype(ds.dtype["kind"]) or {}).items()}
        out = np.empty(len(raw), dtype=[("t_s", "f8"), ("kind", "U40"), ("az", "i8"), ("id", "i8"), ("value", "f8")])
        for c in ("t_s", "az", "id", "value"):
            out[c] = raw[c]
        out["kind"] = [names.get(int(k), str(int(k))) for k in raw["kind"]]
        return out

    def run_attrs(self, design, run):
        try:
            g = self._design(design)["runs"][str(run)]
        except KeyError:
            raise ResultsError(f"{self.path}: design {design!r} has no run {run}") from None
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in g.attrs.items()}

    # ---- the summary ------------------------------------------------------------------------------
    def summary(self, design=None):
        t = self.summary_table
        return t if design is None else t[t["design"] == design]

    def comparisons(self, design=None):
        t = self.comparisons_table
        return t if design is None else t[t["design"] == design]

    def metrics(self):
        """The summary's metric names, in order."""
        out = []
        for m in self.summary_table["metric"]:
            if m not in out:
                out.append(m)
        return out

    def summary_value(self, design, metric):
        """(mean, ci95_lo, ci95_hi, n) of a design's metric; NaNs when it is not in the summary."""
        t = self.summary_table
        rows = t[(t["design"] == design) & (t["metric"] == metric)]
        if design not in self.designs:
            raise ResultsError(f"{self.path}: no design called {design!r} (designs: {', '.join(self.designs)})")
        if len(rows) == 0:
            return (float("nan"), float("nan"), float("nan"), 0)
        r = rows[0]
        return (float(r["mean"]), float(r["ci95_lo"]), float(r["ci95_hi"]), int(r["n"]))

    def frame(self, arr):
        """A pandas DataFrame of a structured array (pandas is optional)."""
        import pandas as pd
        return pd.DataFrame({name: arr[name] for name in arr.dtype.names})

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def open_results(path):
    """Opens a results file; raises ResultsError with a one-line message when it cannot."""
    return Results(path)
