// Booking the free phone consultation in real Chromium at phone size,
// against its own fresh `respite demo` clinic: a person books a time from
// the public page and sees it in their own zone and the clinic's; a second
// person who chose the same time on a page opened earlier is told it was
// just taken (409) and nothing of theirs is booked.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { PHONE, artifactsDir, checkPage, horizontalOverflow, inContext, launchChromium, startRespite } from './support.js';

let server;
let browser;

before(
  async () => {
    // clinic.test.js empties the folder (node --test runs files in name order
    // on a small machine, so it runs first); this file only makes sure it exists.
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

/** `date` on the wall clock of `timeZone`, as the booking page writes it:
 * "Friday 4 December 2026, 10:00 AM". */
function wallClock(date, timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      hour12: true,
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.weekday} ${parts.day} ${parts.month} ${parts.year}, ${parts.hour}:${parts.minute} ${parts.dayPeriod.toUpperCase()}`;
}

/** The minute of the day of the first "h:mm AM" in `text`. */
function minuteOfDay(text) {
  const [, hour, minute, period] = text.match(/(\d{1,2}):(\d{2})\s(AM|PM)/);
  return ((Number(hour) % 12) + (period === 'PM' ? 12 : 0)) * 60 + Number(minute);
}

async function fillBooking(page, name, phone) {
  await page.fill('#name', name);
  await page.fill('#phone', phone);
  await page.check('input[name=consent]');
}

test('a person books a consultation on a phone, and a second cannot take the same time', { timeout: 120_000 }, async () => {
  const second = await browser.newContext({ baseURL: server.url, ...PHONE, timezoneId: 'Europe/London' });
  try {
    // The second person opens the page first, so the time is still listed for them.
    const other = await second.newPage();
    await other.goto('/consultations');
    await other.waitForURL((url) => url.searchParams.get('time_zone') === 'Europe/London');
    await checkPage(other);

    let chosen;
    await inContext(browser, server.url, '8-book-consultation-on-phone', PHONE, async ({ page, shot }) => {
      await page.goto('/consultations');
      // The page switches to the browser's own zone by itself.
      await page.waitForURL((url) => url.searchParams.get('time_zone') === 'America/Chicago');
      assert.equal(await page.inputValue('#zone'), 'America/Chicago', "the visitor's zone is preselected");
      assert.equal(await horizontalOverflow(page), 0, 'the booking page fits a 390 px wide phone');
      const first = page.locator('input[name=slot]').first();
      chosen = {
        key: await first.getAttribute('value'),
        label: (await first.locator('xpath=..').innerText()).trim(),
      };
      assert.match(chosen.label, /^\d{1,2}:\d{2} (AM|PM)$/);
      await first.check();
      await fillBooking(page, `Robin Slot ${runId}`, '(503) 555-0144');
      await shot('form-filled');
      await Promise.all([
        page.waitForURL((url) => url.pathname === '/consultations/booking'),
        page.click('#book'),
      ]);
      // The slot's value names the instant (staff id @ Unix milliseconds);
      // the test converts it itself, with Node's own time-zone data.
      const startsAt = new Date(Number(chosen.key.split('@')[1]));
      assert.ok(!Number.isNaN(startsAt.getTime()), chosen.key);
      const person = await page.innerText('#person-time');
      assert.ok(person.includes(chosen.label), `${person} shows ${chosen.label}`);
      assert.ok(person.includes('Central Time'), person);
      assert.ok(person.includes(wallClock(startsAt, 'America/Chicago')), `${person}: ${wallClock(startsAt, 'America/Chicago')}`);
      const clinic = await page.innerText('#clinic-time');
      assert.ok(clinic.includes('Pacific Time'), clinic);
      assert.ok(clinic.includes(wallClock(startsAt, 'America/Los_Angeles')), `${clinic}: ${wallClock(startsAt, 'America/Los_Angeles')}`);
      // Chicago is two hours ahead of the clinic (Los Angeles), all year
      // (both follow the US daylight-saving dates).
      assert.equal((minuteOfDay(person) - minuteOfDay(clinic) + 1440) % 1440, 120, `${person} / ${clinic}`);
      assert.equal(await horizontalOverflow(page), 0, 'the confirmation fits the phone');
      await shot('confirmation');
    });

    // The second person picks the same time: the server refuses, clearly.
    const slot = other.locator(`input[name=slot][value="${chosen.key}"]`);
    await slot.check();
    await fillBooking(other, `Sam Second ${runId}`, '(503) 555-0155');
    const [response] = await Promise.all([
      other.waitForResponse((r) => r.url().endsWith('/consultations') && r.request().method() === 'POST'),
      other.click('#book'),
    ]);
    assert.equal(response.status(), 409);
    await other.locator('#errors').waitFor();
    assert.match(await other.innerText('#errors'), /Choose a time: this time was just taken/);
    assert.equal(await other.getAttribute('#errors li', 'data-field'), 'slot', 'the field keeps its name in the markup');
    await checkPage(other);
    // The taken time is no longer offered; the person's entries are kept.
    assert.equal(await other.locator(`input[name=slot][value="${chosen.key}"]`).count(), 0);
    assert.equal(await other.inputValue('#name'), `Sam Second ${runId}`);
    await other.screenshot({ path: `${artifactsDir}/8-book-consultation-on-phone--second-person-refused.png`, fullPage: true });
  } finally {
    await second.close();
  }
});
