// The infusion order (SPEC §1 step 5) in real Chromium on a tablet (1024×768)
// and a laptop (1280×800), against its own fresh `respite demo` clinic: the
// clinician opens the order for the demo's patient who is eligible, current,
// planned and weighed this morning; sees the calculation step by step, the
// ceilings and the server-drawn PK preview; asks for a target-guided plan;
// orders a rate above the ceiling, is refused, overrides with a reason; a
// nurse makes the second check and the order shows "verified by".

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { DESKTOP, LOGINS, artifactsDir, horizontalOverflow, inContext, launchChromium, sendAndLoad, signIn, startRespite } from './support.js';

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

const TABLET = { ...DESKTOP, viewport: { width: 1024, height: 768 }, hasTouch: true };

async function solbergOrderPath(page) {
  await page.goto('/staff/patients?q=Solberg');
  const href = await page.locator('#patients tbody tr a').first().getAttribute('href');
  return `${href}/orders/new`;
}

for (const [name, options] of [['tablet', TABLET], ['laptop', DESKTOP]]) {
  test(`the order page on a ${name}`, { timeout: 180_000 }, async () => {
    await inContext(browser, server.url, `infusion-order-${name}`, options, async ({ page, shot }) => {
      await signIn(page, LOGINS.clinician);
      const orderPath = await solbergOrderPath(page);
      await page.goto(orderPath);
      await page.locator('#calculation').waitFor();
      assert.equal(await page.locator('#refusals').count(), 0, 'Solberg may be ordered');
      assert.ok(await page.locator('#pk-preview svg polyline.effect').count());
      assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling');
      await shot('order');

      // A target-guided plan.
      await page.fill('#target', '120');
      await page.fill('#reach', '10');
      await page.click('button[name=propose]');
      await page.locator('#proposal').waitFor();
      assert.equal(await horizontalOverflow(page), 0);
      await shot('proposal');

      if (name !== 'tablet') return;
      // Above the ceiling: refused, then overridden with a reason.
      await page.goto(orderPath);
      await page.fill('#rate', '1.4');
      await page.click('#plan-form button[type=submit]:not([name])');
      await page.locator('#override_reason').waitFor();
      assert.match(await page.locator('#order-error').innerText(), /Above a ceiling/);
      await shot('above-ceiling');
      await page.fill('#override_reason', 'Tolerated 1.4 mg/kg/h in the last series; monitored.');
      await Promise.all([page.waitForURL(/\/staff\/orders\/\d+$/), page.click('#order-form button[type=submit]')]);
      const orderUrl = page.url();
      assert.match(await page.locator('#overrides').innerText(), /overridden by/);
      assert.equal(await page.locator('#check-form').count(), 0, 'the orderer does not check');
      await shot('ordered');

      // The nurse's second check.
      await page.context().clearCookies();
      await signIn(page, LOGINS.nurse);
      // The nurse finds it on the patient's Orders tab, awaiting its check.
      await page.goto(orderPath.replace('/orders/new', '/orders'));
      assert.match(await page.locator('#orders').innerText(), /awaiting second check/i);
      await shot('orders-list');
      await Promise.all([page.waitForURL(orderUrl), page.locator('#orders tbody a').first().click()]);
      const pump = (await page.locator('#order-facts').innerText()).match(/([\d.]+) mL\/h/)[1];
      await page.check('input[name=drug_confirmed]');
      await page.fill('#concentration_mg_ml', '10');
      await page.fill('#weight_kg', '68.4');
      await page.fill('#pump_ml_h', pump);
      await sendAndLoad(page, page.click('#check-form button[type=submit]'));
      assert.equal(new URL(page.url()).pathname, new URL(orderUrl).pathname);
      assert.match(await page.locator('#check-status').innerText(), /Verified by/);
      await shot('verified');
    });
  });
}
