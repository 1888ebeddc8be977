"""Debian's chromium, headless, driven by playwright (its own browser download is not available
offline): for the page's tests and the web benchmark."""
from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# No network here or on a stage laptop: the flags stop chromium's background connections.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def launch(playwright):
    """A headless chromium; RuntimeError naming the package when there is none."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
