// The Content-Security-Policy in real Chromium: the public pages, the
// booking page and the staff pages load and run their scripts with no
// violation reported (no inline script, handler or style is left), and a
// page of the clinic refuses to be framed by another site.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { DESKTOP, LOGINS, checkPage, launchChromium, signIn, startRespite } from './support.js';

let server;
let browser;

before(
  async () => {
    server = await startRespite();
    browser = await launchChromium();
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('pages run under the Content-Security-Policy with no violation', { timeout: 120_000 }, async () => {
  const context = await browser.newContext({ baseURL: server.url, ...DESKTOP, timezoneId: 'America/Chicago' });
  try {
    const page = await context.newPage();
    const violations = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    await page.goto('/');
    // home.js ran: the visitor's zone is preselected.
    assert.equal(await page.inputValue('#time_zone'), 'America/Chicago');
    await checkPage(page);
    await page.goto('/consultations');
    // book.js ran: the page switched to the visitor's zone by itself.
    await page.waitForURL((url) => url.searchParams.get('time_zone') === 'America/Chicago');
    await checkPage(page);
    await page.goto('/staff/login');
    await checkPage(page);
    await signIn(page, LOGINS.admin);
    for (const path of ['/staff', '/staff/callbacks', '/staff/consultations', '/staff/schedule', '/staff/patients', '/staff/audit']) {
      const response = await page.goto(path);
      assert.equal(response.status(), 200, path);
      const headers = response.headers();
      assert.match(headers['content-security-policy'], /frame-ancestors 'none'/, path);
      assert.equal(headers['cache-control'], 'no-store', path);
      await checkPage(page);
    }
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation');

    // Another site cannot frame the clinic's pages.
    const framer = await context.newPage();
    const blocked = [];
    framer.on('console', (message) => blocked.push(message.text()));
    await framer.setContent(`<iframe src="${server.url}/staff/login"></iframe>`);
    await framer.waitForTimeout(1000);
    const frame = framer.frames().find((f) => f.url().includes('/staff/login'));
    const framedForm = frame ? await frame.locator('input[name=email]').count().catch(() => 0) : 0;
    assert.equal(framedForm, 0, 'the sign-in page must not render inside another site');
  } finally {
    await context.close();
  }
});
