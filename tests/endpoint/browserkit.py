"""Headless Chromium for the browser tests: Debian's chromium and chromedriver, no downloads, a
fresh profile each time (so a new driver is a new session), optionally logging every request."""
import json
import shutil
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium(width: int = 1366, height: int = 900, *, log_network: bool = False):
    profile = tempfile.mkdtemp(prefix="peacegraph-chromium-")
    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    for binary in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if shutil.which(binary):
            options.binary_location = binary
            break
    if log_network:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_window_size(width, height)
    quit_driver = driver.quit

    def quit_and_clean():
        quit_driver()
        shutil.rmtree(profile, ignore_errors=True)
    driver.quit = quit_and_clean
    return driver


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call (needs log_network=True)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


_AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))),
  e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def axe_violations(driver) -> list[dict]:
    """What axe-core (server/static/vendor/axe.min.js, from npm) finds wrong with the page as it
    is now: [{id, impact, help, nodes}]; a failure to run is one critical violation."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("""
      const s = document.createElement('script'); s.src = '/static/vendor/axe.min.js';
      document.head.appendChild(s);""")
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return !!window.axe"))
    driver.set_script_timeout(60)
    return driver.execute_async_script(_AXE_RUN)
