"""The lab as a person uses it: `genvision lab` on a free local port, driven by headless Chromium (Debian's
package) through Playwright. Each tab: set a control, press its button, read back that an image appeared
and changed. No request may leave 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import re
import time

import pytest

from genvision.lab.serve import CHROMIUM, CHROMIUM_ARGS, running_lab

if importlib.util.find_spec("gradio") is None:  # the server imports it; this process need not
    pytest.skip("the lab's web dependencies are not installed (pip install -e '.[lab]')", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium for the lab's browser test (.ci/run installs it)")
    pytest.skip("no /usr/bin/chromium (apt-get install -y --no-install-recommends chromium)",
                allow_module_level=True)

TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    with running_lab(log=folder / "server.log", temp_dir=folder) as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    outside: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        pg = browser.new_page(viewport={"width": 1280, "height": 1000})
        pg.set_default_timeout(TIMEOUT_MS)
        pg.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
              else outside.append(r.url))
        pg.goto(server)
        pg.get_by_role("tab", name=re.compile("Classifier-free")).wait_for()
        yield pg
        browser.close()
    assert not outside, f"the page fetched from outside: {outside[:5]}"


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=re.compile(name)).click()


def image_src(page, elem_id: str) -> str | None:
    img = page.locator(f"#{elem_id} img")
    return img.first.get_attribute("src") if img.count() else None


def wait_image(page, elem_id: str, *, other_than: str | None = None) -> str:
    """Wait until #elem_id shows an image whose src differs from `other_than`; return that src."""
    deadline = time.time() + TIMEOUT_MS / 1000
    while time.time() < deadline:
        src = image_src(page, elem_id)
        if src and src != other_than:
            return src
        page.wait_for_timeout(100)
    raise AssertionError(f"#{elem_id} showed no new image within {TIMEOUT_MS / 1000:.0f} s")


def set_number(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def test_cfg_lambda_slider_changes_the_samples(page):
    open_tab(page, "Classifier-free")
    set_number(page, "cfg-steps", 4)  # the page, not the model's speed, is under test here
    page.locator("#cfg-run").click()
    first = wait_image(page, "cfg-grid")
    wait_image(page, "cfg-film")
    wait_image(page, "cfg-row")
    page.locator("#cfg-lambda input[type=range]").fill("0")
    sync_api.expect(page.locator("#cfg-conversion")).to_contain_text("w = λ − 1 = -1")
    page.locator("#cfg-run").click()
    wait_image(page, "cfg-grid", other_than=first)


def test_classifier_guidance_plots_p_y(page):
    open_tab(page, "Classifier guidance")
    set_number(page, "cg-steps", 4)
    page.locator("#cg-run").click()
    wait_image(page, "cg-grid")
    wait_image(page, "cg-plot")
    sync_api.expect(page.locator("#cg-text")).to_contain_text("s = 4")


def test_pixelcnn_occlude_and_complete(page):
    open_tab(page, "PixelCNN")
    set_number(page, "pcnn-rows", 10)
    set_number(page, "pcnn-n", 3)
    page.locator("#pcnn-run").click()
    first = wait_image(page, "pcnn-completions")
    wait_image(page, "pcnn-heat")
    sync_api.expect(page.locator("#pcnn-text")).to_contain_text("bottom 18 rows")
    set_number(page, "pcnn-index", 5)
    page.locator("#pcnn-run").click()
    wait_image(page, "pcnn-completions", other_than=first)


def test_vqvae_click_a_cell_to_edit_its_code(page):
    open_tab(page, "VQ-VAE")
    page.locator("#vq-encode").click()
    codes = wait_image(page, "vq-codes")
    decoded = wait_image(page, "vq-decoded")
    set_number(page, "vq-code", 9)
    img = page.locator("#vq-codes img").first
    box = img.bounding_box()
    # the map is 7x7 cells; click the centre of cell (row 3, column 2)
    img.click(position={"x": box["width"] * 2.5 / 7, "y": box["height"] * 3.5 / 7})
    wait_image(page, "vq-codes", other_than=codes)
    wait_image(page, "vq-decoded", other_than=decoded)
    sync_api.expect(page.locator("#vq-row input[type=number]")).to_have_value("3")
    sync_api.expect(page.locator("#vq-col input[type=number]")).to_have_value("2")
    page.locator("#vq-prior-run").click()
    wait_image(page, "vq-prior")
    page.locator("#pvq-run").click()
    wait_image(page, "pvq-book")


def test_dvae_empty_drawing_is_a_message_then_a_drawn_stroke_gets_its_posterior(page):
    open_tab(page, "Discrete VAE")
    page.locator("#dvae-source").get_by_text("my drawing").click()
    page.locator("#dvae-post-run").click()
    sync_api.expect(page.get_by_text("draw a digit first").first).to_be_visible()
    page.locator("#dvae-rows-run").click()
    wait_image(page, "dvae-rows")
    page.locator("#dvae-source").get_by_text("held-out digit").click()
    page.locator("#dvae-post-run").click()
    held_out = wait_image(page, "dvae-bars")
    # draw a vertical stroke with the brush and ask for its posterior
    sketch = page.locator("#dvae-draw")
    sketch.get_by_role("button", name="Brush").click()
    box = sketch.locator("canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy - 60)
    page.mouse.down()
    page.mouse.move(cx, cy + 60, steps=4)
    page.mouse.up()
    page.locator("#dvae-source").get_by_text("my drawing").click()
    page.locator("#dvae-post-run").click()
    wait_image(page, "dvae-bars", other_than=held_out)
    sync_api.expect(page.locator("#dvae-post-text")).to_contain_text("most likely component")
