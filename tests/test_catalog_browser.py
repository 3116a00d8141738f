"""The catalog page as a person sees it: loaded from disk (file://) into headless Chromium.

Needs Debian's ``chromium`` and ``chromium-driver`` packages
(``apt-get install chromium chromium-driver``; .ci/run installs them) and selenium
(``pip install 'paramcount[browser]'``); without them these tests skip and say so. Each run
saves screenshots under pytest's temporary folder (its path is printed with ``-s``);
``PARAMCOUNT_SCREENSHOT=docs/catalog-page.png`` also writes the hover screenshot there.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from estimator.curation import catalog as cat

pytest.importorskip("plotly", reason="the page needs plotly: pip install 'paramcount[html]'")
pytest.importorskip("selenium", reason="browser tests need selenium: "
                    "pip install 'paramcount[browser]'")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import estimator  # noqa: E402
from estimator.report.catalog_html import page as make_page  # noqa: E402

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="no headless browser: install Debian's chromium and chromium-driver packages "
           "(apt-get install chromium chromium-driver)")

ENTRIES = cat.load_catalog()
ROWS = [e.to_row() for e in cat.select(ENTRIES)]     # the CLI's default order: by year
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000"]

# points of a chart: in its data (what plotly was asked to draw) and in the SVG (what it drew)
DATA_POINTS = """return document.getElementById(arguments[0]).data
    .filter(t => !arguments[1] || t.meta === arguments[1])
    .reduce((n, t) => n + t.x.length, 0);"""
DRAWN_POINTS = "#{} .scatterlayer path.point"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("catalog-page")


@pytest.fixture(scope="module")
def browser(shots):
    path = shots / "catalog.html"
    path.write_text(make_page(ROWS, version=estimator.__version__), encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.page_url = path.as_uri()
    yield driver
    driver.quit()


@pytest.fixture
def page(browser):
    """The page freshly loaded and drawn; after the test, no console errors."""
    browser.get(browser.page_url)
    WebDriverWait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, DRAWN_POINTS.format("compute-chart")))
    yield browser
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


# the rows a person sees, in order, read in the page in one script: the name cell's rendered
# text (innerText, what WebDriver's .text returns) of each row that is drawn (checkVisibility
# with opacity and visibility: not display:none, visibility:hidden or transparent, as
# WebDriver's is_displayed judges a row). Asking the driver per row cost three round trips
# each, some 10,000 for the suite, and most of the browser's CPU.
VISIBLE_NAMES = """return Array.from(document.querySelectorAll('#catalog-table tbody tr'))
    .filter(tr => tr.checkVisibility({opacityProperty: true, visibilityProperty: true}))
    .map(tr => tr.querySelector('td.name').innerText.split('\\n')[0]);"""


def visible_names(driver) -> list[str]:
    return driver.execute_script(VISIBLE_NAMES)


def drawn(driver, chart: str) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, DRAWN_POINTS.format(chart)))


def expect_shown(driver, chosen: list[cat.Entry]):
    """Table and both charts show exactly ``chosen``: a dot per total, one more per MoE
    active count, one per recomputed and one per published training compute."""
    rows = [e.to_row() for e in chosen]
    assert sorted(visible_names(driver)) == sorted(r["name"] for r in rows)
    assert driver.execute_script(DATA_POINTS, "params-chart", "total") == len(rows)
    assert drawn(driver, "params-chart") == len(rows) + sum(r["moe"] for r in rows)
    assert drawn(driver, "compute-chart") == sum(
        bool(r["training_compute"]) + bool(r["published_training_compute"]) for r in rows)
    assert driver.find_element(By.ID, "f-count").text == f"{len(rows)} of {len(ROWS)} systems"


def test_page_loads_without_errors_and_plots_every_row(page, shots):
    page.save_screenshot(str(shots / "catalog-page.png"))
    print(f"\nscreenshots in {shots}")
    assert page.execute_script(DATA_POINTS, "params-chart", None) == \
        len(ROWS) + sum(r["moe"] for r in ROWS)
    expect_shown(page, ENTRIES)
    assert f"Made by paramcount {estimator.__version__}" in page.page_source


def test_console_errors_are_seen(page):
    """The no-console-errors check can fail: an error the page logs reaches get_log."""
    page.execute_script("console.error('probe from the test')")
    logs = page.get_log("browser")     # read (and so cleared) here, before the fixture's check
    assert any(e["level"] == "SEVERE" and "probe from the test" in e["message"] for e in logs)


def test_domain_filter_changes_table_and_charts(page):
    select = Select(page.find_element(By.ID, "f-domain"))
    for domain in sorted({r["domain"] for r in ROWS}):
        select.select_by_value(domain)
        expect_shown(page, cat.select(ENTRIES, domain=domain))
    select.select_by_value("")
    expect_shown(page, ENTRIES)


def test_year_range_and_name_search(page):
    for box, year in (("f-from", 2020), ("f-to", 2023)):
        field = page.find_element(By.ID, box)
        field.clear()
        field.send_keys(str(year))
    expect_shown(page, cat.select(ENTRIES, since=2020, until=2023))
    page.find_element(By.ID, "f-reset").click()
    page.find_element(By.ID, "f-search").send_keys("LLaMA")
    chosen = cat.select(ENTRIES, query="llama")
    assert len(chosen) >= 6          # LLaMA 7B, 65B, Llama 2 70B, Llama 3 8B, 70B, 3.1 405B
    expect_shown(page, chosen)


def test_sorting_by_parameters_puts_the_largest_first(page):
    largest = max(ROWS, key=lambda r: r["params"])["name"]
    smallest = min(ROWS, key=lambda r: r["params"])["name"]
    header = page.find_element(By.CSS_SELECTOR, "#catalog-table th[data-key=params]")
    header.click()                   # numbers sort largest first on the first click
    names = visible_names(page)
    assert names[0] == largest and names[-1] == smallest
    assert header.get_attribute("aria-sort") == "descending"
    header.click()
    assert visible_names(page)[0] == smallest


def test_hovering_gpt3_shows_its_computed_count(page, shots):
    row = next(i for i, r in enumerate(ROWS) if r["name"] == "GPT-3 175B")
    trace, point = page.execute_script("""
        const data = document.getElementById('params-chart').data;
        for (let t = 0; t < data.length; t++) {
          const k = Array.from(data[t].customdata).indexOf(arguments[0]);
          if (data[t].meta === 'total' && k >= 0) return [t, k];
        }""", row)
    dot = page.find_elements(By.CSS_SELECTOR, "#params-chart .scatterlayer .trace")[trace] \
        .find_elements(By.CSS_SELECTOR, "path.point")[point]
    ActionChains(page).move_to_element(dot).perform()
    label = WebDriverWait(page, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#params-chart .hoverlayer .hovertext"))
    text = label[0].text
    page.save_screenshot(str(shots / "catalog-hover.png"))
    if os.environ.get("PARAMCOUNT_SCREENSHOT"):
        page.save_screenshot(os.environ["PARAMCOUNT_SCREENSHOT"])
    assert "GPT-3 175B" in text
    assert "174,604,259,328" in text          # the computed count, as the hover shows it
