"""The report (analysis.report.build_report): one HTML page per study with the question, the summary
table, the decision strato made, the plots, the config text and the provenance; rendered in headless
Chromium, where the page must not be blank and every image must load."""
import html
import importlib
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.strato_results import open_results
from analysis.tests.conftest import PLOT_NAMES, check_png, chromium_binary, distinct_colours, finite, named, numbers

BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6",
              "section", "header", "footer", "pre", "br", "figure", "figcaption", "dt", "dd", "caption",
              "summary", "details", "main", "article", "body", "title"}


class Page(HTMLParser):
    """What a test needs of an HTML page: image sources, the visible text outside <pre> (so that the
    config text shown there cannot stand in for the rest), the <pre> texts, the tables' texts."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.imgs, self.pres, self.tables = [], [], []
        self._chunks, self._skip, self._pre, self._tables = [], 0, None, []
        self.feed(text)
        self.close()
        self.text = re.sub(r"[ \t\r\f\v]+", " ", "".join(self._chunks))

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img":
            self.imgs.append(dict(attrs).get("src"))
        if tag == "pre":
            self._pre = []
        if tag == "table":
            self._tables.append([])
        self._chunks.append("\n" if tag in BLOCK_TAGS else "")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None
        if tag == "table" and self._tables:
            self.tables.append(" ".join(self._tables.pop()))
        if tag in BLOCK_TAGS:
            self._chunks.append("\n")

    def handle_data(self, data):
        if self._skip:
            return
        if self._pre is not None:
            self._pre.append(data)
        else:
            self._chunks.append(data)
        for t in self._tables:
            t.append(data)


def has_number(text, value, rel=0.01, abs_tol=0.0, scales=(1.0,)):
    """True when text contains a number within rel (or abs_tol) of value times one of scales."""
    for x in numbers(text):
        for s in scales:
            v = value * s
            if abs(x - v) <= max(rel * abs(v), abs_tol):
                return True
    return False


@pytest.fixture(scope="session")
def report_module():
    """The analysis.report module; a test failure (not a skip) when it cannot be imported."""
    try:
        return importlib.import_module("analysis.report")
    except Exception as e:  # noqa: BLE001 - any import failure is the finding
        pytest.fail(f"cannot import analysis.report: {type(e).__name__}: {e}", pytrace=False)


@pytest.fixture(scope="session")
def reports(report_module, studies, tmp_path_factory):
    """{study: (returned path, out_dir)}: build_report once per study, into a directory that does not
    exist yet."""
    out = {}
    for name, study in studies.items():
        out_dir = tmp_path_factory.mktemp(f"report-{name}") / "report"
        out[name] = (report_module.build_report(str(study.h5), str(out_dir)), out_dir)
    return out


@pytest.fixture()
def page(reports, study):
    """(Page, raw html, out_dir) of the study's report."""
    path, out_dir = reports[study.name]
    text = (out_dir / "index.html").read_text(encoding="utf-8")
    return Page(text), text, out_dir


def test_build_report_returns_index_html(reports, study):
    path, out_dir = reports[study.name]
    assert Path(path).resolve() == (out_dir / "index.html").resolve()
    assert (out_dir / "index.html").stat().st_size > 0


def test_every_image_exists_and_is_a_png(page):
    p, _, out_dir = page
    assert len(p.imgs) >= len(PLOT_NAMES), f"{len(p.imgs)} <img> in the page, expected the {len(PLOT_NAMES)} plots"
    for src in p.imgs:
        assert src, "an <img> without src"
        assert not re.match(r"^[a-z]+:|^/", src), f"<img src={src!r}> is not relative to the report directory"
        f = (out_dir / src).resolve()
        assert out_dir.resolve() in f.parents, f"<img src={src!r}> is outside the report directory"
        check_png(f, min_colours=3)


