"""The dashboard in a real browser (Debian's headless Chromium, driven by Playwright): during a running
campaign every plot renders and the page follows new observations; a recorded thin-film campaign
shows its diffraction patterns and absorption spectra and can be walked step by step; a four-element
campaign with a temperature draws its plane, slice and parallel coordinates, and the slice follows
two clicked points.
Screenshots are kept in test-artifacts/ (or $JUNKAN_TEST_ARTIFACTS)."""

import json
import os
import re
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml

from orchestrator.control_token import read_token
from tests.orchestrator.dashboard_server import dashboard_server, quick_campaign, run_with_dashboard
from tests.orchestrator.four_element_campaign import campaign as four_element_campaign
from tests.orchestrator.four_element_campaign import write_table

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(
    os.environ.get("JUNKAN_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
THIN_FILM = Path(__file__).resolve().parents[2] / "examples" / "thin-film.yaml"
MODEL_PLOTS = (
    "ternary-mean",
    "ternary-sd",
    "ternary-noise",
    "slice",
    "parallel",
    "objective-space",
    "progress",
)
PLOTS = (*MODEL_PLOTS, "xrd", "xafs")
# Chromium on a closed network: no background connections, no sandbox as root, no GPU
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (make test installs it)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function("document.body.dataset.drawnObservations !== undefined", timeout=60_000)
    return page, errors


def rendered(page, plots: tuple[str, ...] = PLOTS) -> dict[str, dict]:
    """Each plot: did plotly draw it (its SVG), for how many observations, with how many traces."""
    return page.evaluate(
        """ids => Object.fromEntries(ids.map(id => {
            const e = document.getElementById(id);
            return [id, {svg: !!e.querySelector('.main-svg'), rendered: Number(e.dataset.rendered),
                         traces: Number(e.dataset.traces), points: e.querySelectorAll('.point').length}];
        }))""",
        list(plots),
    )


def test_the_page_follows_a_running_campaign(browser, tmp_path):
    campaign = quick_campaign(
        budget=10,
        instrument={"realtime": True, "count_time_s": 1.0, "inject_faults": {"nan": 0.3}},
        faults={"reducer": {"action": "skip"}},
    )
    campaign_file = tmp_path / "campaign.yaml"
    campaign_file.write_text(yaml.safe_dump(campaign, sort_keys=False))
    store = tmp_path / "store"
    with run_with_dashboard(campaign_file, store) as (run, port):
        url = f"http://127.0.0.1:{port}/"
        page, errors = open_page(browser, url)
        page.wait_for_function("Number(document.body.dataset.drawnObservations) >= 1", timeout=60_000)
        first = int(page.evaluate("document.body.dataset.drawnObservations"))
        assert page.locator("#status").inner_text() == "running"
        # the page updates by itself (server-sent events), without a reload
        page.wait_for_function(
            f"Number(document.body.dataset.drawnObservations) >= {first + 2}", timeout=60_000
        )
        page.wait_for_function("Number(document.body.dataset.drawnObservations) >= 4", timeout=60_000)
        # between refreshes (the next may already be drawing the header), read the page at once
        drawn = page.wait_for_function(
            """() => document.body.dataset.refreshing === 'no' && [
                Number(document.body.dataset.drawnObservations),
                document.getElementById('budget').textContent]"""
        ).json_value()
        now = drawn[0]
        assert drawn[1] == f"{now} / 10"
        plots = rendered(page, MODEL_PLOTS)
        assert all(p["svg"] for p in plots.values()), plots
        # the quickstart's instrument keeps no patterns or spectra: no empty panels for them
        assert page.locator("#xrd").is_hidden() and page.locator("#xafs").is_hidden()
        assert plots["ternary-mean"]["traces"] == 3  # model mean, measured spots, pending
        assert plots["ternary-mean"]["points"] >= now  # measured spots and the model's grid drawn
        assert plots["objective-space"]["points"] >= now
        assert page.locator("#live").get_attribute("class") == "live on"
        rows = page.locator("#events tbody tr").count()
        assert rows > 4 * now
        page.wait_for_selector("#events tbody tr.fault", timeout=60_000)  # faults highlighted
        faults = page.locator("#events tbody tr.fault")
        assert faults.first.inner_text().split("\t")[2] == "Faulted"
        assert "reducer fault (skip" in faults.first.inner_text()
        assert page.locator("#faults").get_attribute("class") == "some"
        # realtime: true, so the header shows the measured duty cycle (once a step has recorded one)
        page.wait_for_function("document.getElementById('duty').textContent.endsWith(' %')", timeout=60_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-live.png"), full_page=True)
        assert errors == []
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        token = read_token(store)
        assert out.count(token) == 1  # printed once, when the campaign started
        assert re.search(rf"dashboard: http://127\.0\.0\.1:{port}/", out)
        page.close()


def test_a_recorded_thin_film_campaign_shows_spectra_and_walks_step_by_step(browser, tmp_path, junkan):
    campaign = yaml.safe_load(THIN_FILM.read_text())
    campaign.update(budget=5)
    campaign_file = tmp_path / "thin-film.yaml"
    campaign_file.write_text(yaml.safe_dump(campaign, sort_keys=False))
    result = junkan("run", campaign_file, "--store", tmp_path / "store")
    assert result.exit_code == 0, result.output
    with dashboard_server(tmp_path / "store") as url:
        page, errors = open_page(browser, url + "/")
        page.wait_for_function("document.getElementById('xafs').dataset.rendered === '5'", timeout=60_000)
        plots = rendered(page)
        assert all(p["svg"] for p in plots.values()), plots
        assert page.locator("#xrd").is_visible() and page.locator("#xafs").is_visible()
        assert plots["xrd"]["traces"] == 5 and plots["xafs"]["traces"] == 5  # one pattern per measurement
        assert page.locator("#status").inner_text() == "finished"
        assert page.locator("#live").get_attribute("class") == "live off"
        assert page.locator("#duty").inner_text() == "simulated time"  # not the computer's busy ratio
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-thin-film.png"), full_page=True)

        page.locator("#step").fill("2")  # the slider: the campaign as it was after 2 measurements
        page.wait_for_function("document.body.dataset.drawnObservations === '2'", timeout=60_000)
        page.wait_for_function("document.getElementById('xrd').dataset.rendered === '2'", timeout=60_000)
        assert page.locator("#step-label").inner_text() == "2 / 5"
        assert not page.locator("#follow").is_checked()
        plots = rendered(page)
        assert plots["xrd"]["traces"] == 2 and plots["xafs"]["traces"] == 2
        assert page.locator("#budget").inner_text() == "2 / 5"
        assert page.locator("#status").inner_text() == "running"  # as it was then
        assert page.locator("#events tbody tr").first.inner_text().split("\t")[2] == "Observed"
        page.screenshot(path=str(ARTIFACTS / "dashboard-step-2.png"), full_page=True)
        assert errors == []
        page.close()


def test_a_four_element_campaign_with_a_temperature_shows_its_plane_slice_and_every_condition(
    browser, tmp_path, junkan
):
    campaign_file = tmp_path / "four.yaml"
    campaign_file.write_text(yaml.safe_dump(four_element_campaign(write_table(tmp_path / "cocrfeni.csv"), 8)))
    assert junkan("run", campaign_file, "--store", tmp_path / "store").exit_code == 0
    with dashboard_server(tmp_path / "store") as url:
        page, errors = open_page(browser, url + "/")
        drawn = "ids => ids.every(id => document.getElementById(id).dataset.rendered === '{}')"
        page.wait_for_function(drawn.format(8), arg=list(MODEL_PLOTS), timeout=60_000)
        plots = rendered(page, MODEL_PLOTS)
        assert all(p["svg"] for p in plots.values()), plots
        model = httpx.get(url + "/api/model", timeout=60).json()
        n_grid = len(model["plane"]["a"])
        assert n_grid > 100
        for plane in ("ternary-mean", "ternary-sd"):  # the model's plane, the measured spots, pending
            assert plots[plane]["traces"] == 3 and plots[plane]["points"] >= n_grid + 8, plots
        assert plots["ternary-noise"]["points"] >= n_grid + 8
        assert (
            plots["slice"]["traces"] == 6 and plots["slice"]["points"] >= 2
        )  # mean, sd, noise; measured ends
        assert page.locator("#parallel").get_attribute("data-dimensions") == "6"  # Co Cr Fe Ni T hardness
        assert page.locator("#parallel").get_attribute("data-lines") == "8"
        assert page.locator("#parallel .parcoords .axis-title").count() == 6
        assert plots["objective-space"]["points"] == 8
        assert page.locator("#xrd").is_hidden() and page.locator("#xafs").is_hidden()  # a table keeps none
        assert page.locator("#plane-bar").is_visible()
        assert [page.locator(f"#corner-{c}").input_value() for c in "abc"] == ["Co", "Cr", "rest"]
        assert page.locator("#held").inner_text().startswith(f"held at T {model['plane']['held']['T']:.0f}")

        # the slice follows two clicked points of the model's plane (away from any measured spot)
        corners = np.column_stack([model["plane"][k] for k in "abc"])
        measured = np.column_stack([model["plane"]["measured"][k] for k in "abc"])
        clear = [  # inside the triangle (its edges are the plot's axes) and away from measured spots
            i
            for i in range(n_grid)
            if corners[i].min() >= 0.1 and np.abs(measured - corners[i]).sum(axis=1).min() > 0.15
        ]
        first = max(clear, key=lambda i: corners[i, 0])
        second = max(clear, key=lambda i: corners[i, 2])
        surface = page.locator("#ternary-mean .scatterlayer .trace").first.locator("path.point")
        for i in (first, second):
            box = surface.nth(i).bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(300)  # plotly finds the point under the pointer as it hovers
            page.mouse.down()
            page.mouse.up()
        page.wait_for_function("document.getElementById('slice').dataset.picks === '2'", timeout=30_000)
        expected = [{n: values[i] for n, values in model["grid"].items()} for i in (first, second)]
        page.wait_for_function(
            """want => {
                const ends = document.getElementById('slice').dataset.ends;
                const got = ends ? JSON.parse(ends) : [];
                return got.length === 2
                    && want.every((w, k) => Object.keys(w).every(n => got[k][n] === w[n]));
            }""",
            arg=expected,
            timeout=60_000,
        )
        ends = json.loads(page.locator("#slice").get_attribute("data-ends"))
        assert ends == expected
        ARTIFACTS.mkdir(exist_ok=True)  # the model's panels (the empty spectra panels are below them)
        page.mouse.move(0, 0)  # no hover label in the picture
        panels = page.locator("#parallel").bounding_box()
        page.screenshot(
            path=str(ARTIFACTS / "dashboard-four-elements.png"),
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1400, "height": panels["y"] + panels["height"] + 12},
        )

        # the step slider rewinds every panel, the slice between the same two points included
        page.locator("#step").fill("3")
        page.wait_for_function(drawn.format(3), arg=list(MODEL_PLOTS), timeout=60_000)
        assert page.locator("#parallel").get_attribute("data-lines") == "3"
        assert rendered(page, MODEL_PLOTS)["objective-space"]["points"] == 3
        assert json.loads(page.locator("#slice").get_attribute("data-ends")) == expected

        # other corners: Ni alone holds Fe at the spot; a corner named twice is refused, saying why
        page.locator("#corner-c").select_option("Ni")
        page.wait_for_function("document.getElementById('held').textContent.includes('Fe ')", timeout=60_000)
        titles = page.locator("#ternary-mean text.ctitle").text_content()
        assert titles == "Ni"
        page.locator("#corner-b").select_option("Co")
        page.wait_for_function(
            "document.getElementById('control-message').textContent.includes('in more than one corner')",
            timeout=60_000,
        )
        assert errors == []
        page.close()
