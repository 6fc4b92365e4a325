#!/usr/bin/env python3
"""The web pages (aftermath serve) in a real browser: headless Chromium
(Debian's chromium) driven through WebDriver (Debian's chromium-driver) by
the Selenium Python bindings (tests/browser/setup.sh installs them).

Against `serve` on the example store (examples/payments-latency.ndjson
replayed, plus a note whose summary is hostile markup) and on the
PagerDuty example (examples/pagerduty-pages.ndjson): every page loads
with its stylesheet under the CSP, the filters work from the form, an
incident opens with its draft, timeline picture, events and downloads,
the hostile note stays text (no dialog, no element, no CSP violation in
the console), an unknown incident is a 404 page and a bad parameter a 400
page naming it, and an open incident's page reloads by itself when an
event joins it (unless a correction form is being filled in: then it says
so instead). The example store's server has an edit token: sign in,
correct the title and mitigated_at from the incident's page (the reason
hostile markup, shown as text), see them in the incidents list, the
corrections history and the metrics; a bad time is a 400 naming it; add
an action item, see it on the action-items page, close it. Screenshots go to the artifacts directory.

usage: pages.py AFTERMATH EXAMPLES_DIR WORK_DIR PORT [--docs DIR]
  PORT, PORT+1 and PORT+2 are the ports of the three servers it starts
  (127.0.0.1 only). --docs DIR also writes the README's screenshot there.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def fail(msg):
    print("browser_pages: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
    if not os.access(path, os.X_OK):
        fail(f"{path} is missing: install the Debian package {pkg} (deploy/install-deps.sh)")
try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:
    fail(f"the Selenium client is missing ({e}): run tests/browser/setup.sh")

args = sys.argv[1:]
docs = None
if "--docs" in args:
    i = args.index("--docs")
    docs = args[i + 1]
    del args[i : i + 2]
if len(args) != 4:
    fail(__doc__)
aftermath, examples, work, port = args[0], args[1], args[2], int(args[3])
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
artifacts = os.path.join(work, "artifacts")
os.makedirs(artifacts)
servers = []


def run(*argv, stdin=None):
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr[-2000:]}")
    return r.stdout


def replay(db, *files, stdin=None):
    run(aftermath, "replay", "--db", db, *files, stdin=stdin)


def serve(db, p, token_file=None):
    out = open(os.path.join(work, f"serve-{p}.log"), "w")
    extra = ["--edit-token-file", token_file] if token_file else []
    proc = subprocess.Popen(
        [aftermath, "serve", "--db", db, "--listen", f"127.0.0.1:{p}", *extra],
        stdout=out, stderr=subprocess.STDOUT)
    servers.append(proc)
    base = f"http://127.0.0.1:{p}"
    for _ in range(200):  # up to 20 s for the server to listen
        if proc.poll() is not None:
            fail(f"serve on {db} exited {proc.returncode}: see {out.name}")
        try:
            urllib.request.urlopen(base + "/ui/static/aftermath.css", timeout=5).read()
            return base
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    fail(f"serve on port {p} did not answer")


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def check(cond, msg):
    if not cond:
        fail(msg)


def incident_ids(db):
    return [o["id"] for o in json.loads(run(aftermath, "incidents", "--db", db, "--format", "json"))]


# --- the stores ---------------------------------------------------------
story = os.path.join(work, "story.db")
replay(story, os.path.join(examples, "payments-latency.ndjson"))
hostile_note = json.dumps({
    "kind": "note", "at": "2025-03-11T10:12:00Z", "actor": "Mallory", "service": "payments",
    "environment": "prod", "labels": {"cluster": "us-east-1"}, "summary": HOSTILE})
replay(story, "-", stdin=hostile_note + "\n")
story_id = incident_ids(story)[0]
pd = os.path.join(work, "pagerduty.db")
replay(pd, os.path.join(examples, "pagerduty-pages.ndjson"))
pd_ids = incident_ids(pd)
check(len(pd_ids) >= 2, f"the PagerDuty example has {len(pd_ids)} incidents")
live = os.path.join(work, "live.db")
firing = {"kind": "alert", "name": "CheckoutDown", "starts_at": "2025-03-12T08:00:00Z",
          "labels": {"severity": "critical", "cluster": "us-east-1", "env": "prod",
                     "service": "checkout"}}
replay(live, "-", stdin=json.dumps(firing) + "\n")
live_id = incident_ids(live)[0]

# --- the browser ----------------------------------------------------------
opts = webdriver.ChromeOptions()
opts.binary_location = CHROMIUM
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
          "--window-size=1280,1000", "--no-first-run", "--disable-extensions",
          "--disable-background-networking"):
    opts.add_argument(a)
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
# An explicit driver path: Selenium skips Selenium Manager (which would
# download a driver); were it run anyway, it would be /bin/false and fail.
os.environ["SE_AVOID_STATS"] = "true"
os.environ["SE_MANAGER_PATH"] = "/bin/false"
driver = None
try:
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER,
                                              log_output=os.path.join(work, "chromedriver.log")),
                              options=opts)
    driver.set_page_load_timeout(60)
    console = []

    def logs():
        entries = driver.get_log("browser")
        console.extend(entries)
        return entries

    def no_alert(where):
        try:
            a = driver.switch_to.alert
            fail(f"{where}: an alert dialog opened: {a.text}")
        except NoAlertPresentException:
            pass

    def csp_violations(entries):
        return [e for e in entries if "Content Security Policy" in e.get("message", "")
                or "Content-Security-Policy" in e.get("message", "")]

    def shot(name):
        path = os.path.join(artifacts, name + ".png")
        driver.save_screenshot(path)
        return path

    def styled():
        # The stylesheet loaded under the CSP: the header is dark.
        bg = driver.find_element(By.TAG_NAME, "header").value_of_css_property("background-color")
        check(bg in ("rgba(36, 41, 47, 1)", "rgb(36, 41, 47)"), f"the stylesheet did not apply: {bg}")

    # The example store, with an edit token.
    token = "browser-edit-token-0123456789"
    token_file = os.path.join(work, "edit-token")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    base = serve(story, port, token_file)
    driver.get(base + "/")
    check(driver.current_url == base + "/ui/", f"/ did not lead to /ui/: {driver.current_url}")
    check(driver.title == "Incidents - aftermath", driver.title)
    styled()
    rows = driver.find_elements(By.CSS_SELECTOR, "#incidents tr td:first-child a")
    check([r.text for r in rows] == [story_id], f"incidents listed: {[r.text for r in rows]}")
    nav = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "header nav a")]
    check(nav == ["Incidents", "Open incidents", "Metrics", "Action items"], f"navigation: {nav}")
    for a in driver.find_elements(By.CSS_SELECTOR, "header nav a"):
        code, _, _ = status_of(a.get_attribute("href"))
        check(code == 200, f"navigation link {a.get_attribute('href')}: {code}")
    shot("incidents")

    # Filter from the form: a service that matches, one that does not, open only.
    driver.find_element(By.NAME, "service").send_keys("payments")
    driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
    WebDriverWait(driver, 30).until(lambda d: "service=payments" in d.current_url)
    check(driver.find_element(By.ID, "count").text.startswith("1 incident,"),
          driver.find_element(By.ID, "count").text)
    Select(driver.find_element(By.NAME, "status")).select_by_value("open")
    driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
    WebDriverWait(driver, 30).until(lambda d: "status=open" in d.current_url)
    check(driver.find_element(By.ID, "count").text == "0 incidents.",
          driver.find_element(By.ID, "count").text)
    driver.get(base + "/ui/?q=" + story_id[-6:].upper())
    check(driver.find_element(By.ID, "count").text.startswith("1 incident,"), "search by id")
    driver.get(base + "/ui/?since=2025-03-12T00:00:00Z")
    check(driver.find_element(By.ID, "count").text == "0 incidents.", "time filter")

    # Open the incident from the list.
    driver.get(base + "/ui/")
    driver.find_element(By.LINK_TEXT, story_id).click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("/ui/incidents/" + story_id))
    styled()
    no_alert("the incident page")
    h2 = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#draft h2")]
    for want in ("Incident Summary", "Timeline (UTC)", "Root Cause Analysis", "Impact Analysis",
                 "Lessons Learned", "Action Items"):
        check(want in h2, f"the draft has no '{want}' section: {h2}")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#draft figure svg rect")) >= 2,
          "the timeline picture has no bars")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#events tr")) >= 5, "the events table")
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#events a")]
    check(any(u.startswith("https://ci.example/") for u in links), f"event links: {links}")
    # The hostile note: text, not markup.
    cells = driver.find_elements(By.XPATH, f"//table[@id='events']//td[text()='{HOSTILE}']")
    check(len(cells) == 1 and cells[0].is_displayed(), "the hostile note is not shown as text")
    check(HOSTILE in driver.find_element(By.ID, "draft").text,
          "the hostile note is not in the draft's timeline as text")
    check(not driver.find_elements(By.CSS_SELECTOR, "img"), "an <img> element was created")
    scripts = [s.get_attribute("src") for s in driver.find_elements(By.TAG_NAME, "script")]
    check(scripts == [], f"a resolved incident's page has scripts: {scripts}")
    # Downloads: what `aftermath report --format` writes.
    dl = {a.text: a.get_attribute("href")
          for a in driver.find_elements(By.CSS_SELECTOR, ".downloads a")}
    check(sorted(dl) == ["HTML", "JSON", "Markdown", "Summary"], f"downloads: {sorted(dl)}")
    for label, fmt in (("Markdown", "md"), ("JSON", "json"), ("Summary", "summary"),
                       ("HTML", "html")):
        code, headers, body = status_of(dl[label])
        check(code == 200, f"{label} download: {code}")
        want = run(aftermath, "report", "--db", story, story_id, "--format", fmt)
        check(body.decode() == want, f"the {label} download differs from report --format {fmt}")
    shot("incident")
    time.sleep(0.5)
    v = csp_violations(logs())
    check(not v, f"CSP violations on the incident page: {v}")

    # Metrics, with a filter from the form.
    driver.get(base + "/ui/metrics")
    styled()
    check(len(driver.find_elements(By.CSS_SELECTOR, "#metrics svg")) >= 1, "no metrics chart")
    driver.find_element(By.NAME, "by").send_keys("rule")
    driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
    WebDriverWait(driver, 30).until(lambda d: "by=rule" in d.current_url)
    check("paging-outage" in driver.find_element(By.ID, "metrics").text, "metrics by rule")
    shot("metrics")

    # Errors: a 404 page and a 400 page naming the parameter.
    driver.get(base + "/ui/incidents/INC-19990101-none")
    check(driver.find_element(By.TAG_NAME, "h1").text == "No such incident", "404 page")
    check(status_of(base + "/ui/incidents/INC-19990101-none")[0] == 404, "404 status")
    driver.get(base + "/ui/?status=maybe")
    check("parameter 'status'" in driver.find_element(By.CLASS_NAME, "error").text, "400 page")
    code, headers, _ = status_of(base + "/ui/?status=maybe")
    check(code == 400, f"400 status: {code}")
    check(headers.get("Content-Security-Policy", "").startswith("default-src 'none'"),
          f"CSP header: {headers.get('Content-Security-Policy')}")
    driver.get(base + "/ui/?" + "%3Cimg%20src%3Dx%20onerror%3Dalert(3)%3E=1")
    no_alert("a hostile parameter name")
    check(not driver.find_elements(By.CSS_SELECTOR, "img"), "a parameter name became markup")

    # Corrections from the page: signed out, the form is refused.
    driver.get(base + "/ui/incidents/" + story_id)
    metrics_before = None
    driver.find_element(By.CSS_SELECTOR, "#correct-fields input[name=title]").send_keys("x")
    driver.find_element(By.CSS_SELECTOR, "#correct-fields input[name=actor]").send_keys("x")
    driver.find_element(By.CSS_SELECTOR, "#correct-fields button").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.TAG_NAME, "h1")
                                    and d.find_element(By.TAG_NAME, "h1").text == "Not signed in")
    driver.get(base + "/ui/metrics")
    metrics_before = driver.find_element(By.ID, "metrics").text
    check("24m" in metrics_before, "time to mitigate before the correction")
    # Sign in with a wrong token, then the right one.
    driver.get(base + "/ui/login")
    driver.find_element(By.NAME, "token").send_keys("not-the-token-0123456789")
    driver.find_element(By.CSS_SELECTOR, "form.edit button").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Not signed in")
    driver.get(base + "/ui/login")
    driver.find_element(By.NAME, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form.edit button").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url == base + "/ui/")

    def correct(fields, reason):
        driver.get(base + "/ui/incidents/" + story_id)
        form = driver.find_element(By.ID, "correct-fields")
        for name, value in fields.items():
            form.find_element(By.NAME, name).send_keys(value)
        form.find_element(By.NAME, "actor").send_keys("Ravi Patel")
        form.find_element(By.NAME, "reason").send_keys(reason)
        form.find_element(By.TAG_NAME, "button").click()

    # A bad time: a 400 page naming the field, nothing recorded.
    correct({"mitigated_at": "soon"}, "typo")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Not recorded")
    check("mitigated_at: 'soon' is not an RFC 3339 time" in
          driver.find_element(By.CLASS_NAME, "error").text, "the 400 page does not name the field")
    check(status_of(base + "/ui/incidents/" + story_id)[0] == 200, "the incident page")
    # The title and mitigated_at, with a hostile reason.
    correct({"title": "Payments DB pool exhausted", "mitigated_at": "2025-03-11T10:20:00Z"},
            HOSTILE)
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("#corrections"))
    no_alert("a correction's hostile reason")
    check(not driver.find_elements(By.CSS_SELECTOR, "img"), "a correction's reason became an <img>")
    hist = driver.find_elements(By.XPATH, f"//table[@id='history']//td[text()='{HOSTILE}']")
    check(len(hist) == 1 and hist[0].is_displayed(), "the reason is not shown as text")
    corrected = driver.find_element(By.ID, "corrected").text
    check("Payments DB pool exhausted" in corrected and "2025-03-11T10:20:00Z" in corrected
          and "2025-03-11T10:26:00Z" in corrected, f"the corrections table: {corrected}")
    shot("incident-corrected")
    driver.get(base + "/ui/")
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#incidents td.title")]
    check(titles == ["Payments DB pool exhausted"], f"the list's titles: {titles}")
    driver.get(base + "/ui/metrics")
    after = driver.find_element(By.ID, "metrics").text
    check(after != metrics_before and "18m" in after, "the metrics do not follow the correction")
    # The suspect deploy's verdict.
    driver.get(base + "/ui/incidents/" + story_id)
    form = driver.find_element(By.ID, "correct-suspect")
    deploys = [o.text for o in Select(form.find_element(By.NAME, "suspect")).options]
    check(deploys == ["payments-api@3.14.0"], f"the suspects to judge: {deploys}")
    Select(form.find_element(By.NAME, "verdict")).select_by_value("confirmed")
    form.find_element(By.NAME, "actor").send_keys("Ravi Patel")
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("#corrections"))
    check("Verdict: confirmed (corrected by Ravi Patel" in driver.find_element(By.ID, "draft").text,
          "the draft does not show the verdict")
    # An action item: added, listed, closed.
    driver.get(base + "/ui/incidents/" + story_id)
    form = driver.find_element(By.ID, "action-add")
    form.find_element(By.NAME, "task").send_keys("Alert on pool saturation")
    form.find_element(By.NAME, "owner").send_keys("Jane Doe")
    form.find_element(By.NAME, "due").send_keys("2099-01-31")
    form.find_element(By.NAME, "actor").send_keys("Ravi Patel")
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("#actions"))
    items = driver.find_element(By.ID, "action-items").text
    check("AI-1 open Alert on pool saturation Jane Doe" in items, f"the action items: {items}")
    driver.get(base + "/ui/actions?status=open")
    check(driver.find_element(By.ID, "count").text == "1 action item.", "the open action items")
    driver.find_element(By.CSS_SELECTOR, "#items a").click()
    WebDriverWait(driver, 30).until(lambda d: "/ui/incidents/" in d.current_url)
    form = driver.find_element(By.ID, "action-done")
    form.find_element(By.NAME, "actor").send_keys("Jane Doe")
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("#actions"))
    check("AI-1 done" in driver.find_element(By.ID, "action-items").text, "the item is not done")
    check(not driver.find_elements(By.ID, "action-done"), "a done item can still be closed")
    driver.get(base + "/ui/actions?status=done")
    check(driver.find_element(By.ID, "count").text == "1 action item.", "the done action items")
    shot("actions")
    got = json.loads(run(aftermath, "actions", "--db", story, "--format", "json"))
    check([(a["item"], a["status"], a["owner"]) for a in got] == [("AI-1", "done", "Jane Doe")],
          f"aftermath actions: {got}")
    # Signed out, the forms are refused again.
    driver.get(base + "/ui/incidents/" + story_id)
    driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url == base + "/ui/")
    correct({"title": "after signing out"}, "no")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Not signed in")

    # The PagerDuty example.
    pbase = serve(pd, port + 1)
    driver.get(pbase + "/ui/")
    got = sorted(r.text for r in driver.find_elements(By.CSS_SELECTOR,
                                                      "#incidents tr td:first-child a"))
    check(got == sorted(pd_ids), f"PagerDuty incidents: {got} != {sorted(pd_ids)}")
    shot("pagerduty-incidents")
    for i in pd_ids:
        driver.get(pbase + "/ui/incidents/" + i)
        check("Timeline (UTC)" in driver.find_element(By.ID, "draft").text, f"{i}: no draft")
        no_alert(i)
    shot("pagerduty-incident")

    # Live: an open incident's page reloads when an event joins it.
    lbase = serve(live, port + 2)
    driver.get(lbase + "/ui/incidents/" + live_id)
    check(driver.find_element(By.ID, "live").is_displayed(), "no live marker on an open incident")
    before = len(driver.find_elements(By.CSS_SELECTOR, "#events tr"))
    driver.execute_script("document.body.setAttribute('data-before', '1')")
    joined = dict(firing, name="CheckoutErrors", starts_at="2025-03-12T08:03:00Z")
    replay(live, "-", stdin=json.dumps(joined) + "\n")
    WebDriverWait(driver, 60, poll_frequency=0.5).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#events tr")) > before)
    check(driver.execute_script("return document.body.getAttribute('data-before')") is None,
          "the events changed without a reload")
    check("CheckoutErrors" in driver.find_element(By.ID, "events").text, "the joined alert")
    shot("live-incident")
    # With edits on, a half-filled form is not reloaded away: the page
    # says new events arrived instead.
    for p in servers[-1:]:
        p.terminate()
        p.wait(timeout=10)
    lbase = serve(live, port + 2, token_file)
    driver.get(lbase + "/ui/incidents/" + live_id)
    driver.execute_script("document.body.setAttribute('data-before', '1')")
    driver.find_element(By.CSS_SELECTOR, "#correct-fields input[name=title]").send_keys("typing")
    joined = dict(firing, name="CheckoutSlow", starts_at="2025-03-12T08:04:00Z")
    replay(live, "-", stdin=json.dumps(joined) + "\n")
    WebDriverWait(driver, 60, poll_frequency=0.5).until(
        lambda d: "new events" in d.find_element(By.ID, "live").text)
    check(driver.execute_script("return document.body.getAttribute('data-before')") == "1",
          "the page reloaded under a half-filled form")
    check(driver.find_element(By.CSS_SELECTOR, "#correct-fields input[name=title]")
          .get_attribute("value") == "typing", "the form lost its text")

    v = csp_violations(logs())
    check(not v, f"CSP violations: {v}")
    severe = [e for e in console if e.get("level") == "SEVERE"
              and "favicon.ico" not in e.get("message", "")
              and "the server responded with a status of 40" not in e.get("message", "")]
    check(not severe, f"console errors: {severe}")
    if docs:
        driver.get(base + "/ui/incidents/" + story_id)
        driver.set_window_size(1280, 900)
        driver.save_screenshot(os.path.join(docs, "pages-incident.png"))
        driver.get(base + "/ui/incidents/" + story_id + "#corrections")
        driver.save_screenshot(os.path.join(docs, "pages-corrections.png"))
    print(f"browser_pages: ok ({len(os.listdir(artifacts))} screenshots in {artifacts})")
finally:
    if driver:
        driver.quit()
    for p in servers:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