def test_page_names_strato_choice(page, study):
    p, _, _ = page
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n", p.text) if s.strip()]
    if study.choice is None:
        assert re.search(r"\bno design\b|\bnone of the designs\b", p.text, re.I), \
            "strato chose no design; the page should say that no design meets the SLO"
        for s in sentences:
            if re.search(r"cheapest", s, re.I):
                for d in study.spec.designs:
                    assert not named(s, d) or re.search(r"\bno\b|\bnone\b|\bnot\b", s, re.I), \
                        f"the page chooses {d!r} where strato chose none: {s!r}"
        return
    hits = [s for s in sentences if re.search(r"cheapest", s, re.I)]
    assert hits, "no sentence with 'cheapest' (the decision) in the page"
    assert any(named(s, study.choice) for s in hits), \
        f"no decision sentence names strato's choice {study.choice!r}: {hits}"
    first = hits[0]
    others = [d for d in study.spec.designs if d != study.choice and named(first, d)]
    if others:  # naming others is fine (savings against them) as long as the choice comes first
        pos = {d: re.search(r"(?<![\w-])" + re.escape(d) + r"(?![\w-])", first).start() for d in others}
        start = re.search(r"(?<![\w-])" + re.escape(study.choice) + r"(?![\w-])", first)
        assert start and start.start() < min(pos.values()), f"the decision names another design first: {first!r}"


def test_summary_table(page, study):
    p, _, _ = page
    assert p.tables, "no <table> in the page"
    tables = "\n".join(p.tables)
    for d in study.spec.designs:
        assert named(tables, d), f"design {d!r} is in no table"
    latency_metric = "latency_slo_s" if study.spec.slo.get("percentile") else "latency_p99_s"
    with open_results(str(study.h5)) as r:
        for d in study.spec.designs:
            cost = r.summary_value(d, "cost_per_month_usd")
            if finite(cost[0]):
                assert has_number(tables, cost[0], rel=0.01, abs_tol=0.51), \
                    f"{d}: cost per month {cost[0]:.6g} is not in the tables"
            lat = r.summary_value(d, latency_metric)
            assert has_number(tables, lat[0], rel=0.01, scales=(1.0, 1000.0)), \
                f"{d}: {latency_metric} {lat[0]:.6g} (s or ms) is not in the tables"
            if study.spec.replications > 1:  # the CI of the widest of these three, both bounds
                cands = [r.summary_value(d, m) for m in (latency_metric, "cost_per_month_usd", "availability")]
                cands = [c for c in cands if finite(c[1]) and finite(c[2]) and c[0] != 0]
                if cands:
                    mean, lo, hi, _ = max(cands, key=lambda c: (c[2] - c[1]) / abs(c[0]))
                    for bound in (lo, hi):
                        assert has_number(tables, bound, rel=0.01, abs_tol=0.51 if mean > 10 else 0.0,
                                          scales=(1.0, 1000.0)), f"{d}: CI bound {bound:.6g} is not in the tables"


def test_question_designs_and_slo(page, study):
    p, _, _ = page
    assert study.name in p.text, "the study's name is not on the page"
    for d in study.spec.designs:
        assert named(p.text, d)
        assert study.spec.kinds[d] in p.text, f"{d}: kind {study.spec.kinds[d]!r} not on the page"
        assert study.spec.descriptions[d] in p.text, f"{d}: description not on the page"
    slo = study.spec.slo
    if slo.get("percentile"):
        q = slo["percentile"][1:]
        assert re.search(rf"\bp{q}\b|\b{q}th\b", p.text), f"the SLO percentile p{q} is not on the page"
    if slo.get("availability"):
        a = slo["availability"]
        assert has_number(p.text, a, rel=1e-9) or has_number(p.text, a * 100, rel=1e-9), \
            f"the availability target {a} is not on the page"


def test_config_text_escaped_in_pre(page, study):
    p, raw, _ = page
    config = study.config.read_text().replace("\r\n", "\n").strip()
    assert any(config in pre.replace("\r\n", "\n") for pre in p.pres), "the config text is not in a <pre>"
    if "<b>bold</b>" in config:
        assert "<b>bold</b>" not in raw and '<img src="nowhere.png">' not in raw, "the config text is not escaped"
    for d, desc in study.spec.descriptions.items():
        if "<" in desc:
            assert desc not in raw and html.escape(desc, quote=False) in raw, f"{d}'s description is not escaped"


