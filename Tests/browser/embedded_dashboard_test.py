"""A real browser embeds the tenant dashboard: headless Chromium (Debian `chromium` + `chromium-driver`)
driven by Selenium opens a host page on another origin that puts `/embed/learning?token=...` in an
iframe, then checks the charts are drawn and no tenant identifier appears in any URL.

Run by scripts/run-client-tests.sh. Environment:
  DASHBOARD_BASE   e.g. http://127.0.0.1:8080 (the TenantScope server)
  EMBED_TOKEN      a tenant token minted with `tenantscope token --tenant SLUG`
  TENANT_ID, TENANT_SLUG   what must never appear in a URL
  SCREENSHOT       where to save the screenshot (PNG)
"""
import http.server
import os
import threading
import unittest

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["DASHBOARD_BASE"]
TOKEN = os.environ["EMBED_TOKEN"]
TENANT_ID = os.environ["TENANT_ID"]
TENANT_SLUG = os.environ["TENANT_SLUG"]
SCREENSHOT = os.environ["SCREENSHOT"]

HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Acme LMS</title>
<style>body{font-family:sans-serif;margin:0;background:#eef1f5}header{background:#1d2633;color:#fff;padding:10px 20px}
iframe{border:0;width:100%;height:1500px;background:#fff}</style></head>
<body><header>Acme LMS — Reports</header>
<iframe id="dashboard" title="Learning dashboard" src="{src}"></iframe></body></html>"""


class HostPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = HOST_PAGE.replace("{src}", "%s/embed/learning?token=%s" % (BASE, TOKEN)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class EmbeddedDashboardInChromium(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostPage)
        threading.Thread(target=cls.host.serve_forever, daemon=True).start()
        options = Options()
        options.binary_location = "/usr/bin/chromium"
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600"]:
            options.add_argument(flag)
        cls.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        cls.driver.set_page_load_timeout(600)  # only stops a hang; pages load in well under a second

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.host.shutdown()

    def test_the_embedded_dashboard_draws_its_charts_and_no_url_names_the_tenant(self):
        driver = self.driver
        driver.get("http://127.0.0.1:%d/" % self.host.server_address[1])
        WebDriverWait(driver, 30).until(EC.frame_to_be_available_and_switch_to_it((By.ID, "dashboard")))
        WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "cohort-comparison")))

        # Four panels; the line and the bars are drawn, each chart has a title and a data table.
        for panel in ["active-learners", "completion-rate", "time-to-complete", "cohort-comparison"]:
            self.assertTrue(driver.find_elements(By.ID, panel), panel)
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "#active-learners svg path.series"))
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "#completion-rate svg rect.bar"))
        self.assertGreaterEqual(len(driver.find_elements(By.CSS_SELECTOR, "svg title")), 3)
        self.assertGreaterEqual(len(driver.find_elements(By.CSS_SELECTOR, "details.data table")), 3)
        width = driver.execute_script("return document.querySelector('#active-learners svg').getBoundingClientRect().width")
        self.assertGreater(width, 200)

        # The token left the URL; no URL in the page (location, links, forms, resources) names the tenant.
        # Inside a frame, current_url is the top page's; the frame's own location comes from the document.
        frame_url = driver.execute_script("return document.location.href")
        urls = [frame_url] + driver.execute_script(
            "return [...document.querySelectorAll('[href],[src],[action]')]"
            ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))"
            ".concat(performance.getEntries().map(e => e.name))")
        self.assertTrue(frame_url.endswith("/dashboards/learning"), frame_url)
        for url in urls:
            self.assertNotIn("token=", url)
            self.assertNotIn(TENANT_ID, url)
            self.assertNotIn(TENANT_SLUG, url)

        # Filters change the view and keep the URL free of the tenant.
        driver.find_element(By.CSS_SELECTOR, "select[name=days] option[value='7']").click()
        driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
        WebDriverWait(driver, 30).until(lambda d: "days=7" in d.execute_script("return document.location.href"))
        self.assertNotIn(TENANT_ID, driver.execute_script("return document.location.href"))
        self.assertEqual(len(driver.find_elements(By.CSS_SELECTOR, "#active-learners svg circle.dot")), 7)

        driver.switch_to.default_content()
        driver.save_screenshot(SCREENSHOT)
        self.assertTrue(os.path.getsize(SCREENSHOT) > 10000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
