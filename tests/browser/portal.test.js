// The patient portal on a phone (390×844) against a fresh `respite demo`
// clinic: a nurse invites the demo patient RSP-001000 by e-mail from the
// chart; the demo has no mail server, so the job that makes the single-use
// link writes the e-mail to the demo's outbox folder (named on the demo's
// output), where this test reads the link (the Rust tests cover the real
// SMTP path of the job queue). The patient signs in from the link, answers
// the PHQ-9 one question per screen, leaves halfway and resumes at the first
// unanswered question, answers item 9 with 1 and sees crisis resources at
// once; a clinician sees the alert counted in the navigation and
// acknowledges it with the action taken. Every portal page is checked for
// internal codes and with axe-core.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  DESKTOP,
  LOGINS,
  PHONE,
  artifactsDir,
  assertAccessible,
  assertNoRawCodes,
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

/** The demo's outbox folder, from the lines it printed at start. */
async function outboxDir() {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const log = fs.readFileSync(path.join(artifactsDir, 'respite.log'), 'utf8');
    const match = /e-mail outbox: (.+)$/m.exec(log);
    if (match) return match[1].trim();
    if (Date.now() > deadline) throw new Error('the demo named no e-mail outbox');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The sign-in link of the first portal e-mail in the outbox (the job queue runs every 30 s). */
async function linkFromOutbox(dir) {
  const deadline = Date.now() + 75_000;
  for (;;) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('portal-link-')) : [];
    if (files.length > 0) {
      const text = fs.readFileSync(path.join(dir, files[0]), 'utf8');
      const match = /\/portal\/link\?token=[0-9a-f]{64}/.exec(text);
      assert.ok(match, `the e-mail holds a sign-in link:\n${text}`);
      assert.match(text, /works once, for 30 minutes/);
      return match[0];
    }
    if (Date.now() > deadline) throw new Error(`no portal e-mail in ${dir}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Both checks, on every portal page. */
async function check(page, where) {
  await assertNoRawCodes(page, where);
  await assertAccessible(page, where);
  assert.equal(await horizontalOverflow(page), 0, `${where}: no sideways scrolling at 390 px`);
}

async function answer(page, value) {
  await page.check(`input[name=value][value="${value}"]`);
  await Promise.all([page.waitForURL(/\/portal\/questionnaires\/\d+/), page.click('button:has-text("Save and continue")')]);
}

test('a patient invited by e-mail answers the PHQ-9, resumes, sees crisis resources; a clinician acknowledges the alert', { timeout: 300_000 }, async () => {
  const dir = await outboxDir();

  // The nurse invites the patient from the chart.
  await inContext(browser, server.url, 'portal-invite', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.nurse);
    await page.goto('/staff/patients?q=RSP-001000');
    await Promise.all([page.waitForURL(/\/staff\/patients\/\d+$/), page.locator('#patients tbody tr a').first().click()]);
    await page.locator('#portal').scrollIntoViewIfNeeded();
    await shot('chart');
    await Promise.all([
      page.waitForURL(/invited=1/),
      page.click('button:has-text("Send the invitation")'),
    ]);
  });

  const link = await linkFromOutbox(dir);

  await inContext(browser, server.url, 'portal-patient', PHONE, async ({ page, shot }) => {
    await page.goto(link);
    await check(page, 'link page');
    await shot('link');
    await Promise.all([page.waitForURL((u) => u.pathname === '/portal/'), page.click('button:has-text("Sign in")')]);
    await check(page, 'portal home');
    await shot('home');

    await Promise.all([page.waitForURL(/\/portal\/questionnaires\/\d+/), page.locator('#due a').first().click()]);
    const form = new URL(page.url()).pathname;
    for (const [n, value] of [[1, '1'], [2, '2'], [3, '1'], [4, '1'], [5, '0']]) {
      assert.match(await page.textContent('#progress'), new RegExp(`Question ${n} of 10`));
      await check(page, `question ${n}`);
      if (n === 1) await shot('question-1');
      await answer(page, value);
    }

    // Leave halfway, come back: the first unanswered question.
    await page.goto('/portal/');
    assert.match(await page.textContent('#due'), /5 of 10 answered/);
    await page.goto(form);
    assert.match(await page.textContent('#progress'), /Question 6 of 10/);
    await shot('resumed');
    // 200 % zoom on this phone is a 195 CSS px wide viewport: still no
    // sideways scrolling, the question and its answers reflow.
    await page.setViewportSize({ width: 195, height: 422 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    assert.equal(await horizontalOverflow(page), 0, 'readable at 200 % zoom');
    await page.screenshot({ path: path.join(artifactsDir, 'portal-patient--zoom-200.png'), fullPage: true });
    await page.setViewportSize(PHONE.viewport);

    for (const value of ['1', '0', '1']) await answer(page, value);
    assert.match(await page.textContent('#progress'), /Question 9 of 10/);
    await answer(page, '1');
    // Crisis resources at once.
    await page.locator('#crisis-resources').waitFor();
    assert.match(await page.textContent('#crisis-resources'), /988/);
    await check(page, 'crisis resources');
    await shot('crisis');
    await answer(page, '1');
    await Promise.all([page.waitForURL((u) => u.pathname === form), page.click('#submit')]);
    // 1+2+1+1+0+1+0+1+1 = 8: "mild" (Kroenke 2001: the total is the sum of items 1–9).
    assert.match(await page.textContent('#result'), /8 of 27 — Mild/i);
    await check(page, 'result');
    await shot('result');
    await page.goto('/portal/crisis');
    await check(page, 'crisis page');
  });

  await inContext(browser, server.url, 'portal-alert', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.clinician);
    assert.match(await page.textContent('#nav-alerts'), /Safety alerts\s*\d+/);
    await page.click('#nav-alerts');
    const row = page.locator('#alerts tr.alert-open').first();
    await row.locator('textarea').fill('Called the patient; safety plan reviewed, follow-up tomorrow');
    await shot('alerts');
    await Promise.all([page.waitForURL(/acknowledged=1/), row.locator('button:has-text("Acknowledge")').click()]);
    assert.match(await page.textContent('#alerts'), /Called the patient; safety plan reviewed/);
    await shot('acknowledged');
  });
});