def test_provenance(page, study):
    p, _, _ = page
    with open_results(str(study.h5)) as r:
        prov = r.provenance
    assert prov["strato_version"] in p.text, "the strato version is not on the page"
    assert re.search(rf"\b{prov['master_seed']}\b", p.text), "the seed is not on the page"
    assert re.search(rf"\b{prov['replications']}\b", p.text), "the number of replications is not on the page"
    assert " ".join(prov["command_line"].split()) in p.text, "the command line is not on the page"


def test_page_is_self_contained(page):
    _, raw, _ = page
    assert not re.search(r"<link[^>]+stylesheet", raw, re.I), "CSS should be inline"
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?://", raw, re.I), "the page loads something from the network"


# ---- rendered in headless Chromium ---------------------------------------------------------------------

def chromium(args, tmp_path, timeout=60):
    cmd = [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-2000:]}"
    return p.stdout


COUNT_IMAGES = """<script>
window.addEventListener('load', function () {
  var all = document.images, ok = 0;
  for (var i = 0; i < all.length; i++) if (all[i].complete && all[i].naturalWidth > 0) ok++;
  document.title = 'IMAGES-LOADED ' + ok + ' OF ' + all.length;
});
</script>"""


def images_loaded(report_dir, tmp_path):
    """(loaded, total) images of report_dir/index.html as Chromium sees them after the page loads: a
    copy of the page with a script that writes the count into the title, read back with --dump-dom."""
    text = (report_dir / "index.html").read_text(encoding="utf-8")
    probe = report_dir / "_probe_images.html"
    i = text.lower().rfind("</body>")
    probe.write_text(text[:i] + COUNT_IMAGES + text[i:] if i >= 0 else text + COUNT_IMAGES, encoding="utf-8")
    dom = chromium(["--dump-dom", probe.as_uri()], tmp_path)
    m = re.search(r"IMAGES-LOADED (\d+) OF (\d+)", dom)
    assert m, "the probe script did not run in Chromium (no count in the title)"
    return int(m.group(1)), int(m.group(2))


def test_rendered_page_is_not_blank(reports, study, tmp_path):
    _, out_dir = reports[study.name]
    shot = tmp_path / "screenshot.png"
    chromium([f"--screenshot={shot}", "--window-size=1280,2000", (out_dir / "index.html").as_uri()], tmp_path)
    img = check_png(shot, min_colours=16)
    top = img[: min(800, img.shape[0])]
    assert distinct_colours(top) >= 8, "the first screen of the rendered page is (nearly) blank"


def test_every_image_loads_in_chromium(reports, study, tmp_path):
    _, out_dir = reports[study.name]
    copy = tmp_path / "report"
    shutil.copytree(out_dir, copy)
    p = Page((copy / "index.html").read_text(encoding="utf-8"))
    loaded, total = images_loaded(copy, tmp_path)
    assert total == len(p.imgs)
    assert total >= len(PLOT_NAMES)
    assert loaded == total, f"only {loaded} of {total} images load in Chromium"


def test_image_check_sees_a_missing_image(reports, tmp_path):
    """The check above is not vacuous: with one PNG deleted, Chromium loads one image fewer."""
    _, out_dir = reports["two-designs"]
    copy = tmp_path / "report"
    shutil.copytree(out_dir, copy)
    imgs = Page((copy / "index.html").read_text(encoding="utf-8")).imgs
    victim = next(src for src in imgs if src and (copy / src).is_file())
    (copy / victim).unlink()
    loaded, total = images_loaded(copy, tmp_path)
    assert total == len(imgs)
    assert loaded == total - imgs.count(victim), f"{loaded} of {total} images load with {victim} deleted"
