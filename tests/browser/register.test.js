// The controlled-substance register in real Chromium on a tablet (1024×768),
// against its own fresh `respite demo` clinic: a nurse receives vials, draws
// for an infusion session, records what was given and wastes the rest with
// a clinician who confirms with their own password, takes an end-of-day
// count that reconciles; a clinician resolves the demo's open discrepancy;
// each balance shown is the one the entries add up to. Every page is checked
// for raw codes and by axe.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import {
  DEMO_PASSWORD,
  LOGINS,
  artifactsDir,
  assertAccessible,
  assertNoRawCodes,
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

/** A tablet in landscape, touch. */
const TABLET = {
  viewport: { width: 1024, height: 768 },
  isMobile: true,
  hasTouch: true,
  locale: 'en-US',
  timezoneId: 'America/Los_Angeles',
};

async function check(page, where) {
  await assertNoRawCodes(page, where);
  await assertAccessible(page, where);
}

/** Submits the form holding `button` and waits for the page it leads to. */
async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), page.click(button)]);
}

/** "350 mg (7 mL)" → 350. */
function mgOf(text) {
  const match = /([\d.]+) mg/.exec(text);
  assert.ok(match, `an amount in mg: ${text}`);
  return Number(match[1]);
}

/** "350 mg (7 mL)" → 7. */
function mlOf(text) {
  const match = /\(([\d.]+) mL\)/.exec(text);
  assert.ok(match, `an amount in mL: ${text}`);
  return Number(match[1]);
}

