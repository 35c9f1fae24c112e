// The clinic around the pages, in Chromium against a fresh `respite demo`:
// the demo clinic's phone, address, hours and privacy notice on every public
// page; what the public pages teach; refusals and missing pages inside the
// navigation that fits the visitor; the administrator's clinic settings; and
// staff pages (inquiries, consultation notes, a patient chart) in words, not
// codes. Every page is checked for raw codes and by axe-core.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  DESKTOP,
  LOGINS,
  PHONE,
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
    server = await startRespite();
    browser = await launchChromium();
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await server?.stop();
});

const SCENARIO = { timeout: 120_000 };

/** The demo clinic's details (crates/store/src/demo/public.rs). */
const DEMO = {
  phone: '(503) 555-0100',
  address: '2150 Cedar Hills Boulevard, Suite 210',
  hours: 'Monday to Friday, 8 am to 5 pm',
};

for (const [size, options] of [
  ['phone', PHONE],
  ['laptop', DESKTOP],
]) {
  test(`the public pages show the clinic around them (${size})`, SCENARIO, async () => {
    await inContext(browser, server.url, `10-public-pages-${size}`, options, async ({ page, shot }) => {
      for (const path of ['/', '/treatment', '/privacy', '/consultations', '/staff/login']) {
        const response = await page.goto(path);
        assert.equal(response.status(), 200, path);
        const footer = await page.locator('footer.public-footer').innerText();
        for (const shown of [DEMO.phone, DEMO.address, DEMO.hours, '988', '911']) {
          assert.ok(footer.includes(shown), `${path}: the footer shows ${shown}`);
        }
        assert.ok((await page.locator('#privacy-summary').innerText()).length > 40, `${path}: privacy notice`);
        assert.equal(await page.locator('a#clinic-phone').getAttribute('href'), 'tel:+15035550100');
        assert.equal(await horizontalOverflow(page), 0, `${path} fits the ${size}`);
        await shot(path === '/' ? 'home' : path.slice(1).replaceAll('/', '-'));
      }
      // The site's icon is there, so no page asks for a missing one.
      const icon = await page.request.get('/favicon.ico');
      assert.equal(icon.status(), 200);
      assert.equal(icon.headers()['content-type'], 'image/svg+xml');
    });
  });
}

test('what to know: every point with a source the reader can follow', SCENARIO, async () => {
  await inContext(browser, server.url, '11-what-to-know', PHONE, async ({ page, shot }) => {
    await page.goto('/');
    await page.click('#learn-more');
    await page.waitForURL((url) => url.pathname === '/treatment');
    for (const point of ['chronic', 'life', 'conditions', 'how', 'doses', 'evidence', 'safeguards', 'parts', 'safety', 'start']) {
      assert.equal(await page.locator(`[data-point="${point}"]`).count(), 1, `the point "${point}" is on the page`);
    }
    // Each citation leads to an entry of the list of sources.
    const targets = await page.locator('a.cite').evaluateAll((links) => [...new Set(links.map((a) => a.hash))]);
    assert.ok(targets.length >= 5, `sources cited: ${targets}`);
    for (const target of targets) {
      assert.equal(await page.locator(`#sources li${target}`).count(), 1, `${target} is in the sources`);
    }
    await page.locator('#evidence').scrollIntoViewIfNeeded();
    assert.match(await page.locator('#evidence').innerText(), /moderate evidence[\s\S]*CRPS[\s\S]*weak or limited/);
    await shot('evidence');
    await page.locator('#start').scrollIntoViewIfNeeded();
    assert.ok((await page.locator('#start').innerText()).includes(DEMO.phone), 'how to start names the clinic phone');
    await shot('how-to-start');
  });
});

test('refusals and missing pages keep the navigation that fits the visitor', SCENARIO, async () => {
  await inContext(browser, server.url, '12-refusals-with-navigation', DESKTOP, async ({ page, shot }) => {
    const missing = await page.goto('/no/such/page');
    assert.equal(missing.status(), 404);
    assert.equal(await page.locator('header.site nav a[href="/treatment"]').count(), 1, 'public navigation');
    assert.ok((await page.locator('footer').innerText()).includes(DEMO.phone));
    await checkPage(page);
    await shot('public-404');

    await signIn(page, LOGINS.frontDesk);
    const refused = await page.goto('/staff/audit');
    assert.equal(refused.status(), 403);
    assert.equal(await page.locator('h1').innerText(), 'Not allowed');
    assert.equal(await page.locator('header.site nav a[href="/staff/callbacks"]').count(), 1, 'staff navigation');
    assert.equal(await page.locator('form.signout button').count(), 1, 'and the sign-out button');
    await checkPage(page);
    await shot('staff-403');
    const gone = await page.goto('/staff/nothing-here');
    assert.equal(gone.status(), 404);
    assert.equal(await page.locator('header.site nav a[href="/staff/callbacks"]').count(), 1);
    await checkPage(page);
    await shot('staff-404');
  });
});

test('an administrator changes the clinic settings and the public pages follow', SCENARIO, async () => {
  await inContext(browser, server.url, '13-clinic-settings', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.admin);
    await Promise.all([page.waitForURL((url) => url.pathname === '/staff/settings'), page.click('nav a[href="/staff/settings"]')]);
    assert.equal(await page.inputValue('#phone'), DEMO.phone, 'the number as people write it');
    await checkPage(page);
    await shot('settings');

    await page.fill('#phone', '12');
    await Promise.all([page.waitForLoadState('load'), page.click('#settings button[type=submit]')]);
    assert.match(await page.locator('#errors').innerText(), /Telephone: is not a phone number/);
    assert.equal(await page.getAttribute('#phone', 'aria-describedby'), 'phone-error');
    await checkPage(page);
    await shot('settings-refused');

    await page.fill('#phone', '+44 20 7946 0958');
    await page.fill('#hours', 'Monday to Thursday, 9 am to 6 pm');
    await Promise.all([page.waitForURL((url) => url.search === '?saved=1'), page.click('#settings button[type=submit]')]);
    assert.ok(await page.locator('#saved').isVisible());
    await checkPage(page);

    await page.goto('/');
    const footer = await page.locator('footer.public-footer').innerText();
    assert.ok(footer.includes('+44 20 7946 0958'), 'a number abroad in international format');
    assert.ok(footer.includes('Monday to Thursday, 9 am to 6 pm'));
    await checkPage(page);
    await shot('home-after');
  });
});

test('staff pages say statuses, durations, best times, numbers and units in words', SCENARIO, async () => {
  await inContext(browser, server.url, '14-staff-words', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.clinician);
    await checkPage(page);
    // Every inquiry the demo has on the staff home, and a few more by id.
    const links = await page.locator('main a[href^="/staff/inquiries/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    const ids = [...new Set([...links, ...[1, 2, 3, 10, 20, 40, 60].map((id) => `/staff/inquiries/${id}`)])].slice(0, 12);
    for (const path of ids) {
      const response = await page.goto(path);
      if (response.status() === 404) continue;
      assert.equal(response.status(), 200, path);
      await checkPage(page);
      const consultation = await page.goto(`${path}/consultation`);
      assert.equal(consultation.status(), 200);
      await checkPage(page);
    }
    for (const path of ['/staff/callbacks', '/staff/consultations', '/staff/patients']) {
      await page.goto(path);
      await checkPage(page);
    }
    await page.goto('/staff/patients/1');
    await checkPage(page);
    const observations = await page.locator('main').innerText();
    for (const words of ['mmHg', 'beats per minute', ' of 10']) {
      assert.ok(observations.includes(words), `the chart says ${words}`);
    }
    await shot('patient-chart');
  });
});
