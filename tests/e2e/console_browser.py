#!/usr/bin/python3
"""Drives the web console (/console/) in headless Chromium through Selenium (Debian chromium,
chromium-driver, python3-selenium); run by tests/e2e/console_browser.sh, which starts the server
on a provisioned demo fleet and passes the tokens and ids.

Checks, in a real browser: sign-in with an SHO token, finding a device by its PCID, its jobs
(the demo's install job with result code 1200), a re-bootstrap, cancelling and retrying a queued
job, the live charts (SVG with data points from /metrics), another SHO's device refused (404),
the operator's audit log naming what happened, and that no page writes an error to the browser
console (CSP violations included). Screenshots and the browser log go to --out.
Exit status: 0 pass, 1 fail, 77 Chromium cannot start (skipped, with the reason printed).
"""
import argparse
import json
import os
import sys
import tempfile
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20  # seconds any one expected state may take (a busy 2-core machine)


class Failure(Exception):
    pass


class Console:
    def __init__(self, args, driver):
        self.a = args
        self.d = driver
        self.log = []  # every browser log entry, for the output folder

    # ------------------------------------------------------------------ helpers
    def wait(self, what, cond, timeout=WAIT):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda d: cond())
        except TimeoutException:
            self.shot('failure')
            raise Failure(f'timed out waiting for {what} (page {self.d.current_url})')

    def css(self, sel):
        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def one(self, sel):
        found = self.css(sel)
        return found[0] if found else None

    def text(self, sel):
        e = self.one(sel)
        return e.text if e else ''

    def shot(self, name, at=None):
        """A screenshot of the viewport: the top of the page, or element @p at scrolled to the top."""
        if at:
            self.d.execute_script('document.querySelector(arguments[0]).scrollIntoView()', at)
        else:
            self.d.execute_script('window.scrollTo(0, 0)')
        self.d.save_screenshot(os.path.join(self.a.out, name + '.png'))

    def browser_errors(self, page, allowed=()):
        """Fails on any SEVERE browser log entry since the last call, except those containing one of
        @p allowed (an answer the step expects, e.g. the 404 of a refused device)."""
        entries = self.d.get_log('browser')
        self.log.extend(dict(e, page=page) for e in entries)
        bad = [e for e in entries if e['level'] == 'SEVERE' and not any(s in e['message'] for s in allowed)]
        if bad:
            self.shot('failure')
            raise Failure(f'{page}: browser console errors: ' + '; '.join(e['message'] for e in bad))
        return entries

    def go(self, fragment):
        self.d.execute_script('location.hash = arguments[0]', fragment)

    def sign_in(self, token, who):
        self.d.get(self.a.url + '/console/')
        self.wait('the sign-in form', lambda: self.one('#token') and self.one('#token').is_displayed())
        self.one('#token').send_keys(token)
        self.one('#signin-button').click()
        self.wait(f'signed in as {who}', lambda: who in self.text('#who'))

    def sign_out(self):
        self.one('#signout').click()
        self.wait('the sign-in form again', lambda: self.one('#token').is_displayed())
        stored = self.d.execute_script('return sessionStorage.length')
        if stored != 0:
            raise Failure(f'sign-out left {stored} sessionStorage entries')

    def rows(self, table):
        return self.css(f'#{table} tbody tr')

    def view(self, fragment, ready_sel, page):
        """Opens #/fragment, waits for @p ready_sel, checks the browser log."""
        self.go(fragment)
        self.wait(f'{page} ({ready_sel})', lambda: self.one(ready_sel) is not None and
                  self.one('#view').get_attribute('data-view') == fragment.split('/')[1].split('?')[0])
        self.browser_errors(page)

    # ------------------------------------------------------------------ the scenario
    def run(self):
        a = self.a
        dev1_path = '/api/v1/devices/' + urllib.parse.quote(a.dev1, safe='')  # as encodeURIComponent

        # The sign-in page: no inline script, the CSP of the server, nothing logged.
        self.d.get(a.url + '/console/')
        self.wait('the sign-in form', lambda: self.one('#token') and self.one('#token').is_displayed())
        inline = self.d.execute_script('return document.querySelectorAll("script:not([src])").length')
        if inline:
            raise Failure(f'{inline} inline script(s) on the console page')
        self.shot('signin')
        self.browser_errors('sign-in page')

        # SHO A: its devices, one found by PCID, its jobs.
        self.sign_in(a.sho_a, 'SHO')
        self.wait('the device list', lambda: len(self.rows('devices')) == 2)
        self.browser_errors('devices (SHO)')
        self.shot('devices')
        q = self.one('#q')
        q.clear()
        q.send_keys(a.pcid1)
        self.one('#search').click()
        self.wait(f'the search for PCID {a.pcid1}', lambda: 'q=' + a.pcid1 in self.d.current_url and
                  [r.get_attribute('data-devid') for r in self.rows('devices')] == [a.dev1])
        self.browser_errors('device search')
        self.one('#devices a.devlink').click()
        self.wait(f'the jobs of {a.dev1}', lambda: any(r.get_attribute('data-state') == 'succeeded' and
                                                           r.find_element(By.CSS_SELECTOR, 'td.code').text == '1200'
                                                           for r in self.rows('jobs')))
        self.wait('the bootstrap history', lambda: len(self.rows('bootstraps')) >= 1)
        before = len(self.rows('bootstraps'))
        self.browser_errors('device page')

        # Action: re-bootstrap; its outcome and the new row of the bootstrap history.
        self.one('#rebootstrap').click()
        self.wait('the re-bootstrap outcome', lambda: self.text('#action-result') != '')
        outcome = self.text('#action-result')
        if not outcome.startswith('Re-bootstrap: accepted (202)'):
            raise Failure(f're-bootstrap outcome: {outcome!r}')
        self.wait('the re-bootstrap in the history', lambda: len(self.rows('bootstraps')) == before + 1 and
                  're-bootstrap' in self.rows('bootstraps')[0].text)
        self.browser_errors('re-bootstrap')
        self.shot('device')

        # Action: cancel the queued job of device 2, then retry it.
        self.go('#/device/' + urllib.parse.quote(a.dev2, safe=''))
        job_row = f'#jobs tbody tr[data-job="{a.job}"]'
        self.wait(f'job {a.job} with a Cancel button', lambda: self.one(job_row + ' button.cancel') is not None)
        self.one(job_row + ' button.cancel').click()
        self.wait('the cancel outcome', lambda: self.text('#action-result').startswith(f'Cancel job {a.job}: done (200)'))
        self.wait(f'job {a.job} cancelled', lambda: self.one(job_row) and
                  self.one(job_row).get_attribute('data-state') == 'cancelled')
        self.one(job_row + ' button.retry').click()
        self.wait('the retry outcome', lambda: self.text('#action-result').startswith(f'Retry job {a.job}: done (202)'))
        retried = self.text('#action-result')
        new_id = retried.split(' — job ')[1].split(' ')[0]
        self.wait(f'the new job {new_id}', lambda: self.one(f'#jobs tbody tr[data-job="{new_id}"]') is not None)
        self.browser_errors('cancel and retry')
        self.shot('jobs-actions', at='#jobs-section')

        # The other views an SHO has.
        self.view('#/jobs', '#jobs', 'jobs (SHO)')
        self.view('#/changes', '#changes', 'operator changes (SHO)')

        # Live charts: SVG with data points from /metrics (rates need two samples).
        self.view('#/charts', '#chart-jobs svg', 'charts')
        self.wait('3 data points in every series of every chart', lambda: all(
            len(self.css(f'#{c} svg circle.pt.s{i}')) >= 3 for c, n in (('chart-sessions', 2), ('chart-jobs', 4),
                                                                          ('chart-errors', 3)) for i in range(n)))
        def last(series):
            return [float(p.get_attribute('data-value')) for p in self.css(f'#chart-jobs svg circle.pt.{series}')][-1]
        if last('s0') < 2 or last('s3') < 1:
            raise Failure(f'the job outcome chart shows {last("s0")} succeeded (the demo made 2) and {last("s3")} '
                          'cancelled jobs (1 was cancelled)')
        self.browser_errors('charts')
        self.shot('charts')
        self.sign_out()

        # SHO B: its own device only; SHO A's device is refused (404), and the console says so.
        self.sign_in(a.sho_b, 'SHO')
        self.wait('SHO B\'s device list', lambda: [r.get_attribute('data-devid') for r in self.rows('devices')] ==
                  ['IMEI:990000000000001'])
        self.browser_errors('devices (SHO B)')
        self.go('#/devices?q=' + urllib.parse.quote(a.pcid1))
        self.wait('an empty search for SHO A\'s PCID', lambda: self.one('p#devices.empty') is not None)
        self.go('#/device/' + urllib.parse.quote(a.dev1, safe=''))
        self.wait('the refusal', lambda: '(404)' in self.text('#error'))
        entries = self.browser_errors('refused device', allowed=(dev1_path,))
        if not any(dev1_path in e['message'] and '404' in e['message'] for e in entries):
            raise Failure('the refused request is not the 404 of ' + dev1_path)
        if self.one('#rebootstrap') is not None or self.one('#jobs') is not None:
            raise Failure('the refused device page shows device data or actions')
        self.shot('refused')
        self.sign_out()

        # The operator: every device, every view, the audit log naming the refusal and the actions.
        self.sign_in(a.operator, 'operator')
        self.wait('every device', lambda: len(self.rows('devices')) == 3)
        self.browser_errors('devices (operator)')
        self.view('#/jobs', '#jobs tbody tr', 'jobs (operator)')
        self.view('#/changes', '#changes', 'operator changes (operator)')
        self.view('#/audit', '#audit tbody tr', 'audit log')
        actions = {r.get_attribute('data-action') for r in self.rows('audit')}
        for expected in ('device.refused', 'job.cancel', 'job.retry', 'drf.rebootstrap'):
            if not any(x and x.startswith(expected) for x in actions):
                raise Failure(f'the audit log has no {expected} entry: {sorted(x for x in actions if x)}')
        self.shot('audit')
        self.view('#/device/' + urllib.parse.quote(a.dev1, safe=''), '#jobs tbody tr', 'device page (operator)')
        self.view('#/charts', '#chart-sessions svg', 'charts (operator)')
        self.sign_out()
        self.browser_errors('signed out')