test('a nurse receives, draws, gives and wastes with a witness, counts; a clinician resolves a discrepancy', { timeout: 240_000 }, async () => {
  let vialId;
  await inContext(browser, server.url, '20-register-nurse', TABLET, async ({ page, shot }) => {
    await signIn(page, LOGINS.nurse);
    await Promise.all([page.waitForURL((url) => url.pathname === '/staff/register'), page.click('nav a[href="/staff/register"]')]);
    await check(page, 'register');
    assert.equal(await page.locator('#discrepancy-list tr.open').count(), 1, 'the demo leaves one open discrepancy');
    await shot('register');

    // Receive two vials of ketamine, 50 mg/mL, 10 mL.
    await page.selectOption('#receive-drug', 'ketamine');
    await page.fill('#ndc', '55150-0239-10');
    await page.fill('#lot', 'BT-2030');
    await page.fill('#expiry', '2030-01-31');
    await page.fill('#concentration', '50');
    await page.fill('#volume_ml', '10');
    await page.fill('#vials', '2');
    await page.fill('#supplier', 'Cascade Medical Supply (DEA registration on file)');
    await shot('receive-filled');
    await submit(page, '#receive-form button[type=submit]');
    assert.match(await page.innerText('#done'), /Received/);
    const rows = page.locator('#vial-list tr', { hasText: 'BT-2030' });
    assert.equal(await rows.count(), 2);
    for (const balance of await rows.locator('td.balance').allInnerTexts()) {
      assert.equal(mgOf(balance), 500);
      assert.equal(mlOf(balance), 10);
    }
    vialId = await rows.first().getAttribute('data-vial');
    await check(page, 'register after receipt');

    // Draw 3 mL (150 mg) for the latest session.
    await page.goto(`/staff/register/vials/${vialId}`);
    await check(page, 'vial');
    const session = await page.locator('#draw-session option').nth(1).getAttribute('value');
    await page.selectOption('#draw-session', session);
    await page.fill('#draw-amount', '3');
    await shot('draw-filled');
    await submit(page, '#draw-form button[type=submit]');
    assert.equal(mgOf(await page.innerText('#balance')), 350);
    assert.equal(mlOf(await page.innerText('#balance')), 7);
    const draw = page.locator('section.open-draw').first();
    const drawId = await draw.getAttribute('data-draw');
    assert.match(await draw.innerText(), /150 mg \(3 mL\) left/);
    await check(page, 'vial after draw');

    // Given 130 mg; the 20 mg left wasted, witnessed by the clinician.
    await page.fill(`#given-${drawId}`, '130');
    await submit(page, `section[data-draw="${drawId}"] form[action$="/administrations"] button`);
    assert.match(await page.innerText(`section[data-draw="${drawId}"] h3`), /20 mg \(0\.4 mL\) left/);
    await page.fill(`#waste-${drawId}`, '20');
    // Without the witness's password: refused, nothing recorded.
    await page.selectOption(`#witness-${drawId}`, { label: 'Dr. Carl Clinician (Clinician)' });
    await submit(page, `section[data-draw="${drawId}"] form[action$="/waste"] button`);
    // The vial's page again, the rule at its top, nothing recorded.
    assert.match(await page.innerText('#refused'), /Witness's password: is required.*Nothing was recorded/);
    assert.equal(mgOf(await page.innerText('#balance')), 350);
    assert.match(await page.innerText(`section[data-draw="${drawId}"] h3`), /20 mg \(0\.4 mL\) left/);
    await check(page, 'waste refused');
    await shot('waste-refused');
    // What was typed is kept; the witness only types their password.
    assert.equal(await page.inputValue(`#waste-${drawId}`), '20');
    assert.equal(
      await page.locator(`#witness-${drawId} option:checked`).innerText(),
      'Dr. Carl Clinician (Clinician)',
    );
    await page.fill(`#witness-password-${drawId}`, DEMO_PASSWORD);
    await shot('waste-witnessed');
    await submit(page, `section[data-draw="${drawId}"] form[action$="/waste"] button`);
    assert.match(await page.innerText('#done'), /Waste recorded with its witness/);
    const waste = page.locator('#entries tr[data-kind="waste"]');
    assert.match(await waste.innerText(), /Dr\. Carl Clinician/);
    assert.equal(await page.locator('section.open-draw').count(), 0, 'the draw is accounted for');
    // Receipt 500, draw −150: 350 mg, whatever was given and wasted of the draw.
    assert.equal(mgOf(await page.innerText('#balance')), 350);
    await check(page, 'vial after waste');
    await shot('vial-ledger');

    // End-of-day count: every vial as the register says.
    await page.goto('/staff/register/count');
    await check(page, 'count form');
    for (const row of await page.locator('#count-vials tbody tr').all()) {
      const says = await row.locator('td').nth(2).innerText();
      await row.locator('input').fill(String(mlOf(says)));
    }
    await shot('count-filled');
    await submit(page, '#count-form button[type=submit]');
    assert.match(await page.innerText('#done'), /Count recorded/);
    const latest = page.locator('#count-list tbody tr').first();
    assert.match(await latest.innerText(), /End-of-day count, at the close of business/);
    assert.equal((await latest.locator('td').last().innerText()).trim(), '0', 'the count reconciles');
    assert.equal(await page.locator('#discrepancy-list tr.open').count(), 1, 'still only the demo\'s');
    await check(page, 'register after count');
  });

  await inContext(browser, server.url, '20-register-clinician', TABLET, async ({ page, shot }) => {
    await signIn(page, LOGINS.clinician);
    await page.goto('/staff/register');
    const open = page.locator('#discrepancy-list tr.open');
    const found = await open.locator('td').nth(3).innerText();
    const vial = (await open.locator('td').nth(1).innerText()).match(/vial (\d+)/i)[1];
    await open.locator('textarea').fill('0.2 mL spilled while drawing; reported to the medical director');
    await shot('resolve-filled');
    await submit(page, '#discrepancy-list tr.open button');
    assert.match(await page.innerText('#done'), /Discrepancy resolved/);
    assert.equal(await page.locator('#discrepancy-list tr.open').count(), 0);
    assert.match(await page.innerText('#discrepancy-list'), /Resolved by Dr\. Carl Clinician/);
    await check(page, 'register resolved');
    await page.goto(`/staff/register/vials/${vial}`);
    assert.equal(mgOf(await page.innerText('#balance')), mgOf(found), 'the balance is what was counted');
    assert.match(await page.locator('#entries tbody tr').last().innerText(), /Discrepancy resolved/);
    await check(page, 'vial resolved');
    await shot('vial-resolved');
  });

  await inContext(browser, server.url, '20-register-front-desk', TABLET, async ({ page }) => {
    await signIn(page, LOGINS.frontDesk);
    assert.equal(await page.locator('nav a[href="/staff/register"]').count(), 0);
    const response = await page.goto('/staff/register');
    assert.equal(response.status(), 403);
  });
});
