// The staff lists and the consultation note in real Chromium, against a
// fresh `respite demo` clinic (249 patients: 240 with infusion histories and the
// nine charts of the screening spectrum): the patient list pages with
// next/previous links and finds a phone number from a fragment typed in any
// formatting, on a laptop (1280 px) and a phone (390 px); the clinical note
// is saved, shown saved, edited into version 2 with version 1 still
// readable; the front desk is refused it.

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
  sendAndLoad,
  signIn,
  startRespite,
} from './support.js';

/** The demo's patients: 240 with infusion histories, 9 screening charts (demo/chart.rs). */
const DEMO_PATIENTS = 240 + 9;

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

/** The patient ids of the rows on the page, in order. */
function rowIds(page) {
  return page.locator('#patients tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.patient));
}

/** The digits of each row's phone number. */
function rowPhoneDigits(page) {
  return page
    .locator('#patients tbody td.phone')
    .evaluateAll((cells) => cells.map((c) => c.textContent.replace(/\D/g, '')));
}

async function search(page, text) {
  await page.fill('#q', text);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/staff/patients' && url.searchParams.get('q') === text),
    page.click('form.search button[type=submit]'),
  ]);
}

for (const [label, device] of [
  ['laptop', DESKTOP],
  ['phone', PHONE],
]) {
  test(`the patient list pages and finds a phone number from any fragment (${label})`, { timeout: 120_000 }, async () => {
    await inContext(browser, server.url, `10-patient-list-${label}`, device, async ({ page, shot }) => {
      await signIn(page, LOGINS.frontDesk);
      await page.goto('/staff/patients');
      const summary = page.locator('nav.pager .pager-summary').first();
      assert.equal(await summary.innerText(), `Patients 1–25 of ${DEMO_PATIENTS}.`);
      const first = await rowIds(page);
      assert.equal(first.length, 25);
      assert.equal(await page.locator('a[rel=prev]').count(), 0, 'no previous page before the first');
      assert.ok((await horizontalOverflow(page)) <= 0, 'the page fits the screen');
      await shot('first-page');

      // Next, and back: the same first page, nothing skipped or repeated.
      await Promise.all([page.waitForURL(/after=/), page.locator('a[rel=next]').first().click()]);
      assert.equal(await summary.innerText(), `Patients 26–50 of ${DEMO_PATIENTS}.`);
      const second = await rowIds(page);
      assert.equal(second.length, 25);
      assert.equal(second.filter((id) => first.includes(id)).length, 0, 'no row of page 1 again');
      await shot('second-page');
      await Promise.all([page.waitForURL(/before=/), page.locator('a[rel=prev]').first().click()]);
      assert.deepEqual(await rowIds(page), first);

      // A fragment of a number, as people type it: every match holds it.
      await search(page, '555-0115');
      const digits = await rowPhoneDigits(page);
      assert.ok(digits.length >= 1, 'the demo has numbers ending 555-0115');
      for (const d of digits) assert.ok(d.includes('5550115'), `${d} holds 555-0115`);
      await shot('fragment-search');

      // The whole number in national formatting, then bare digits: that patient.
      const wanted = digits[0]; // (AAA) 555-0115 in national format, or +1 AAA… abroad
      const area = wanted.slice(-10, -7);
      const id = (await rowIds(page))[0];
      for (const typed of [`(${area}) 555-0115`, `${area}5550115`, `+1 ${area} 555 0115`]) {
        await search(page, typed);
        const ids = await rowIds(page);
        assert.ok(ids.includes(id), `${typed} finds the patient`);
        for (const d of await rowPhoneDigits(page)) assert.ok(d.endsWith(`${area}5550115`), `${typed}: ${d}`);
      }
      assert.ok((await horizontalOverflow(page)) <= 0, 'the results fit the screen');
      await shot('national-format-search');

      // The front desk is not offered a search by condition (clinical).
      assert.equal(await page.locator('#condition').count(), 0);
    });
  });
}

test('a consultation note is saved, edited into version 2, and version 1 stays readable', { timeout: 120_000 }, async () => {
  await inContext(browser, server.url, '10-consultation-note-versions', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.clinician);
    await page.goto('/staff?status=new');
    await Promise.all([
      page.waitForURL(/\/staff\/inquiries\/\d+$/),
      page.locator('table#new-inquiries tbody tr a').first().click(),
    ]);
    const inquiryPath = new URL(page.url()).pathname;
    await Promise.all([page.waitForURL(/\/consultation$/), page.click('#consultation-link')]);

    // Prefilled from the inquiry; the amount is for staff to ask.
    const form = page.locator('#note-form');
    await form.waitFor();
    assert.equal(await page.inputValue('#pain_duration_amount'), '');
    await shot('blank-prefilled');
    await page.fill('#pain_location', 'Lower back and left leg');
    await page.fill('#pain_duration_amount', '2');
    await page.selectOption('#pain_duration_unit', 'years');
    await page.fill('#diagnosis', 'Lumbar radiculopathy');
    await page.fill('#diagnosed_by', 'Dr Ruiz, neurologist');
    await page.fill('#diagnosed_on', '2015-06-01');
    await page.fill('#treatments_tried', 'Gabapentin: dizziness');
    await page.selectOption('#next_step', 'book-screening-visit');
    await sendAndLoad(page, page.click('#note-form button[type=submit]'));
    assert.match(page.url(), /\/consultation/);

    // Saved: shown as saved, with an edit, not a second blank form.
    await page.locator('#saved').waitFor();
    assert.match(await page.innerText('#saved h2'), /version 1/);
    assert.equal(await page.locator('#note-form').count(), 0);
    // Two years of pain diagnosed in 2015: flagged.
    assert.match(await page.innerText('#onset-flag'), /after the diagnosis on 2015-06-01/);
    // The next step leads somewhere: no chart yet, so to making one.
    assert.match(await page.getAttribute('#next-step-link', 'href'), /\/chart$/);
    await shot('saved-version-1');

    await Promise.all([page.waitForURL(/edit=1/), page.click('#edit-note')]);
    assert.equal(await page.inputValue('#diagnosis'), 'Lumbar radiculopathy');
    await page.fill('#diagnosed_on', '2025-01-15');
    await page.fill('#pain_location', 'Lower back only');
    await shot('editing');
    await sendAndLoad(page, page.click('#note-form button[type=submit]'));
    assert.match(page.url(), /\/consultation/);
    await page.locator('#saved').waitFor();
    assert.match(await page.innerText('#saved h2'), /version 2/);
    assert.match(await page.innerText('#saved'), /Lower back only/);
    assert.equal(await page.locator('#onset-flag').count(), 0, 'the corrected date is plausible');
    await page.click('#versions summary');
    assert.match(await page.innerText('#version-1'), /Lower back and left leg/);
    await shot('version-2-with-version-1');

    // The front desk is refused the clinical note, and sees none of it.
    const frontDesk = await browser.newContext({ baseURL: server.url, ...DESKTOP });
    const desk = await frontDesk.newPage();
    await signIn(desk, LOGINS.frontDesk);
    const refused = await desk.goto(`${inquiryPath}/consultation`);
    assert.equal(refused.status(), 403);
    await desk.goto(inquiryPath);
    assert.equal(await desk.locator('#consultation-link').count(), 0);
    assert.ok(!(await desk.content()).includes('Lumbar radiculopathy'));
    await frontDesk.close();
  });
});
