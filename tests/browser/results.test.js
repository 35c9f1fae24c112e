// The clinic-wide results page (SPEC §1 step 6) in real Chromium, on a phone
// (390×844) and a laptop (1280×800), against its own fresh `respite demo`
// clinic: a clinician reads the responder rates and the durability curves,
// narrows the period, and downloads a table as CSV; the page fits the
// screen, shows no raw code and passes axe. The front desk is refused.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import {
  DESKTOP,
  LOGINS,
  PHONE,
  artifactsDir,
  horizontalOverflow,
  inContext,
  launchChromium,
  signIn,
  startRespite,
} from './support.js';

let server;
let browser;

before(
  async () => {
    fs.mkdirSync(artifactsDir, { recursive: true });
    server = await startRespite();
    browser = await launchChromium();
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const [name, device] of [
  ['phone', PHONE],
  ['laptop', DESKTOP],
]) {
  test(`results on a ${name}: rates, curves with bands, period, CSV`, { timeout: 120_000 }, async () => {
    await inContext(browser, server.url, `results-${name}`, device, async ({ page, shot }) => {
      await signIn(page, LOGINS.clinician);
      await Promise.all([page.waitForURL('**/staff/results'), page.click('header.site nav a[href="/staff/results"]')]);
      await page.waitForSelector('h1:text("Clinic-wide results")');
      const rows = await page.locator('#responders-by-condition tbody tr').count();
      assert.ok(rows > 0, 'the demo has treated patients by condition');
      assert.ok((await page.locator('#responders-by-protocol tbody tr').count()) > 0);
      const charts = await page.locator('section.durability svg.chart').count();
      assert.ok(charts > 0, 'durability curves are drawn');
      assert.ok((await page.locator('section.durability svg.chart polygon.confidence').count()) > 0);
      assert.ok((await page.locator('figcaption.at-risk').first().innerText()).startsWith('Number at risk'));
      assert.equal(await horizontalOverflow(page), 0, 'the page fits the screen');
      await shot('all-time');

      // The period: first infusions from a date on.
      const first = await page.locator('#from').inputValue();
      assert.equal(first, '');
      await page.fill('#from', '2000-01-01');
      await Promise.all([page.waitForURL('**/staff/results?*'), page.click('#period button[type=submit]')]);
      assert.match(await page.locator('#period-words').innerText(), /on or after 2000-01-01/);
      await shot('period');

      // A table as CSV, with the period.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('a[href^="/staff/results.csv?table=durability-by-condition"]'),
      ]);
      const file = await download.path();
      const csv = fs.readFileSync(file, 'utf8');
      assert.match(csv.split('\r\n')[0], /^condition,day,at_risk,returned,censored,still_relieved,lower_95,upper_95$/);
      assert.ok(csv.split('\r\n').length > 2, 'the CSV holds the curves');
    });
  });
}

test('the front desk is refused the results', { timeout: 60_000 }, async () => {
  await inContext(browser, server.url, 'results-front-desk', DESKTOP, async ({ page }) => {
    await signIn(page, LOGINS.frontDesk);
    assert.equal(await page.locator('header.site nav a[href="/staff/results"]').count(), 0);
    const response = await page.goto('/staff/results');
    assert.equal(response.status(), 403);
  });
});
