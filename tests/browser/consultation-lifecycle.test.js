// Consultations that can be moved, cancelled and held, and nobody lost after
// a cancellation or a no-show (SPEC §1 step 2), in real Chromium against a
// fresh `respite demo` clinic: the public page offers days beyond the next
// two (phone 390 px and laptop 1280 px); a person cancels by the link and
// books again; staff move, cancel and hold a consultation and each shows in
// the thread with the right state; a no-show leads to a callback.

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

const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** The day headings of the booking page. */
async function dayHeadings(page) {
  return (await page.locator('h2.slot-day').allInnerTexts()).map((t) => t.trim());
}

/** Books the `n`-th listed time on the public page as `name` with `phone`. */
async function bookOnPublicPage(page, n, name, phone) {
  await page.goto('/consultations?time_zone=America/Chicago');
  await page.locator('input[name=slot]').nth(n).check();
  await page.fill('#name', name);
  await page.fill('#phone', phone);
  await page.check('input[name=consent]');
  await Promise.all([page.waitForURL((url) => url.pathname === '/consultations/booking'), page.click('#book')]);
  assert.match(await page.innerText('h1'), /is booked/);
}

/** The row of the week's consultation list that names `name`, opened. */
async function openConsultationOf(page, name) {
  await page.goto('/staff/consultations?view=week');
  const row = page.locator('tr[data-consultation]', { hasText: name }).first();
  await row.waitFor();
  await Promise.all([
    page.waitForURL((url) => /^\/staff\/consultations\/\d+$/.test(url.pathname)),
    row.locator('td.row-actions a').click(),
  ]);
}

for (const [label, device] of [
  ['phone', PHONE],
  ['laptop', DESKTOP],
]) {
  test(`the public page offers days beyond the next two (${label})`, { timeout: 120_000 }, async () => {
    await inContext(browser, server.url, `9-days-ahead-${label}`, device, async ({ page, shot }) => {
      await page.goto('/consultations?time_zone=America/Chicago');
      const first = await dayHeadings(page);
      assert.ok(first.length >= 3, `more than two days on the first page: ${first}`);
      assert.equal(await horizontalOverflow(page), 0, `the booking page fits ${label}`);
      await shot('first-days');
      // "Later dates" is a plain link: no script needed.
      await Promise.all([page.waitForURL((url) => url.searchParams.has('from')), page.click('#later-dates')]);
      const later = await dayHeadings(page);
      assert.ok(later.length >= 1, 'later days are offered');
      for (const day of later) assert.ok(!first.includes(day), `${day} is a new day`);
      assert.ok(await page.locator('#earlier-dates').isVisible(), 'and the way back');
      assert.equal(await horizontalOverflow(page), 0, `the later days fit ${label}`);
      await shot('later-days');
    });
  });
}

test('a person cancels by the link and books again', { timeout: 120_000 }, async () => {
  await inContext(browser, server.url, '9-cancel-and-book-again', PHONE, async ({ page, shot }) => {
    await bookOnPublicPage(page, 3, `Casey Cancel ${runId}`, '(312) 555-0171');
    await shot('booked');
    await Promise.all([page.waitForURL((url) => url.pathname === '/consultations/booking/cancel'), page.click('#cancel-form button')]);
    // The clinic's own page, calm: its header, no error styling.
    assert.equal(await page.innerText('h1'), 'Your consultation is cancelled');
    assert.ok(await page.locator('header.site .brand').isVisible(), 'the clinic header');
    assert.equal(await page.locator('.error-message').count(), 0);
    const colour = await page.locator('#cancelled p').evaluate((el) => getComputedStyle(el).color);
    assert.notEqual(colour, 'rgb(179, 38, 30)', 'not the error red');
    assert.equal(await horizontalOverflow(page), 0);
    await shot('cancelled');

    await Promise.all([page.waitForURL((url) => url.pathname === '/consultations/booking/again'), page.click('#book-again')]);
    assert.equal(await page.innerText('h1'), 'Book a new time');
    await page.locator('input[name=slot]').nth(5).check();
    await shot('choosing-again');
    await Promise.all([page.waitForURL((url) => url.pathname === '/consultations/booking'), page.click('#book')]);
    assert.equal(await page.innerText('h1'), 'Your free phone consultation is booked');
    await shot('booked-again');
  });
});

