#!/usr/bin/env python3
"""The search page of bin/searchd in Debian's headless Chromium.

Indexes the seed articles, starts searchd on a free loopback port, and
drives the page at / through chromedriver with the W3C WebDriver protocol
(plain HTTP + JSON, standard library only):

  1. types  ethical responsibility  into the search box: the results appear
     as one types, and the articles that hold the phrase (asked of
     bin/search, not written down here) are among them, each with a snippet
     in which both words are highlighted (<mark>) and stand together;
  2. types  "ethical responsibility"  (with the quotes, the query language's
     phrase): exactly those articles, in bin/search's order, each snippet
     with the phrase highlighted as one run; the time taken is shown;
  3. opens the first one: the article view shows its title and full text
     (as /doc returns it) with the phrase highlighted;
screenshots of the results and of the article go to $OUT.  Everything it
started is stopped at the end.

Environment: BINDIR (bin/index, bin/search, bin/searchd), SEEDS (the seed
articles), OUT (screenshots and logs), CHROMIUM, CHROMEDRIVER.
Exit status 0 when every check passed.
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BINDIR = os.environ.get("BINDIR", os.path.abspath("bin"))
SEEDS = os.environ.get("SEEDS", os.path.abspath("../shared/seeds"))
OUT = os.environ.get("OUT", os.path.abspath("build/web-test"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 30.0  # seconds for anything to appear
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # W3C element reference key

passed = 0


def check(cond, what):
    global passed
    if not cond:
        raise AssertionError(what)
    passed += 1
    print("ok   " + what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(method, url, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {url}: {e.code} {e.read()[:500]!r}") from None


def wait_until(fn, what, timeout=WAIT):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = fn()
            if last:
                return last
        except (OSError, RuntimeError) as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class WebDriver:
    """The few W3C WebDriver commands the test needs."""

    def __init__(self, port, user_data_dir):
        self.base = f"http://127.0.0.1:{port}"
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--window-size=1200,900", f"--user-data-dir={user_data_dir}"],
            },
        }}}
        self.sid = http_json("POST", self.base + "/session", caps)["value"]["sessionId"]

    def cmd(self, method, path, body=None):
        return http_json(method, f"{self.base}/session/{self.sid}{path}", body)["value"]

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    def find(self, css):
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def type(self, element, text):
        self.cmd("POST", f"/element/{element}/value", {"text": text})

    def clear(self, element):
        self.cmd("POST", f"/element/{element}/clear", {})

    def click(self, element):
        self.cmd("POST", f"/element/{element}/click", {})

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))

    def quit(self):
        http_json("DELETE", f"{self.base}/session/{self.sid}")


# What the page shows: every hit with its id, its title, its snippet's
# text, and the text of each highlighted run.
RESULTS_JS = """
return Array.from(document.querySelectorAll('#results li.hit')).map(li => ({
  id: li.dataset.id,
  title: li.querySelector('a.title').textContent,
  snippet: li.querySelector('.snippet').textContent,
  marks: Array.from(li.querySelectorAll('.snippet mark')).map(m => m.textContent)
}));
"""


def run(tmp):
    index = os.path.join(tmp, "index")
    subprocess.run([f"{BINDIR}/index", "-q", "-i", index, SEEDS], check=True)
    cli = subprocess.run([f"{BINDIR}/search", "-i", index, "--json", "--no-snippets",
                          '"ethical responsibility"'], check=True, capture_output=True, text=True)
    phrase_hits = [json.loads(line) for line in cli.stdout.splitlines()]
    want = [h["id"] for h in phrase_hits]
    check(len(want) == 3, f"bin/search finds the phrase in three seed articles: {want}")

    port_file = os.path.join(tmp, "port")
    server_log = open(os.path.join(OUT, "searchd.log"), "w")
    server = subprocess.Popen([f"{BINDIR}/searchd", "-i", index, "--port", "0",
                               "--port-file", port_file], stderr=server_log)
    driver_proc = browser = None
    try:
        port = int(wait_until(lambda: os.path.exists(port_file) and open(port_file).read(),
                              "searchd's port file"))
        site = f"http://127.0.0.1:{port}"
        health = http_json("GET", site + "/health")
        check(health["status"] == "ok" and health["documents"] == 5, "searchd is up")

        dport = free_port()
        driver_log = open(os.path.join(OUT, "chromedriver.log"), "w")
        driver_proc = subprocess.Popen([CHROMEDRIVER, f"--port={dport}"],
                                       stdout=driver_log, stderr=subprocess.STDOUT)
        wait_until(lambda: http_json("GET", f"http://127.0.0.1:{dport}/status", timeout=5)
                   ["value"]["ready"], "chromedriver")
        browser = WebDriver(dport, os.path.join(tmp, "chromium-profile"))
        browser.get(site + "/")
        box = browser.find("#q")

        # 1. The words, as a person would type them.
        browser.type(box, "ethical responsibility")
        shown = wait_until(lambda: (lambda r: r if set(want) <= {h["id"] for h in r} else None)(
            browser.js(RESULTS_JS)), "results for the typed words")
        for h in shown:
            if h["id"] not in want:
                continue
            marks = [m.lower() for m in h["marks"]]
            check("ethical" in marks and "responsibility" in marks
                  and "ethical responsibility" in " ".join(h["snippet"].lower().split()),
                  f"typed words: {h['id']} is shown with both words highlighted, together")
        status = browser.js("return document.getElementById('status').textContent")
        check(" ms" in status and "matching" in status, f"the time taken is shown: {status!r}")
        browser.screenshot(os.path.join(OUT, "results-words.png"))

        # 2. The phrase, in quotes.
        browser.clear(box)
        browser.type(box, '"ethical responsibility"')
        shown = wait_until(lambda: (lambda r: r if [h["id"] for h in r] == want else None)(
            browser.js(RESULTS_JS)), "exactly the phrase's articles")
        check([h["id"] for h in shown] == want, f"phrase: the page lists {want}, as bin/search")
        for h in shown:
            check("ethical responsibility" in [m.lower() for m in h["marks"]],
                  f"phrase: {h['id']}'s snippet highlights the phrase as one run")
        status = browser.js("return document.getElementById('status').textContent")
        check(status.startswith("3 matching documents of 5") and " ms" in status,
              f"phrase: the status line says so, with the time: {status!r}")
        browser.screenshot(os.path.join(OUT, "results-phrase.png"))

        # 3. The article view.
        browser.click(browser.find("#results li.hit a.title"))
        wait_until(lambda: browser.js(
            "return document.getElementById('article').className === 'open'"), "the article view")
        doc = http_json("GET", site + "/doc/" + urllib.parse.quote(want[0], safe=""))
        view = browser.js("""
          return {title: document.getElementById('art-title').textContent,
                  text: document.getElementById('art-text').textContent,
                  marks: Array.from(document.querySelectorAll('#art-text mark'))
                              .map(m => m.textContent.toLowerCase()),
                  meta: document.getElementById('art-meta').textContent};""")
        check(view["title"] == doc["title"], f"article: the title is {doc['title']!r}")
        check(view["text"] == doc["text"], "article: the whole stored text is shown")
        check("ethical responsibility" in view["marks"], "article: the phrase is highlighted")
        check(view["meta"].startswith(want[0]) and " ms" in view["meta"],
              f"article: id and time shown: {view['meta']!r}")
        shot = os.path.join(OUT, "article.png")
        browser.screenshot(shot)
        with open(shot, "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"screenshot saved: {shot}")
    finally:
        if browser:
            try:
                browser.quit()
            except (OSError, RuntimeError):
                pass
        if driver_proc:
            driver_proc.terminate()
            driver_proc.wait(timeout=30)
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
        server_log.close()
    check(code == 0, "searchd exits 0 on SIGTERM")


def main():
    os.makedirs(OUT, exist_ok=True)
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(tool):
            print(f"web-test: {tool} is missing (apt-get install chromium chromium-driver)",
                  file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="se_web_")
    try:
        run(tmp)
    except (AssertionError, RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print(f"FAIL {e}", file=sys.stderr)
        print(f"web: {passed} passed, 1 failed")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"web: {passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
