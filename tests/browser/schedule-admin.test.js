// The consultation schedule in real Chromium, against its own fresh
// `respite demo` clinic: an administrator adds a holiday on a day the public
// booking page offers, and the page then offers no time on that day (and
// still offers others).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { DESKTOP, LOGINS, artifactsDir, inContext, launchChromium, signIn, startRespite } from './support.js';

let server;
let browser;

before(
  async () => {
    // clinic.test.js empties the folder; this file only makes sure it exists.
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

/** The demo clinic's zone: holidays are whole days on its clock. */
const CLINIC_ZONE = 'America/Los_Angeles';

/** A slot key `STAFF@UNIX_MS` → its ISO date on the clinic's clock. */
function clinicDate(key) {
  const millis = Number(key.split('@')[1]);
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: CLINIC_ZONE }).format(new Date(millis));
}

/** The ISO dates (clinic clock) of every time the public page offers. */
async function offeredDates(page) {
  await page.goto(`/consultations?time_zone=${CLINIC_ZONE}`);
  const keys = await page.locator('input[name=slot]').evaluateAll((inputs) => inputs.map((i) => i.value));
  return keys.map(clinicDate);
}

test('an administrator adds a holiday and the booking page stops offering that day', { timeout: 120_000 }, async () => {
  await inContext(browser, server.url, '9-schedule-holiday', DESKTOP, async ({ page, shot }) => {
    const before = await offeredDates(page);
    const days = [...new Set(before)];
    assert.ok(days.length >= 2, `the demo offers times on several days: ${days}`);
    // The second offered day, so that the first day's times passing during
    // the test cannot matter.
    const holiday = days[1];
    assert.ok(before.includes(holiday));
    await shot('booking-before');

    await signIn(page, LOGINS.admin);
    await Promise.all([page.waitForURL((url) => url.pathname === '/staff/schedule'), page.click('nav a[href="/staff/schedule"]')]);
    assert.match(await page.innerText('#booked-stay-booked'), /already booked stay booked/);
    await page.fill('#holiday-day', holiday);
    await page.fill('#holiday-name', 'Browser test closure');
    await shot('holiday-form-filled');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/staff/schedule/holidays') && r.request().method() === 'POST'),
      page.click('#add-holiday'),
    ]);
    assert.equal(response.status(), 303);
    await page.waitForURL((url) => url.pathname === '/staff/schedule');
    const row = page.locator(`#holiday-list tr[data-day="${holiday}"]`);
    assert.match(await row.innerText(), /Browser test closure/);
    await shot('holiday-listed');

    const after = await offeredDates(page);
    assert.ok(!after.includes(holiday), `no time is offered on the holiday ${holiday}: ${[...new Set(after)]}`);
    assert.ok(after.length > 0, 'other days are still offered');
    await shot('booking-after');
  });
});
