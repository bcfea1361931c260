"""A real browser embeds the tenant dashboard: headless Chromium (Debian `chromium` + `chromium-driver`)
driven by Selenium opens a host page on another origin that puts `/embed/learning?token=...` in an
iframe, then checks the charts are drawn, no tenant identifier appears in any URL, and axe-core finds
no serious or critical accessibility violation on the dashboard, on the learner drill-down and on the
exports page a panel's "Export CSV" leads to.

Run by scripts/run-client-tests.sh. Environment:
  DASHBOARD_BASE      e.g. http://127.0.0.1:8080 (the TenantScope server)
  EMBED_TOKEN         a viewer token minted with `tenantscope token --tenant SLUG`
  EMBED_ADMIN_TOKEN   an admin token of the same tenant (`--role admin`)
  TENANT_ID, TENANT_SLUG   what must never appear in a URL
  SCREENSHOT          where to save the screenshot at 1280 px wide (PNG)
  SCREENSHOT_MOBILE   where to save the screenshot at 390 px wide (PNG)
  ATTACKER_LRS        KEY:SECRET of another tenant's LRS credential, which stores an HTML document

It also plays the attack a probe found (architecture decision 102): another tenant stores an xAPI document
that is a page with a script, and a form on a site of its own opens it on the server's origin through the
Alternate Request Syntax, in the browser that holds a dashboard session. The script must not run.
"""
import base64
import html
import http.server
import json
import os
import threading
import unittest
import urllib.parse
import urllib.request

import selenium_axe_python
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["DASHBOARD_BASE"]
TOKEN = os.environ["EMBED_TOKEN"]
ADMIN_TOKEN = os.environ["EMBED_ADMIN_TOKEN"]
TENANT_ID = os.environ["TENANT_ID"]
TENANT_SLUG = os.environ["TENANT_SLUG"]
SCREENSHOT = os.environ["SCREENSHOT"]
SCREENSHOT_MOBILE = os.environ["SCREENSHOT_MOBILE"]
ATTACKER_LRS = os.environ["ATTACKER_LRS"]