test('staff move, cancel and hold consultations, each in the thread with its state', { timeout: 180_000 }, async () => {
  const name = `Morgan Move ${runId}`;
  await inContext(browser, server.url, '9-book-for-staff', PHONE, async ({ page }) => {
    await bookOnPublicPage(page, 7, name, '(312) 555-0172');
  });
  await inContext(browser, server.url, '9-staff-move-cancel-hold', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.frontDesk);
    await page.goto('/staff/consultations?view=today');
    assert.match(await page.innerText('#view-heading'), /^Today, /);
    assert.equal(await horizontalOverflow(page), 0);
    await shot('today');

    // Move.
    await openConsultationOf(page, name);
    const consultation = new URL(page.url()).pathname;
    await shot('consultation');
    const options = page.locator('#move-slot option');
    const target = await options.nth(12).getAttribute('value');
    await page.selectOption('#move-slot', target);
    await sendAndLoad(page, page.click('#move-form button'));
    assert.equal(new URL(page.url()).pathname, consultation);
    assert.equal(await page.innerText('#consultation-status'), 'Booked');
    assert.match(await page.innerText('#consultation-events'), /Consultation moved from .* to .* by Fran Desk/);

    // Cancel, with a reason.
    await page.fill('#reason', 'The clinic closes early that day');
    await sendAndLoad(page, page.click('#cancel-form button'));
    assert.equal(new URL(page.url()).pathname, consultation);
    assert.equal(await page.innerText('#consultation-status'), 'Cancelled');
    await shot('cancelled');
    await Promise.all([page.waitForURL((url) => /^\/staff\/inquiries\/\d+$/.test(url.pathname)), page.click('#inquiry-link')]);
    const thread = await page.innerText('#thread');
    assert.match(thread, /Consultation booked for .* by the person, on the public page/);
    assert.match(thread, /Consultation moved from/);
    assert.match(thread, /cancelled by Fran Desk; to call back\. Reason: The clinic closes early that day/);
    assert.match(await page.innerText('#inquiry-status'), /In contact/);
    assert.match(await page.innerText('#callback-due'), /Consultation cancelled: find a new time/);
    await shot('thread-after-cancel');

    // Hold: a call that has begun leads to the consultation note.
    await openConsultationOf(page, 'Grace Whitfield');
    await Promise.all([page.waitForURL((url) => /^\/staff\/inquiries\/\d+\/consultation$/.test(url.pathname)), page.click('#held-form button')]);
    await shot('note-after-held');
    const inquiry = new URL(page.url()).pathname.replace(/\/consultation$/, '');
    await page.goto(inquiry);
    assert.match(await page.innerText('#thread'), /Consultation of .* held \(marked by/);
    assert.match(await page.innerText('#inquiry-consultations'), /Held/);
    assert.match(await page.innerText('#inquiry-status'), /In contact/);
    await shot('thread-after-held');
  });
});

test('a no-show leads to a callback', { timeout: 120_000 }, async () => {
  await inContext(browser, server.url, '9-no-show-callback', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.frontDesk);
    await openConsultationOf(page, 'Henry Castillo');
    await Promise.all([page.waitForURL((url) => /^\/staff\/inquiries\/\d+$/.test(url.pathname)), page.click('#no-show-form button')]);
    assert.match(await page.innerText('#thread'), /missed: the person was not reached/);
    assert.match(await page.innerText('#callback-due'), /Consultation missed: call to rebook/);
    await shot('thread-after-no-show');
    await page.goto('/staff/callbacks');
    const card = page.locator('li', { hasText: 'Henry Castillo' }).first();
    await card.waitFor();
    assert.match(await card.innerText(), /Consultation missed: call to rebook/);
    await shot('callbacks');
  });
});
