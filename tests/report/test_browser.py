"""The page in a real browser, offline: every section and every plot renders, nothing is
fetched, every in-page link lands. Skips where Chromium is not installed (``.ci/run``
installs Debian's ``chromium``); leaves a screenshot for a person to look at."""

from __future__ import annotations

import pytest

from advisor.reporting import render
from tests.report import browser
from tests.report.test_report import SECTIONS

pytestmark = pytest.mark.skipif(
    browser.chromium() is None, reason="no Chromium on this machine (apt-get install chromium)"
)

FIGURES = ("loss_spread", "gradient_share", "curves", "metric")


def test_every_section_and_plot_renders_offline(full_report, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    page = render.write(full_report, folder / "report.html")
    seen = browser.check(page)
    assert list(seen["sections"]) == list(SECTIONS)
    for name, section in seen["sections"].items():
        assert section["height"] > 40 and section["text"] > 40, name
        assert section["heading"], name
    assert sorted(f["name"] for f in seen["figures"]) == sorted(FIGURES)
    for figure in seen["figures"]:
        assert figure["complete"] and figure["width"] > 300 and figure["height"] > 150, figure
        assert figure["shown"] > 300, figure  # laid out at a readable size, not collapsed
    assert seen["resources"] == []  # self-contained: nothing fetched
    assert seen["broken_links"] == []
    png = browser.screenshot(page, folder / "report.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    print(f"screenshot of the report: {png}")


def test_the_probe_sees_what_a_page_fetches(tmp_path):
    """The check above can fail: a page that loads from the network is caught."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<html><body><section data-section="x"><h2>x</h2>'
        '<img src="https://example.com/plot.png"><a href="#nowhere">x</a></section></body></html>',
        encoding="utf-8",
    )
    seen = browser.check(page)
    assert seen["resources"] == ["https://example.com/plot.png"]
    assert seen["figures"][0]["width"] == 0  # offline: the image never arrived
    assert seen["broken_links"] == ["#nowhere"]
