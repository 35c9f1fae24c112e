// Outcomes per patient against a fresh `respite demo` clinic. A clinician
// opens the Outcomes tab of a demo patient whose relief faded (printed by
// the demo at start) on a laptop and on a phone: a trajectory per score
// drawn as SVG with its title and description, the verdicts beside it, the
// table and its CSV. The demo's portal patient (RSP-001000, a responder),
// invited by a nurse, reads their own progress in plain words on a phone and
// at 200 % zoom. Every page is checked for internal codes, with axe-core, and
// for sideways scrolling.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  DESKTOP,
  LOGINS,
  PHONE,
  artifactsDir,
  atZoom200,
  checkPage,
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

/** The demo's log as printed so far. */
function demoLog() {
  return fs.readFileSync(path.join(artifactsDir, 'respite.log'), 'utf8');
}

/** The MRN the demo printed for a course, e.g. "relief fades". */
async function showcase(course) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const match = new RegExp(`^\\s+(RSP-\\d+) .*${course}`, 'm').exec(demoLog());
    if (match) return match[1];
    if (Date.now() > deadline) throw new Error(`the demo named no patient whose ${course}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function openOutcomes(page, mrn) {
  await page.goto(`/staff/patients?q=${mrn}`);
  await Promise.all([page.waitForURL(/\/staff\/patients\/\d+$/), page.locator('#patients tbody tr a').first().click()]);
  await Promise.all([page.waitForURL(/\/outcomes$/), page.click('nav.chart-tabs a:has-text("Outcomes")')]);
}

test('a clinician reads a faded responder\'s trajectories on a laptop and a phone', { timeout: 180_000 }, async () => {
  const mrn = await showcase('relief fades');
  for (const [name, device] of [['laptop', DESKTOP], ['phone', PHONE]]) {
    await inContext(browser, server.url, `outcomes-staff-${name}`, device, async ({ page, shot }) => {
      await signIn(page, LOGINS.clinician);
      await openOutcomes(page, mrn);
      const pain = page.locator('section.trajectory#nrs-pain-score');
      await pain.waitFor();
      // The chart: an SVG with a title and a description, the scores, the
      // infusions and the baseline and IMMPACT lines.
      const svg = pain.locator('svg.chart');
      assert.match(await svg.locator('title').first().textContent(), /Pain intensity \(NRS\).* over time/);
      assert.match(await svg.locator('desc').textContent(), /scores plotted; baseline .* 6 infusions marked/);
      assert.equal(await svg.locator('line.marker.infusion').count(), 6);
      assert.equal(await svg.locator('line.reference.baseline').count(), 1);
      assert.equal(await svg.locator('line.reference.threshold').count(), 2);
      assert.match(await pain.locator('dd.durability').textContent(), /relief lasted \d+ days?; pain returned above the 30 % line/);
      assert.match(await pain.locator('dd.baseline').textContent(), /the mean of \d+ scores in the 14 days before the first infusion/);
      assert.match(await page.textContent('main'), /Safety status unknown \(item 9 not answered\)/);
      assert.equal(await horizontalOverflow(page), 0, `no sideways scrolling on the ${name}`);
      await shot('outcomes');
      const csv = await page.request.get(await page.getAttribute('#outcomes-csv', 'href'));
      assert.equal(csv.status(), 200);
      assert.match(await csv.text(), /^kind,time,instrument,scale/);
    });
  }
});

test('the portal patient reads their own progress in plain words on a phone', { timeout: 300_000 }, async () => {
  const outbox = await (async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const match = /e-mail outbox: (.+)$/m.exec(demoLog());
      if (match) return match[1].trim();
      if (Date.now() > deadline) throw new Error('the demo named no e-mail outbox');
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await inContext(browser, server.url, 'outcomes-invite', DESKTOP, async ({ page }) => {
    await signIn(page, LOGINS.nurse);
    await page.goto('/staff/patients?q=RSP-001000');
    await Promise.all([page.waitForURL(/\/staff\/patients\/\d+$/), page.locator('#patients tbody tr a').first().click()]);
    await Promise.all([page.waitForURL(/invited=1/), page.click('button:has-text("Send the invitation")')]);
  });
  const link = await (async () => {
    const deadline = Date.now() + 75_000;
    for (;;) {
      const files = fs.existsSync(outbox) ? fs.readdirSync(outbox).filter((f) => f.startsWith('portal-link-')) : [];
      if (files.length > 0) return /\/portal\/link\?token=[0-9a-f]{64}/.exec(fs.readFileSync(path.join(outbox, files[0]), 'utf8'))[0];
      if (Date.now() > deadline) throw new Error(`no portal e-mail in ${outbox}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await inContext(browser, server.url, 'outcomes-patient', PHONE, async ({ page, shot }) => {
    await page.goto(link);
    await Promise.all([page.waitForURL((u) => u.pathname === '/portal/'), page.click('button:has-text("Sign in")')]);
    await Promise.all([page.waitForURL((u) => u.pathname === '/portal/progress'), page.click('#progress-link')]);
    const sentence = await page.locator('.progress-sentence').first().textContent();
    assert.match(sentence, /^Your pain is \d+ % lower than before your first infusion\.$/);
    assert.match(await page.textContent('main'), /Your low-mood score is/);
    assert.ok((await page.locator('svg.chart').count()) >= 3, 'a chart per thing measured');
    assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling at 390 px');
    await shot('progress');
    await page.screenshot({ path: path.join(artifactsDir, 'outcomes-patient--top.png') });
    await page.locator('.progress-topic').first().screenshot({ path: path.join(artifactsDir, 'outcomes-patient--pain.png') });
    // 200 % zoom on this phone: a 195 CSS px wide viewport.
    await atZoom200(browser, page, async (zoomed) => {
      assert.equal(await horizontalOverflow(zoomed), 0, 'readable at 200 % zoom');
      await zoomed.screenshot({ path: path.join(artifactsDir, 'outcomes-patient--zoom-200.png'), fullPage: true });
      await checkPage(zoomed, 'progress at 200 % zoom');
    });
  });
});
