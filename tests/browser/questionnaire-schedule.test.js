// Questionnaires on schedule against a fresh `respite demo` clinic, on a
// laptop (1280 px) and a phone (390 px): an administrator opens the
// questionnaire schedule from the clinic settings, is refused with the field
// named for a half-filled licence, records the ODI licence and saves; a
// nurse sees on a planned patient's chart what the patient answers, what is
// left out and why, what is open, next and missed. The demo's job worker
// runs the schedule's sweep at start. Every page is checked for internal
// codes and with axe-core, and for sideways scrolling on the phone.

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

for (const [size, device] of [
  ['laptop', DESKTOP],
  ['phone', PHONE],
]) {
  test(`an administrator sets the questionnaire schedule (${size})`, { timeout: 120_000 }, async () => {
    await inContext(browser, server.url, `questionnaire-settings-${size}`, device, async ({ page, shot }) => {
      await signIn(page, LOGINS.admin);
      await page.goto('/staff/settings');
      await page.click('#questionnaire-settings-link');
      await page.waitForURL('**/staff/settings/questionnaires');
      assert.equal(await page.textContent('h1'), 'Questionnaire schedule');
      assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling');
      await shot('settings');

      // A half-filled licence: refused, the field named.
      await page.fill('[name="licence_holder_odi"]', 'Demo Pain Clinic');
      await page.fill('[name="licence_terms_odi"]', '');
      await Promise.all([page.waitForLoadState('load'), page.click('#questionnaire-settings button[type=submit]')]);
      const errors = await page.textContent('#errors');
      assert.match(errors, /Oswestry.*licence number or terms/s);
      await shot('refused');

      await page.fill('[name="licence_terms_odi"]', 'Licence 2026-117, clinical use at one site');
      await page.fill('[name="licence_date_odi"]', '2026-01-15');
      await Promise.all([
        page.waitForURL('**/staff/settings/questionnaires?saved=1'),
        page.click('#questionnaire-settings button[type=submit]'),
      ]);
      assert.match(await page.textContent('#saved'), /Saved/);
      assert.match(await page.textContent('li[data-instrument="odi"]'), /licence is recorded/);
      assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling');
      await shot('saved');
    });
  });
}

for (const [size, device] of [
  ['laptop', DESKTOP],
  ['phone', PHONE],
]) {
  test(`a nurse sees a patient's questionnaire schedule (${size})`, { timeout: 180_000 }, async () => {
    await inContext(browser, server.url, `questionnaire-chart-${size}`, device, async ({ page, shot }) => {
      await signIn(page, LOGINS.nurse);
      // The first chart with a treatment plan (the schedule follows those).
      let found = false;
      for (let id = 1; id <= 60 && !found; id += 1) {
        const response = await page.goto(`/staff/patients/${id}`);
        if (response.status() !== 200) continue;
        found = (await page.locator('#questionnaire-schedule').count()) > 0;
      }
      assert.ok(found, 'a planned patient shows the schedule');
      await page.locator('#questionnaire-schedule').scrollIntoViewIfNeeded();
      const section = await page.textContent('#questionnaire-schedule');
      assert.match(section, /Answers at every timepoint: .*PHQ-9/s);
      assert.match(section, /Next:/);
      assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling');
      await shot('chart');
    });
  });
}
