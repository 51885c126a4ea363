"""Screenshots of the lab's five tabs for README (docs/img/lab_*.png), taken in headless Chromium after each
tab's default action, and the time from the click to the new image as a person sees it.

    python docs/scripts/lab_screenshots.py [--out=docs/img]      (~1 min on 2 CPU cores; needs .[lab] + chromium)
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from genvision.lab.serve import CHROMIUM, CHROMIUM_ARGS, running_lab


def click_until_new_image(page, button: str, image: str, timeout: float = 120.0) -> float:
    """Click #button, wait until #image shows a new src; seconds from the click to the image."""
    locator = page.locator(f"#{image} img")
    before = locator.first.get_attribute("src") if locator.count() else None
    t0 = time.perf_counter()
    page.locator(f"#{button}").click()
    while time.perf_counter() - t0 < timeout:
        if locator.count() and locator.first.get_attribute("src") not in (None, before):
            return time.perf_counter() - t0
        page.wait_for_timeout(20)
    raise TimeoutError(f"#{image} did not change after clicking #{button}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/img")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tabs = [
        ("cfg", "Classifier-free", [("cfg-run", "cfg-row")]),
        ("classifier", "Classifier guidance", [("cg-run", "cg-plot")]),
        ("pixelcnn", "PixelCNN", [("pcnn-run", "pcnn-heat")]),
        ("vqvae", "VQ-VAE", [("vq-encode", "vq-decoded"), ("vq-set", "vq-decoded"), ("vq-prior-run", "vq-prior"),
                             ("pvq-run", "pvq-image")]),
        ("dvae", "Discrete VAE", [("dvae-rows-run", "dvae-rows"), ("dvae-post-run", "dvae-bars")]),
    ]
    with tempfile.TemporaryDirectory() as tmp, running_lab(log=Path(tmp) / "lab.log", temp_dir=Path(tmp)) as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        for name, tab, actions in tabs:
            page.get_by_role("tab", name=re.compile(tab)).click()
            if name == "vqvae":  # the edit: cell (3, 2) <- code 9, through the row/col/code boxes
                for box, value in (("vq-row", 3), ("vq-col", 2), ("vq-code", 9)):
                    page.locator(f"#{box} input[type=number]").fill(str(value))
            for button, image in actions:
                seconds = click_until_new_image(page, button, image)
                print(f"{tab:22s} #{button:14s} {seconds:5.2f} s", flush=True)
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / f"lab_{name}.png"), full_page=True)
        browser.close()
    print(f"screenshots in {out}/lab_*.png")


if __name__ == "__main__":
    main()