def main():
    p = argparse.ArgumentParser()
    for name in ('url', 'spki', 'out', 'sho-a', 'sho-b', 'operator', 'dev1', 'pcid1', 'dev2', 'job'):
        p.add_argument('--' + name, required=True)
    args = p.parse_args()
    profile = tempfile.mkdtemp(prefix='m2mdm-console-chromium-')
    opts = Options()
    opts.binary_location = '/usr/bin/chromium'
    for flag in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                 '--window-size=1200,800', '--no-first-run', '--disable-extensions', '--disable-sync',
                 '--disable-background-networking', '--disable-component-update', '--disable-default-apps',
                 f'--user-data-dir={profile}',
                 # Trust exactly the test server's key (the test PKI's CA is not in Chromium's store).
                 f'--ignore-certificate-errors-spki-list={args.spki}'):
        opts.add_argument(flag)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    service = Service('/usr/bin/chromedriver', log_path=os.path.join(args.out, 'chromedriver.log'))
    started = time.monotonic()
    try:
        driver = webdriver.Chrome(service=service, options=opts)
    except WebDriverException as e:
        print(f'SKIP: Chromium cannot start: {e.msg or e}')
        return 77
    print(f'chromium started in {time.monotonic() - started:.1f} s')
    console = Console(args, driver)
    try:
        driver.set_page_load_timeout(WAIT)
        console.run()
        print(f'PASS console in a real browser ({time.monotonic() - started:.1f} s)')
        return 0
    except (Failure, WebDriverException) as e:
        print(f'FAIL: {e}', file=sys.stderr)
        return 1
    finally:
        with open(os.path.join(args.out, 'browser-log.json'), 'w') as f:
            json.dump(console.log, f, indent=1)
        driver.quit()


if __name__ == '__main__':
    sys.exit(main())