# axe-core as bundled by the selenium-axe-python wheel; WebDriver runs it whatever the page's CSP.
AXE_SOURCE = open(os.path.join(os.path.dirname(selenium_axe_python.__file__), "axe-core", "axe.min.js"), encoding="utf8").read()

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme LMS</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:0;background:#eef1f5}header{background:#1d2633;color:#fff;padding:12px 20px;font-weight:600}
iframe{display:block;border:0;width:100%;height:1500px;background:#fff}</style></head>
<body><header>Acme LMS — Reports</header>
<iframe id="dashboard" title="Learning dashboard" src="{src}"></iframe></body></html>"""


class HostPage(http.server.BaseHTTPRequestHandler):
    # Set when the stored document's script reached back to this server: the script ran.
    script_ran = threading.Event()
    # The attacker's page: a form that opens the stored document on the server's origin, submitted on load.
    attack_page = ""

    def do_GET(self):
        if self.path.startswith("/ran"):
            HostPage.script_ran.set()
            self.send_response(204)
            self.end_headers()
            return
        if self.path.startswith("/attack"):
            body = HostPage.attack_page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        token = ADMIN_TOKEN if self.path.startswith("/admin") else TOKEN
        body = HOST_PAGE.replace("{src}", "%s/embed/learning?token=%s" % (BASE, token)).encode()
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
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,1600"]:
            options.add_argument(flag)
        cls.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        cls.driver.set_page_load_timeout(600)  # only stops a hang; pages load in well under a second
        cls.driver.set_script_timeout(120)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.host.shutdown()

    def open_embedded(self, path="/"):
        driver = self.driver
        driver.switch_to.default_content()
        driver.get("http://127.0.0.1:%d%s" % (self.host.server_address[1], path))
        WebDriverWait(driver, 30).until(EC.frame_to_be_available_and_switch_to_it((By.ID, "dashboard")))
        WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "cohort-comparison")))

    def assert_accessible(self, what):
        """axe-core on the current document: no violation of impact serious or critical."""
        self.driver.execute_script(AXE_SOURCE)
        results = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(done, e => done({error: String(e)}));")
        self.assertNotIn("error", results, results.get("error"))
        violations = results["violations"]
        for violation in violations:
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:5]
            print("axe %s on %s: %s (%s): %s" % (violation["impact"], what, violation["id"], violation["help"], targets))
        blocking = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
        print("axe %s on %s: %d violations, %d serious or critical" % (results["testEngine"]["version"], what, len(violations), len(blocking)))
        self.assertEqual(blocking, [], "serious or critical accessibility violations on %s" % what)

    def screenshot(self, width, path):
        """The host page with the dashboard frame grown to its content, `width` px wide, whole."""
        driver = self.driver
        driver.switch_to.default_content()
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
        for _ in range(2):  # the frame's height depends on its width, and the page's on the frame's
            driver.switch_to.frame("dashboard")
            height = driver.execute_script("return document.documentElement.scrollHeight")
            overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            driver.switch_to.default_content()
            driver.execute_script("document.getElementById('dashboard').style.height = arguments[0] + 'px'", height)
        self.assertLessEqual(overflow, 0, "the dashboard is wider than %d px" % width)
        total = driver.execute_script("return document.documentElement.scrollHeight")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": total, "scale": 1}})
        with open(path, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.assertTrue(os.path.getsize(path) > 10000)

    def test_the_embedded_dashboard_draws_its_charts_and_no_url_names_the_tenant(self):
        driver = self.driver
        self.open_embedded()

        # Four panels; the line and the bars are drawn, each chart has a title and a data table.
        for panel in ["active-learners", "completion-rate", "time-to-complete", "cohort-comparison"]:
            self.assertTrue(driver.find_elements(By.ID, panel), panel)
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "#active-learners svg path.series"))
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "#completion-rate svg rect.bar"))
        self.assertGreaterEqual(len(driver.find_elements(By.CSS_SELECTOR, "svg title")), 3)
        self.assertGreaterEqual(len(driver.find_elements(By.CSS_SELECTOR, "details.data table")), 3)
        width = driver.execute_script("return document.querySelector('#active-learners svg').getBoundingClientRect().width")
        self.assertGreater(width, 200)
        # Headline figures above the charts; today is drawn dashed and named, not read as a drop.
        self.assertEqual(len(driver.find_elements(By.CSS_SELECTOR, ".kpis .kpi")), 5)
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "#active-learners svg path.series.partial"))

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

        self.assert_accessible("the viewer's dashboard")

        # Filters change the view and keep the URL free of the tenant.
        driver.find_element(By.CSS_SELECTOR, "select[name=days] option[value='7']").click()
        driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
        WebDriverWait(driver, 30).until(lambda d: "days=7" in d.execute_script("return document.location.href"))
        self.assertNotIn(TENANT_ID, driver.execute_script("return document.location.href"))
        self.assertEqual(len(driver.find_elements(By.CSS_SELECTOR, "#active-learners svg circle.dot")), 7)

    def test_an_admin_drills_down_from_a_course_to_its_learners(self):
        driver = self.driver
        self.open_embedded("/admin")
        self.assert_accessible("the admin's dashboard")
        self.screenshot(1280, SCREENSHOT)
        self.screenshot(390, SCREENSHOT_MOBILE)
        driver.switch_to.frame("dashboard")
        self.assert_accessible("the admin's dashboard at 390 px")

        links = driver.find_elements(By.CSS_SELECTOR, "#completion-rate a[href^='/dashboards/learning/enrollments']")
        self.assertTrue(links, "no course links to its learners")
        course = links[0].text
        links[0].click()
        WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "course-enrollments")))
        self.assertEqual(driver.find_element(By.TAG_NAME, "h1").text, course)
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "#course-enrollments tbody tr"))
        frame_url = driver.execute_script("return document.location.href")
        self.assertNotIn(TENANT_ID, frame_url)
        self.assertNotIn(TENANT_SLUG, frame_url)
        self.assert_accessible("the learner drill-down")

    def test_another_tenants_stored_html_document_runs_no_script_on_the_server_origin(self):
        driver = self.driver
        self.open_embedded("/admin")  # the victim's browser holds an admin dashboard session
        driver.switch_to.default_content()
        host = "http://127.0.0.1:%d" % self.host.server_address[1]
        # A synchronous request: had the script run, it reached this server before the page finished loading.
        script = ("<script>var x = new XMLHttpRequest(); x.open('GET', '%s/ran', false); try { x.send() } catch (e) {}</script>" % host)
        document = "<!doctype html><html><head><title>stored document</title></head><body>%s<p>stored</p></body></html>" % script
        address = {"activityId": "https://attacker.example/page", "agent": json.dumps({"mbox": "mailto:attacker@attacker.example"}),
                   "stateId": "page"}
        authorization = "Basic " + base64.b64encode(ATTACKER_LRS.encode()).decode()
        stored = urllib.request.urlopen(urllib.request.Request(
            BASE + "/xAPI/activities/state?" + urllib.parse.urlencode(address), data=document.encode(), method="PUT",
            headers={"Authorization": authorization, "X-Experience-API-Version": "1.0.3", "Content-Type": "text/html"}))
        self.assertEqual(stored.status, 204)
        fields = dict(address, **{"Authorization": authorization, "X-Experience-API-Version": "1.0.3"})
        inputs = "".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v)) for k, v in fields.items())
        HostPage.attack_page = ('<!doctype html><title>attacker</title><form id="f" method="POST" action="%s">%s</form>'
                                '<script>document.getElementById("f").submit()</script>'
                                % (html.escape(BASE + "/xAPI/activities/state?method=GET"), inputs))
        HostPage.script_ran.clear()
        driver.get(host + "/attack")
        WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(BASE + "/xAPI/activities/state"))
        # The document was opened (the browser shows its title), under a policy that ran none of its script.
        self.assertEqual(driver.title, "stored document")
        self.assertFalse(HostPage.script_ran.is_set(), "the stored document's script ran on the server's origin")

    def test_a_panel_is_exported_from_the_frame_and_listed_until_its_file_is_ready(self):
        driver = self.driver
        self.open_embedded()
        # A viewer exports a panel: the form posts inside the frame and lands on the exports page.
        driver.find_element(By.CSS_SELECTOR, "#cohort-comparison form.export button").click()
        WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "exports")))
        frame_url = driver.execute_script("return document.location.href")
        self.assertIn("/dashboards/exports", frame_url)
        self.assertNotIn(TENANT_ID, frame_url)
        self.assertNotIn(TENANT_SLUG, frame_url)
        self.assert_accessible("the exports page")
        # Asked to, the page reloads itself until serve's export worker has finished the job; then it stops
        # and links the file. (Reloading is the user's choice: axe-core's meta-refresh rule, WCAG 2.2.1.)
        driver.find_element(By.PARTIAL_LINK_TEXT, "Reload every").click()
        WebDriverWait(driver, 120, poll_frequency=1).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#exports a[href^='/exports/download/']"))
        self.assertFalse(driver.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]"))
        self.assert_accessible("the exports page with a finished export")
        # The way back keeps to the frame.
        driver.find_element(By.CSS_SELECTOR, "a.back").click()
        WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "cohort-comparison")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
