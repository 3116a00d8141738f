"""paramcount trends: log-space fits, bootstrap, breaks, large-scale rule, gap, inputs.

Synthetic points are dated on 1 January, so each one's decimal year is a whole number and the
arithmetic in the comments is exact.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

from estimator.curation import trends as tr  # noqa: E402
from estimator.curation.trends import Point  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "epoch-all-ml-systems-sample.csv"
LOG2 = math.log10(2)


def line(years, slope, at2000=0.0, noise=None, domain="Language"):
    """Points on 1 January of ``years`` with log10(value) = at2000 + slope x (year - 2000)."""
    pts = []
    for i, y in enumerate(years):
        e = 0.0 if noise is None else noise[i]
        pts.append(Point(name=f"s{y}-{i}", date=dt.date(int(y), 1, 1),
                         value=10 ** (at2000 + slope * (y - 2000) + e), domains=(domain,)))
    return pts


# --------------------------------------------------------------------------- the fit itself

def test_known_doubling_time_exactly():
    # doubling every 6 months = 2 doublings a year: slope = 2 x log10(2) = 0.60206 OOM/year;
    # every point on the line, so OLS returns it: doubling = 12 x log10(2) / 0.60206 = 6.0
    pts = line(range(2010, 2020), 2 * LOG2, at2000=14.0)
    f = tr.fit(pts, metric="compute")
    assert f.slope == pytest.approx(2 * LOG2, rel=1e-12)
    assert f.doubling_months == pytest.approx(6.0, rel=1e-12)
    assert f.r2 == pytest.approx(1.0, abs=1e-12)
    assert f.n == 10 and f.start == "2010-01-01" and f.end == "2019-01-01"
    # log10 value in 2010 = 14 + 0.60206 x 10 = 20.0206
    assert math.log10(f.value_at(2010.0)) == pytest.approx(14 + 20 * LOG2, rel=1e-12)


def test_doubling_months_formula():
    # 0.1 OOM/year: 12 x 0.30103 / 0.1 = 36.12 months; a negative slope is a halving time
    assert tr.doubling_months(0.1) == pytest.approx(36.123599479677736)
    assert tr.doubling_months(-0.1) == pytest.approx(-36.123599479677736)
    assert tr.doubling_months(0.0) is None


def test_decimal_year():
    # 2020 is a leap year: 2 July is day 183 after 1 January: 2020 + 183/366 = 2020.5
    assert tr.decimal_year(dt.date(2020, 7, 2)) == 2020.5
    assert tr.decimal_year(dt.date(2021, 1, 1)) == 2021.0


def test_bootstrap_is_reproducible_with_a_seed():
    rng = np.random.default_rng(1)
    pts = line(range(1990, 2020), 0.3, noise=rng.normal(0, 0.4, 30))
    a = tr.fit(pts, seed=7)
    b = tr.fit(pts, seed=7)
    c = tr.fit(pts, seed=8)
    assert a.ci == b.ci
    assert a.ci != c.ci
    assert a.ci[0] < a.doubling_months < a.ci[1]
    assert a.ci_level == 0.95 and a.resamples == 1000


def test_interval_unbounded_when_the_slope_may_be_zero():
    # three points, the middle one far above: the bootstrap slopes take both signs
    pts = line([2000, 2001, 2002], 0.0, noise=[0.0, 3.0, 0.1])
    f = tr.fit(pts)
    assert f.ci == (None, None)


def test_a_fit_in_linear_space_differs():
    # The seeds' mistake: an exponential fitted by least squares on the values themselves.
    # With 0.5 OOM of scatter the few largest points decide that fit; the log-space line
    # recovers the true slope of 0.3 OOM/year within its noise.
    rng = np.random.default_rng(3)
    pts = line(range(1990, 2022), 0.3, noise=rng.normal(0, 0.5, 32))
    log_fit = tr.fit(pts).slope
    lin_fit = tr.fit_linear_space(pts)
    assert log_fit == pytest.approx(0.3, abs=0.05)
    assert abs(lin_fit - log_fit) / log_fit > 0.2
    # without scatter both are the same line: the difference is the weighting, not a bug
    exact = line(range(1990, 2022), 0.3)
    assert tr.fit_linear_space(exact) == pytest.approx(0.3, rel=1e-6)


def test_fewer_than_three_points_is_one_line():
    with pytest.raises(tr.InputError, match="2 points, fewer than 3"):
        tr.fit(line([2000, 2001], 0.1))


# ----------------------------------------------------------------------------------- eras

def test_eras_are_fitted_separately():
    # 24-month doubling (0.150515 OOM/year) before 2010, 6-month (0.60206) from 2010 on
    pts = line(range(2000, 2010), LOG2 / 2) + line(range(2010, 2020), 2 * LOG2, at2000=-3)
    res = tr.analyse(tr.Data("params", "synthetic", pts, len(pts)),
                     breaks=[dt.date(2010, 1, 1)])
    before, after = res.fits
    assert (before.segment, before.n, after.segment, after.n) == (
        "before 2010-01-01", 10, "from 2010-01-01", 10)
    assert before.doubling_months == pytest.approx(24.0, rel=1e-9)
    assert after.doubling_months == pytest.approx(6.0, rel=1e-9)


# --------------------------------------------------------------------------------- breaks

def test_break_finder_finds_a_planted_break():
    # 1990-2009: 24-month doubling; from 2010: 6-month doubling and 1 OOM higher.
    # On the line exactly, the jump model's residual is 0 at the midpoint of 2009 and 2010:
    # 2009.5 = 2009-01-01 + 0.5 x 365 days (182.5, rounded to even: 182) = 2009-07-02
    pts = (line(range(1990, 2010), LOG2 / 2)
           + line(range(2010, 2020), 2 * LOG2, at2000=1 + 10 * LOG2 / 2 - 10 * 2 * LOG2))
    b = tr.find_break(pts)
    assert b.found and b.model == "jump"
    assert b.date == "2009-07-02"
    assert set(b.models) == {"jump", "kink"} and b.models["jump"]["delta_bic"] == b.delta_bic
    # a (near) exact fit has a huge F; the evidence stays valid JSON (an infinite F is null)
    json.dumps(b.to_dict(), allow_nan=False)
    assert (b.n_before, b.n_after) == (20, 10)
    assert b.slope_before == pytest.approx(LOG2 / 2, rel=1e-9)
    assert b.slope_after == pytest.approx(2 * LOG2, rel=1e-9)
    # the level jump at 2009.5: after-line minus before-line, 1 OOM at 2010 less the slopes'
    # difference over half a year: 1 - 0.5 x (0.60206 - 0.150515) = 0.774227
    assert b.jump_oom == pytest.approx(1 - 0.5 * (2 * LOG2 - LOG2 / 2), rel=1e-9)


def test_break_finder_with_noise():
    rng = np.random.default_rng(5)
    years = [y + q for y in range(1990, 2020) for q in (0.0,)]
    pts = (line(years[:20], LOG2 / 2, noise=rng.normal(0, 0.15, 20))
           + line(years[20:], 2 * LOG2, at2000=-3, noise=rng.normal(0, 0.15, 10)))
    b = tr.find_break(pts)
    assert b.found and b.delta_bic >= tr.BIC_MARGIN
    assert abs(tr.decimal_year(dt.date.fromisoformat(b.date)) - 2009.5) <= 1.0
    assert b.p < 1e-6


def test_no_spurious_break_on_one_line():
    rng = np.random.default_rng(11)
    pts = line(range(1980, 2020), 0.2, noise=rng.normal(0, 0.3, 40))
    b = tr.find_break(pts)
    assert not b.found
    assert b.delta_bic < tr.BIC_MARGIN


def test_break_needs_enough_points():
    with pytest.raises(tr.InputError, match="at least 7"):
        tr.find_break(line(range(2000, 2006), 0.1))


# ---------------------------------------------------------------------------- large-scale

def _ls_points(x, extra=None):
    years = [2016, 2016.5, 2017, 2017.5, 2018, 2018.5, 2019, 2019.5, 2020]
    logs = [20.0, 20.2, 20.0, 20.2, x, 20.2, 20.0, 20.2, 20.0]
    pts = [Point(f"p{i}", tr._from_decimal(y), 10 ** v) for i, (y, v) in enumerate(zip(years, logs))]
    if extra:
        pts.append(Point("extra", tr._from_decimal(extra[0]), 10 ** extra[1]))
    return pts


def test_large_scale_rule_by_hand():
    # The point of 2018: the 8 others lie within 2 years (2016 to 2020): four at 20.0 and four
    # at 20.2, mean 20.1, sample SD sqrt(8 x 0.1^2 / 7) = 0.106904; threshold
    # 20.1 + 0.72 x 0.106904 = 20.176971. 20.18 is above it, 20.17 is not.
    assert tr.large_scale(_ls_points(20.18))[4] is True
    assert tr.large_scale(_ls_points(20.17))[4] is False


def test_large_scale_window_is_two_years_either_side():
    # a giant 1.9 years after 2018 is in the window and raises its mean: 2018 no longer stands out
    assert tr.large_scale(_ls_points(20.18, extra=(2019.9, 30.0)))[4] is False
    # 4.5 years after, it is outside the window, and itself has no two others within 2 years
    flags = tr.large_scale(_ls_points(20.18, extra=(2022.5, 30.0)))
    assert flags[4] is True and flags[-1] is False


def test_large_scale_needs_compute():
    pts = line(range(2000, 2010), 0.1)
    with pytest.raises(tr.InputError, match="--metric compute"):
        tr.analyse(tr.Data("params", "synthetic", pts, 10), large=True)


# ------------------------------------------------------------------------------------ gap

def test_gap_counts():
    # band [2e10, 7e10): width 3.5x; below [2e10/3.5, 2e10) = [5.714e9, 2e10),
    # above [7e10, 2.45e11). Ends: low inclusive, high exclusive.
    values = [1e9, 6e9, 1.9e10, 2e10, 5e10, 7e10, 2.4e11, 2.5e11]
    pts = [Point(f"m{i}", dt.date(2021, 1, 1), v) for i, v in enumerate(values)]
    pts.append(Point("old", dt.date(2019, 1, 1), 3e10))   # before --gap-since: not counted
    g = tr.gap(pts, 2e10, 7e10, since=dt.date(2020, 1, 1))
    assert g["systems"] == 8
    assert (g["below"]["n"], g["inside"]["n"], g["above"]["n"]) == (2, 2, 2)
    assert g["inside"]["names"] == ["m3", "m4"]
    assert g["below"]["low"] == pytest.approx(2e10 / 3.5)
    assert g["log10_width"] == pytest.approx(math.log10(3.5))


def test_parse_band():
    assert tr.parse_band("20e9,70e9") == (2e10, 7e10)
    assert tr.parse_band("20B,70B") == (2e10, 7e10)
    for bad in ("20e9", "70e9,20e9", "a,b", "1e9-2e9,5e9"):
        with pytest.raises(tr.InputError):
            tr.parse_band(bad)


# ---------------------------------------------------------------------------------- dates

@pytest.mark.parametrize("cell,first,last", [
    ("2022-01-31", "2022-01-31", "2022-01-31"),
    ("2022-01-31T00:00:00", "2022-01-31", "2022-01-31"),
    ("2022-01-31 00:00:00", "2022-01-31", "2022-01-31"),
    ("2022/01/31", "2022-01-31", "2022-01-31"),
    ("2022-01", "2022-01-01", "2022-01-31"),
    ("2022", "2022-01-01", "2022-12-31"),
    (2022, "2022-01-01", "2022-12-31"),
    ("31/01/2022", "2022-01-31", "2022-01-31"),
    ("01/31/2022", "2022-01-31", "2022-01-31"),
    ("January 31, 2022", "2022-01-31", "2022-01-31"),
    ("31 Jan 2022", "2022-01-31", "2022-01-31"),
    ("Feb 2020", "2020-02-01", "2020-02-29"),
    (dt.date(2020, 5, 28), "2020-05-28", "2020-05-28"),
])
def test_date_formats(cell, first, last):
    a, b = tr.date_range(cell)
    assert (a.isoformat(), b.isoformat()) == (first, last)


def test_year_only_dates_sit_at_the_mid_point():
    # 2021: 1 Jan + (364 days / 2) = 2 July
    assert tr.mid_date(*tr.date_range("2021")) == dt.date(2021, 7, 2)


@pytest.mark.parametrize("cell", ["03/04/2022", "2022-13-01", "2022-02-30", "soon", "Smarch 2020"])
def test_bad_dates(cell):
    with pytest.raises(tr.InputError):
        tr.date_range(cell)


def test_blank_dates():
    assert tr.date_range("") is None and tr.date_range(None) is None


# ---------------------------------------------------------------------- files and commands

HEADER = "Model,Domain,Publication date,Parameters,Training compute (FLOP),Notability criteria\n"


def _csv(tmp_path, rows, name="systems.csv"):
    p = tmp_path / name
    p.write_text(HEADER + "".join(rows), encoding="utf-8")
    return p


def _rows():
    # 2010..2019, params doubling every 12 months: 1e8 x 2^(year - 2010); compute blank twice
    out = []
    for i, y in enumerate(range(2010, 2020)):
        compute = "" if i in (3, 7) else f"{1e18 * 4 ** (y - 2010):.6e}"
        domain = '"Language,Vision"' if i % 2 else "Vision"
        notable = "Highly cited" if i < 8 else ""
        out.append(f"M{i},{domain},{y}-01-01,{1e8 * 2 ** (y - 2010):.6e},{compute},{notable}\n")
    out.append("NoDate,Language,,1e9,1e20,SOTA improvement\n")
    out.append('Bad,Language,2015-06-01,see paper,,\n')
    return out


def test_curator_file_counts_and_unchanged(tmp_path, cli):
    p = _csv(tmp_path, _rows())
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    code, out, err = cli("trends", p, "--metric", "compute")
    assert code == 0, err
    # the two blank compute cells and the row 'Bad' (its parameters unreadable, no compute)
    assert "3 rows without a training compute figure left out" in out
    assert "1 row without a publication date left out" in out
    # compute x4 a year: slope log10(4) = 0.60206: 6.0 months
    assert "  6.0  " in out
    code, out, err = cli("trends", p, "--json")
    doc = json.loads(out)
    # 10 rows have parameters and a date; 'see paper' is unreadable
    assert doc["fits"][0]["n"] == 10
    assert doc["input"]["skipped"] == {"without a publication date": 1,
                                       "with an unreadable parameters cell": 1}
    assert doc["fits"][0]["doubling_months"] == pytest.approx(12.0, rel=1e-9)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == before


def test_domains_notability_and_dates(tmp_path):
    p = _csv(tmp_path, _rows())
    # odd rows are "Language,Vision": 5 of the 10 dated rows with parameters
    res = tr.trends(p, domains=["language"])
    assert res.fits[0].n == 5
    res = tr.trends(p, notable_only=True)
    assert res.fits[0].n == 8 and res.data.excluded == {"without a notability criterion": 2}
    res = tr.trends(p, since="2012", until="2016")
    assert res.fits[0].n == 5      # 2012-01-01 .. 2016-12-31: 2012, 2013, 2014, 2015, 2016
    res = tr.trends(p, by_domain=True)
    assert {f.group: f.n for f in res.fits} == {"Vision": 10, "Language": 5}
    # the chosen domains name the group, and --by domain keeps to them
    assert tr.trends(p, domains=["language"]).fits[0].group == "language"
    res = tr.trends(p, domains=["language"], by_domain=True)
    assert {f.group: f.n for f in res.fits} == {"Language": 5}


def test_jsonl_input(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text("\n".join(json.dumps({"Model": f"m{y}", "Publication date": f"{y}-01-01",
                                       "Parameters": 10 ** (y - 2000)})
                           for y in range(2000, 2006)), encoding="utf-8")
    # 1 OOM a year: 12 x log10(2) = 3.61 months
    assert tr.trends(p).fits[0].doubling_months == pytest.approx(12 * LOG2, rel=1e-9)


def test_json_contract(tmp_path, cli):
    p = _csv(tmp_path, _rows())
    code, out, err = cli("trends", p, "--metric", "compute", "--json", "--large-scale",
                         "--gap", "1e19,1e20", "--gap-since", "2010", "--breaks", "2015-01-01")
    assert code == 0, err
    doc = json.loads(out)
    assert {"method", "fits", "breaks", "large_scale", "gap"} <= set(doc)
    for f in doc["fits"]:
        assert {"metric", "segment", "start", "end", "n", "slope_oom_per_year",
                "doubling_months", "ci", "ci_level", "r2"} <= set(f)
        assert len(f["ci"]) == 2 and f["ci_level"] == 0.95
    assert doc["breaks"][0] == {"kind": "given", "date": "2015-01-01"}
    assert isinstance(doc["large_scale"], list)
    # [1e19, 1e20) holds 1e18 x 4^2 = 1.6e19 (2012) and 4^3 = 6.4e19 (2013), whose compute
    # cell is blank; below [1e18, 1e19): 1e18 and 4e18; above [1e20, 1e21): 2.56e20 (2014 =
    # 4^4) and 1.024e21 is past it
    assert (doc["gap"]["below"]["n"], doc["gap"]["inside"]["n"], doc["gap"]["above"]["n"]) == (
        2, 1, 1)
    assert "log10" in doc["method"] and "bootstrap" in doc["method"]


def test_catalog_default_and_plot(tmp_path, cli):
    pytest.importorskip("matplotlib")
    png = tmp_path / "t.png"
    code, out, err = cli("trends", "--plot", png)
    assert code == 0, err
    assert "the catalog (archspecs/)" in out and "year's mid-point" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_api():
    from estimator import trends

    res = trends(metric="compute")
    assert res.fits[0].metric == "compute" and res.fits[0].n >= 3
    assert res.to_dict()["fits"][0]["n"] == res.fits[0].n


@pytest.mark.parametrize("args,message", [
    (["missing.csv"], "no such file"),
    (["--metric", "flops"], "--metric 'flops'"),
    (["--gap", "70e9,20e9"], "--gap"),
    (["--since", "someday"], "--since"),
    (["--breaks", ","], "--breaks"),
    (["--by", "year"], "--by 'year'"),
    (["--large-scale"], "--metric compute"),
    (["--plot", "out.pdf"], "must end in .png or .svg"),
    (["--plot", "no/such/dir/out.png"], "no such folder"),
    (["--since", "2030"], "no system"),
])
def test_bad_input_is_one_line_exit_2(args, message, cli, tmp_path):
    code, out, err = cli("trends", *args, cwd=tmp_path)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_bad_files(tmp_path, cli):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    nodate = tmp_path / "nodate.csv"
    nodate.write_text("Model,Parameters\nA,1e9\n")
    few = _csv(tmp_path, ["A,Language,2020-01-01,1e9,,\n", "B,Language,2021-01-01,1e10,,\n"],
               name="few.csv")
    nonotes = tmp_path / "nonotes.csv"
    nonotes.write_text("Model,Publication date,Parameters\nA,2020-01-01,1e9\n")
    for path, extra, message in [(empty, [], "empty"),
                                 (nodate, [], "no publication date column"),
                                 (few, [], "2 points, fewer than 3"),
                                 (few, ["--metric", "compute"], "no system"),
                                 (nonotes, ["--notable-only"], "Notability criteria")]:
        code, out, err = cli("trends", path, *extra)
        assert code == 2, (path, err)
        assert message in err and len(err.strip().splitlines()) == 1


def test_plot_never_lands_on_an_input(tmp_path, cli):
    p = _csv(tmp_path, _rows(), name="rows.svg")
    before = p.read_bytes()
    code, out, err = cli("trends", p, "--plot", p)
    assert code == 2 and "input file" in err
    assert p.read_bytes() == before


# ------------------------------------------------------- the papers, on the shared sample

needs_sample = pytest.mark.skipif(not SAMPLE.exists(),
                                  reason=f"the shared sample is not at {SAMPLE}")


@needs_sample
def test_sevilla_eras_on_the_sample():
    # Sevilla et al. 2022 (arXiv:2202.05924), Table 2: 21.3 months before 2010 (interval about
    # 17 to 29), 5.7 months 2010-2022 (about 4 to 9), 9.9 months for large-scale systems from
    # late 2015. Here: notable systems before February 2022, compute, the same eras.
    res = tr.trends(SAMPLE, metric="compute", notable_only=True, until="2022-01-31",
                    breaks=["2010-01-01"], large_scale=True, large_scale_since="2015-09-01")
    fits = {f.segment: f for f in res.fits}
    pre, dl = fits["before 2010-01-01"], fits["from 2010-01-01"]
    ls = fits["large-scale from 2015-09-01"]
    assert (pre.n, dl.n, ls.n) == (39, 174, 45)
    assert 18 <= pre.doubling_months <= 27 and round(pre.doubling_months, 1) == 22.7
    assert 4.5 <= dl.doubling_months <= 7.5 and round(dl.doubling_months, 1) == 5.9
    assert 7.5 <= ls.doubling_months <= 12.5 and round(ls.doubling_months, 1) == 9.6
    assert "GPT-3 175B (davinci)" in res.large_scale and "AlphaGo Master" in res.large_scale
    assert res.data.skipped == {"without a training compute figure": 644}
    # the break search, not told about 2010, puts the change of pace just before it
    b = tr.find_break(res.data.points, metric="compute")
    assert b.found and b.model == "kink" and b.date == "2008-02-22"
    assert round(b.delta_bic, 1) == 65.5


@needs_sample
def test_linear_space_fit_differs_on_the_sample():
    # docs/trends.md: 2010 to January 2022, notable, compute: 5.9 months in log space, 3.4 in
    # linear space (GPT-3, Gopher and their like decide it); parameters from 2018: 7.7 vs 11.0
    for metric, since, log_m, lin_m in (("compute", "2010", 5.9, 3.4),
                                        ("params", "2018", 7.7, 11.0)):
        data = tr.select(tr.load([SAMPLE], metric), notable_only=True,
                         since=tr.first_day(since, "since"),
                         until=tr.last_day("2022-01-31", "until"))
        assert round(tr.fit(data.points).doubling_months, 1) == log_m
        assert round(tr.doubling_months(tr.fit_linear_space(data.points)), 1) == lin_m


@needs_sample
def test_villalobos_parameters_on_the_sample():
    # Villalobos et al. 2022 (arXiv:2207.02852): 39.7 months 1952-2018, 4.0 months 2018-2022
    # (all domains); the scarcity of 20B-70B models since 2020.
    res = tr.trends(SAMPLE, metric="params", notable_only=True, until="2022-01-31",
                    breaks=["2018-01-01"])
    before, after = res.fits
    assert (before.n, after.n) == (89, 124)
    assert 25 <= before.doubling_months <= 45 and round(before.doubling_months, 1) == 33.1
    assert 3 <= after.doubling_months <= 10 and round(after.doubling_months, 1) == 7.7
    lang = tr.trends(SAMPLE, metric="params", notable_only=True, until="2022-01-31",
                     domains=["Language"], find_breaks=True)
    b = lang.breaks[0]
    assert "2016-01-01" <= b["date"] <= "2018-12-31"
    assert b["doubling_months_after"] < b["doubling_months_before"] / 3
    gap = tr.trends(SAMPLE, metric="params", notable_only=True, until="2022-06-30",
                    domains=["Language"], gap=(20e9, 70e9), gap_since="2020-01-01").gap
    assert (gap["below"]["n"], gap["inside"]["n"], gap["above"]["n"]) == (9, 3, 6)
    assert gap["inside"]["names"] == ["UL2", "GPT-NeoX-20B", "AlphaCode"]
    # on all domains the search prefers the slow early years to 2016-2018 (docs/trends.md)
    assert tr.find_break(res.data.points).date == "1993-02-15"
    # every system of the export from 2020 on: the gap has closed
    full = tr.trends(SAMPLE, metric="params", gap=(20e9, 70e9)).gap
    assert (full["below"]["n"], full["inside"]["n"], full["above"]["n"]) == (235, 73, 68)


def test_a_missing_extra_is_one_line_with_the_install_command(cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy", None)   # import scipy now raises ImportError
    code, out, err = cli("trends")
    assert code == 2 and len(err.strip().splitlines()) == 1
    from estimator.errors import install_hint

    # the install line for this kind of install (a clone: pip install -e '.[trends]')
    assert install_hint("trends") in err and "[trends]" in install_hint("trends")


def test_the_same_data_gives_the_same_svg(tmp_path, cli):
    pytest.importorskip("matplotlib")
    p = _csv(tmp_path, _rows())
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    for out in (a, b):
        code, _, err = cli("trends", p, "--by", "domain", "--breaks", "2015", "--plot", out)
        assert code == 0, err
    assert a.read_bytes() == b.read_bytes()


def test_text_report_prints_no_control_character_from_the_csv(tmp_path, cli):
    # the CSV's path heads the report and a system's name is listed among the large-scale
    # ones: every control character is shown as an escape (safety.printable)
    from estimator.safety import printable

    folder = tmp_path / "d\x1b[31m"
    folder.mkdir()
    evil = "EVIL\x1b[2J\u202eX"
    # 1e40 FLOP in 2015, about 20 OOM above the line of the others: a large-scale system
    p = _csv(folder, _rows() + [f"{evil},Language,2015-03-01,1e9,1e40,SOTA improvement\n"])
    code, out, err = cli("trends", p, "--metric", "compute", "--large-scale")
    assert code == 0, err
    assert not [c for c in out if (ord(c) < 0x20 and c != "\n") or c in "\x7f\u202e"]
    assert out.splitlines()[0].startswith(f"paramcount trends: {printable(str(p))}, ")
    assert printable(evil) in out
