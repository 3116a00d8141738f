"""`paramcount catalog --html`: the catalog as one self-contained page (no browser needed here;
tests/test_catalog_browser.py opens the page in headless Chromium)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import estimator
from estimator.curation import catalog as cat

pytest.importorskip("plotly", reason="the page needs plotly: pip install 'paramcount[html]'")

from estimator.report import catalog_html  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ROWS = [e.to_row() for e in cat.select(cat.load_catalog())]   # the CLI's default order: by year


def _table_rows(page: str) -> list[str]:
    """The system names of the page's table, in order."""
    return re.findall(r'<td data-v="[^"]*" class="name">([^<]*)', page)


def test_cli_writes_a_self_contained_page_into_a_folder(cli, tmp_path):
    # the folder must exist, as for every output option (docs/limits.md, "Outputs")
    code, out, err = cli("catalog", "--html", tmp_path / "site")
    assert code == 2 and "does not exist" in err and not (tmp_path / "site").exists()
    (tmp_path / "site").mkdir()
    code, out, err = cli("catalog", "--html", tmp_path / "site")
    assert code == 0, err
    page = (tmp_path / "site" / "catalog.html").read_text()
    assert out.endswith(f"page written to {tmp_path / 'site' / 'catalog.html'}\n")
    assert "<script src=" not in page            # plotly.js inline: works offline, from file://
    assert "Plotly.newPlot" in page and page.count("Plotly.newPlot(") == 2
    assert f"Made by paramcount {estimator.__version__}" in page
    assert _table_rows(page) == [r["name"] for r in ROWS]


def test_cli_page_of_given_specs(cli, tmp_path):
    """A research group's own specs, as `paramcount catalog --html out.html my-specs/*.yaml`."""
    target = tmp_path / "mine.html"
    code, _, err = cli("catalog", "--html", target, ROOT / "archspecs" / "gpt3-175b.yaml",
                       ROOT / "archspecs" / "alexnet.yaml")
    assert code == 0, err
    page = target.read_text()
    assert _table_rows(page) == ["AlexNet", "GPT-3 175B"]    # sorted by year: 2012, 2020
    assert "of 2 systems" in page


def test_cli_html_bad_target(cli, tmp_path):
    code, out, err = cli("catalog", "--html", tmp_path / "page.txt")
    assert code == 2 and out == ""
    assert err == f"--html {tmp_path / 'page.txt'}: give a folder or a file name ending in .html\n"


def test_hover_text_of_gpt3():
    row = next(r for r in ROWS if r["name"] == "GPT-3 175B")
    text = catalog_html.hover_text(row)
    # 174,604,259,328 / 175e9 = 0.99774
    assert "params: 174,604,259,328 computed<br>published: 175,000,000,000 (ratio 0.9977)" in text
    assert "status: reproduced" in text
    assert "architecture: Brown et al." in text and "Table" in text  # the citation's locator
    assert "active params" not in text                               # dense: no active line
    assert "forward: " in text and "FLOP per token" in text


def test_hover_text_of_a_moe_system_shows_active_params():
    row = next(r for r in ROWS if r["name"] == "Mixtral 8x7B")
    assert f"active params (MoE): {row['active_params']:,}" in catalog_html.hover_text(row)
    assert row["active_params"] == 12_879_925_248


def test_systems_of_one_year_are_spread_apart():
    rows = [{"year": 2020}, {"year": 2020}, {"year": 2021}, {"year": None}, {"year": 2020}]
    # three in 2020 over SPREAD = 0.6: 2020 - 0.3, 2020 + 0, 2020 + 0.3; one alone stays put
    assert catalog_html._x_positions(rows) == [2019.7, 2020.0, 2021, None, 2020.3]


def test_every_row_is_plotted_once_as_a_total():
    fig_params, fig_compute = catalog_html.figures(ROWS)
    totals = [i for t in fig_params.data if t.meta == "total" for i in t.customdata]
    assert sorted(totals) == list(range(len(ROWS)))
    active = [i for t in fig_params.data if t.meta == "active" for i in t.customdata]
    assert sorted(active) == [i for i, r in enumerate(ROWS) if r["moe"]]
    recomputed = [i for t in fig_compute.data if t.meta == "recomputed" for i in t.customdata]
    assert sorted(recomputed) == [i for i, r in enumerate(ROWS) if r["training_compute"]]


def test_docs_catalog_html_is_generated():
    """docs/catalog.html is `paramcount catalog --html docs/` (regenerate it after changing a
    spec). Compared: its table and version; plotly.js itself varies with the installed plotly."""
    docs = (ROOT / "docs" / "catalog.html").read_text()
    assert catalog_html.table_html(ROWS) in docs, \
        "docs/catalog.html is stale: paramcount catalog --html docs/"
    assert f"Made by paramcount {estimator.__version__}" in docs
