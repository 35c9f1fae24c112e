// Respite in real Chromium, against a fresh `respite demo` clinic.
//
// The scenarios run in order in one file because two of them read what an
// earlier one left: the front desk looks for the inquiry that scenario 1
// sent, and the admin looks for the refusals of scenario 4 in the audit
// trail. Each scenario still has its own browser context (its own cookies).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  DESKTOP,
  LOGINS,
  PHONE,
  checkPage,
  firstStatusOf,
  horizontalOverflow,
  inContext,
  launchChromium,
  resetArtifacts,
  signIn,
  startRespite,
} from './support.js';

let server;
let browser;

// One run, one set of names nobody else uses.
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const visitor = {
  name: `Robin Quill ${runId}`,
  typedPhone: '(503) 555-0123',
  phoneE164: '+15035550123',
  email: `robin.${runId}@example.org`,
  message: `Lower back pain since a fall in 2021; physiotherapy and gabapentin did not help. (${runId})`,
  sent: false,
};

before(
  async () => {
    resetArtifacts();
    server = await startRespite();
    browser = await launchChromium();
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await server?.stop();
});

const SCENARIO = { timeout: 90_000 };

/** Navigates and returns the response, which every navigation here must have. */
async function open(page, path) {
  const response = await page.goto(path);
  assert.ok(response, `${path}: no response`);
  await checkPage(page);
  return response;
}

/** Clicks `selector` and waits for the navigation response whose path is `pathname`. */
async function clickAndWait(page, selector, pathname) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === pathname && r.request().isNavigationRequest()),
    page.click(selector),
  ]);
  await page.waitForLoadState('load');
  await checkPage(page);
  return response;
}

test('1. a visitor on a phone sends the inquiry form and sees the thank-you page', SCENARIO, async () => {
  await inContext(browser, server.url, '1-inquiry-on-phone', PHONE, async ({ page, shot }) => {
    const home = await open(page, '/');
    assert.equal(home.status(), 200);
    await page.locator('form.inquiry').waitFor();
    assert.equal(
      await page.inputValue('#time_zone'),
      'America/Chicago',
      "the visitor's own time zone is preselected",
    );
    assert.equal(await horizontalOverflow(page), 0, 'the clinic page fits a 390 px wide phone');
    await shot('clinic-page');

    await page.fill('#name', visitor.name);
    await page.fill('#phone', visitor.typedPhone);
    await page.fill('#email', visitor.email);
    await page.check('input[name=preferred_channel][value=text]');
    await page.selectOption('#window_days', 'weekdays');
    await page.fill('#window_start', '09:00');
    await page.fill('#window_end', '12:30');
    await page.selectOption('#pain_area', 'back');
    await page.selectOption('#pain_duration', '1-5-years');
    await page.fill('#message', visitor.message);
    await page.check('input[name=consent]');
    await shot('form-filled');

    const thanks = await clickAndWait(page, 'form.inquiry button[type=submit]', '/inquiries/thanks');
    assert.equal(thanks.status(), 200);
    assert.equal(await firstStatusOf(thanks), 303, 'the POST answers 303 See Other to the thank-you page');
    assert.equal(thanks.request().redirectedFrom()?.method(), 'POST');
    assert.match(await page.locator('h1').innerText(), /^Thank you/);
    assert.ok(await page.locator('p.confirmation').isVisible(), 'the confirmation is shown');
    assert.equal(await horizontalOverflow(page), 0, 'the thank-you page fits a phone');
    await shot('thank-you');
    visitor.sent = true;
  });
});

// Every control of the form must fit inside the form card on a phone (a
// regression check: the best-time row once overflowed at 390 px).
test(
  '1b. every control of the inquiry form fits inside the form on a phone',
  SCENARIO,
  async () => {
    await inContext(browser, server.url, '1b-inquiry-form-layout', PHONE, async ({ page, shot }) => {
      await open(page, '/');
      await shot('clinic-page');
      const problems = await page.evaluate(() => {
        const form = document.querySelector('form.inquiry');
        const box = form.getBoundingClientRect();
        const padding = parseFloat(getComputedStyle(form).paddingRight);
        const out = [];
        for (const control of form.querySelectorAll('input:not([type=hidden]), select, textarea, button')) {
          const r = control.getBoundingClientRect();
          const name = control.id || control.name || control.textContent.trim();
          if (r.left < box.left + padding - 0.5 || r.right > box.right - padding + 0.5) {
            out.push(`${name} spans ${Math.round(r.left)}–${Math.round(r.right)} px, the form's content ${Math.round(box.left + padding)}–${Math.round(box.right - padding)} px`);
          }
          if (control.tagName === 'SELECT' && r.width < 96) {
            out.push(`${name} is only ${Math.round(r.width)} px wide: its choice cannot be read`);
          }
        }
        return out;
      });
      assert.deepEqual(problems, []);
    });
  },
);

test('2. a front-desk user signs in and sees that inquiry among the new ones', SCENARIO, async (t) => {
  assert.ok(visitor.sent, 'scenario 1 must have sent the inquiry');
  await inContext(browser, server.url, '2-front-desk-sees-inquiry', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.frontDesk, { shot });
    const row = page.locator('table#new-inquiries tbody tr', { hasText: visitor.name });
    assert.equal(await row.count(), 1, 'exactly one new inquiry carries the unique name');
    // Received, Name, Channel, Contact, Best time, Pain
    const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
    assert.equal(cells[1], visitor.name);
    assert.match(cells[2], /web/i, 'it came in through the web form');
    assert.ok(cells[3].includes(visitor.typedPhone), `the phone is written as people write it: ${cells[3]}`);
    assert.ok(!cells[3].includes(visitor.phoneE164), `not as stored (E.164): ${cells[3]}`);
    assert.ok(cells[3].includes(visitor.email), `the e-mail is shown: ${cells[3]}`);
    assert.ok(cells[4].includes('Central Time'), `the best time keeps the time zone: ${cells[4]}`);
    await row.scrollIntoViewIfNeeded();
    await shot('staff-home');

    await row.locator('a').click();
    await page.waitForURL((url) => /^\/staff\/inquiries\/\d+$/.test(url.pathname));
    assert.equal(await page.locator('h1').innerText(), `Inquiry from ${visitor.name}`);
    assert.equal((await page.locator('dd.message').innerText()).trim(), visitor.message);
    await shot('inquiry');

    // Not an assertion: how the staff home fares on a phone, for the report.
    await page.goto('/staff');
    await page.setViewportSize(PHONE.viewport);
    const overflow = await horizontalOverflow(page);
    if (overflow > 0) t.diagnostic(`staff home at 390 px: ${overflow} px wider than the screen`);
    await shot('staff-home-phone-width');
  });
});

test('3. an unsigned visitor is sent to the sign-in page instead of any staff page', SCENARIO, async () => {
  await inContext(browser, server.url, '3-unsigned-refused', PHONE, async ({ page, shot }) => {
    for (const path of ['/staff', '/staff/patients', '/staff/audit', '/staff/patients/1']) {
      const response = await open(page, path);
      const landed = new URL(page.url());
      assert.equal(landed.pathname, '/staff/login', `${path} lands on the sign-in page`);
      assert.equal(landed.searchParams.get('next'), path, `${path} is remembered as next`);
      assert.equal(await firstStatusOf(response), 303, `${path} answers 303 See Other`);
      assert.equal(response.status(), 200);
      assert.equal(await page.locator('h1').innerText(), 'Staff sign-in');
      assert.ok(await page.locator('#password').isVisible(), 'the sign-in form is shown');
      assert.equal(await page.inputValue('input[name=next]'), path);
      assert.equal(
        await page.locator('table, dl.facts, #chain-status, form.signout').count(),
        0,
        `${path}: none of the staff content is on the page`,
      );
      await shot(path.slice(1).replaceAll('/', '-'));
    }
  });
});

test('4. a front-desk user is refused the audit trail and patient charts (403)', SCENARIO, async () => {
  await inContext(browser, server.url, '4-front-desk-refused', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.frontDesk);
    assert.equal(
      await page.locator('header.site nav a', { hasText: 'Audit trail' }).count(),
      0,
      'the front desk is not offered the audit trail',
    );

    // The patient list is theirs, without links to charts.
    const list = await open(page, '/staff/patients');
    assert.equal(list.status(), 200);
    assert.ok((await page.locator('table#patients tbody tr').count()) > 0, 'the patient list is shown');
    assert.equal(await page.locator('table#patients a[href^="/staff/patients/"]').count(), 0, 'no chart links');
    await shot('patient-list');

    const audit = await open(page, '/staff/audit');
    assert.equal(audit.status(), 403);
    assert.equal(await page.locator('h1').innerText(), 'Not allowed');
    assert.match(await page.locator('.error-message').innerText(), /Front desk role does not give access/);
    assert.equal(await page.locator('#audit, #chain-status').count(), 0, 'no audit content');
    await shot('audit-refused');

    const chart = await open(page, '/staff/patients/1');
    assert.equal(chart.status(), 403);
    assert.equal(await page.locator('h1').innerText(), 'Not allowed');
    assert.equal(await page.locator('dl.facts').count(), 0, 'no chart content');
    assert.doesNotMatch(await page.locator('body').innerText(), /MRN/);
    await shot('chart-refused');
  });
});

test('5. invalid input shows the error beside each bad field and keeps what was typed', SCENARIO, async () => {
  const name = `Kim Invalid ${runId}`;
  await inContext(browser, server.url, '5-invalid-input', PHONE, async ({ page, shot }) => {
    await open(page, '/');
    await page.fill('#name', name);
    await page.fill('#phone', '12');
    await page.fill('#email', `kim.${runId}@example.org`);
    await page.check('input[name=preferred_channel][value=phone]');
    await page.selectOption('#window_days', 'weekends');
    await page.fill('#window_start', '10:00');
    await page.fill('#window_end', '14:00');
    await page.selectOption('#time_zone', 'Europe/London'); // not the browser's own zone
    await page.selectOption('#pain_area', 'headache');
    await page.selectOption('#pain_duration', 'over-5-years');
    await page.fill('#message', 'Migraines most days.');
    // consent left unticked
    await shot('form-filled');

    const response = await clickAndWait(page, 'form.inquiry button[type=submit]', '/inquiries');
    assert.equal(response.status(), 422);
    assert.equal(response.request().method(), 'POST');

    assert.equal(
      await page.locator('.form-summary').innerText(),
      'Please check the 2 marked fields below.',
    );
    assert.equal(await page.locator('.field-error').count(), 2, 'exactly the two bad fields are marked');

    // Beside the field: the error directly follows its input, right under it on screen.
    const phoneError = page.locator('#phone-error');
    assert.ok(await phoneError.isVisible());
    assert.ok((await phoneError.innerText()).trim().length > 0, 'the phone error says something');
    assert.equal(await page.evaluate(() => document.querySelector('#phone').nextElementSibling?.id), 'phone-error');
    const input = await page.locator('#phone').boundingBox();
    const error = await phoneError.boundingBox();
    assert.ok(
      error.y >= input.y + input.height - 1 && error.y <= input.y + input.height + 24,
      `the phone error sits just under the phone field (field ends at ${input.y + input.height}, error starts at ${error.y})`,
    );
    const consentError = page.locator('label.consent + p.field-error');
    assert.ok(await consentError.isVisible(), 'the consent error follows the consent box');
    assert.match(await consentError.innerText(), /permission/);

    // What the person typed is all still there.
    assert.equal(await page.inputValue('#name'), name);
    assert.equal(await page.inputValue('#phone'), '12');
    assert.equal(await page.inputValue('#email'), `kim.${runId}@example.org`);
    assert.ok(await page.isChecked('input[name=preferred_channel][value=phone]'));
    assert.equal(await page.inputValue('#window_days'), 'weekends');
    assert.equal(await page.inputValue('#window_start'), '10:00');
    assert.equal(await page.inputValue('#window_end'), '14:00');
    assert.equal(await page.inputValue('#time_zone'), 'Europe/London');
    assert.equal(await page.inputValue('#pain_area'), 'headache');
    assert.equal(await page.inputValue('#pain_duration'), 'over-5-years');
    assert.equal(await page.inputValue('#message'), 'Migraines most days.');
    assert.equal(await page.isChecked('input[name=consent]'), false);

    assert.equal(await horizontalOverflow(page), 0, 'the form with errors still fits a phone');
    await phoneError.scrollIntoViewIfNeeded();
    await shot('errors');
  });

  // And nothing was stored.
  await inContext(browser, server.url, '5-invalid-input-not-stored', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.frontDesk);
    assert.equal(await page.locator('table#new-inquiries tbody tr', { hasText: name }).count(), 0);
    await shot('staff-home');
  });
});

test('6. an admin sees the audit trail intact, with the refusals of scenarios 3 and 4', SCENARIO, async () => {
  await inContext(browser, server.url, '6-admin-audit', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.admin);
    const trail = await open(page, '/staff/audit');
    assert.equal(trail.status(), 200);
    const chainIntact = async () => {
      const status = page.locator('#chain-status');
      assert.equal(await status.getAttribute('class'), 'chain-ok');
      const text = await status.innerText();
      const match = /^Hash chain: Intact: all (\d+) entries verify\.$/.exec(text);
      assert.ok(match && Number(match[1]) > 0, `the hash chain verifies: ${text}`);
    };
    await chainIntact();
    await shot('audit-trail');

    const rows = () =>
      page.locator('table#audit tbody tr').evaluateAll((trs) =>
        trs.map((tr) => {
          // The codes are in the cells' data attributes; the words are for people.
          const [seq, when, who, role, action, resource, from, outcome] = [...tr.cells].map(
            (td) => td.dataset.role ?? td.dataset.action ?? td.dataset.resource ?? td.dataset.outcome ?? td.innerText.trim(),
          );
          return { seq, when, who, role, action, resource, from, outcome, css: tr.className };
        }),
      );

    // Filter with the page's own form.
    await page.fill('form.filters input[name=actor]', LOGINS.frontDesk);
    await page.selectOption('form.filters select[name=outcome]', 'denied');
    await clickAndWait(page, 'form.filters button[type=submit]', '/staff/audit');
    const frontDesk = await rows();
    assert.ok(frontDesk.length > 0, 'the front desk has refusals on record');
    for (const row of frontDesk) {
      assert.equal(row.who, LOGINS.frontDesk);
      assert.equal(row.outcome, 'denied');
      assert.equal(row.css, 'outcome-denied');
    }
    const denied = (action, resource) => frontDesk.filter((r) => r.action === action && r.resource === resource);
    const auditDenial = denied('search', 'AuditEvent/*');
    const chartDenial = denied('read', 'Patient/1');
    assert.equal(auditDenial.length, 1, 'one entry for the refused audit page');
    assert.equal(chartDenial.length, 1, 'one entry for the refused chart');
    for (const row of [...auditDenial, ...chartDenial]) {
      assert.equal(row.role, 'front-desk');
      assert.equal(row.from, '127.0.0.1');
    }
    await chainIntact();
    await shot('front-desk-denials');

    // The unsigned visits of scenario 3 are on record too.
    await open(page, '/staff/audit?actor=anonymous&outcome=denied');
    const anonymous = (await rows()).map((r) => `${r.action} ${r.resource}`);
    for (const expected of ['search Inquiry/*', 'search Patient/*', 'search AuditEvent/*', 'read Patient/1']) {
      assert.ok(anonymous.includes(expected), `unsigned ${expected} is recorded as denied: ${anonymous}`);
    }
    await shot('anonymous-denials');
  });
});

test('7. the front desk, on a phone, sees the callback queue in window order and logs an attempt', SCENARIO, async () => {
  await inContext(browser, server.url, '7-callback-queue-on-phone', PHONE, async ({ page, shot }) => {
    await signIn(page, LOGINS.frontDesk);
    const queue = await open(page, '/staff/callbacks');
    assert.equal(queue.status(), 200);
    const rows = page.locator('ol#callbacks > li.callback');
    const count = await rows.count();
    assert.ok(count >= 2, `the demo clinic has callbacks waiting (${count})`);

    // Window order: each row's next opening is no earlier than the one above.
    const openings = (await rows.evaluateAll((lis) => lis.map((li) => Number(li.dataset.opening))));
    for (let i = 1; i < openings.length; i += 1) {
      assert.ok(openings[i - 1] <= openings[i], `row ${i} opens before row ${i - 1}: ${openings}`);
    }
    // Each row shows the person's clock and the clinic's.
    const first = rows.first();
    const personTime = (await first.locator('dd.person-time').innerText()).trim();
    const clinicTime = (await first.locator('dd.clinic-time').innerText()).trim();
    assert.ok(personTime.length > 0 && clinicTime.length > 0, `${personTime} / ${clinicTime}`);
    assert.equal(
      await page.evaluate(() => {
        const list = document.querySelector('ol#callbacks').getBoundingClientRect();
        return list.right <= window.innerWidth + 0.5 && list.left >= -0.5;
      }),
      true,
      'the queue fits a 390 px wide phone',
    );
    await shot('queue');

    const task = await first.getAttribute('data-task');
    const name = (await first.locator('a.name').innerText()).trim();
    assert.equal((await first.locator('dd.attempts').innerText()).trim(), 'none yet');
    await first.locator('select[name=outcome]').selectOption('no-answer');
    await first.locator('input[name=note]').fill('Rang, no answer; will try tomorrow.');
    await first.scrollIntoViewIfNeeded();
    await shot('attempt-filled');

    const logged = await clickAndWait(page, `li[data-task="${task}"] form.attempt button[type=submit]`, '/staff/callbacks');
    assert.equal(logged.status(), 200);
    assert.equal(await firstStatusOf(logged), 303, 'the POST answers 303 See Other back to the queue');
    assert.equal(await page.locator('p.confirmation').innerText(), 'Attempt logged.');
    const after = page.locator(`li[data-task="${task}"]`);
    assert.equal(await after.count(), 1, 'one no-answer keeps the callback in the queue');
    assert.match(await after.locator('dd.attempts').innerText(), /\(1 so far\)/);
    await after.scrollIntoViewIfNeeded();
    await shot('attempt-logged');

    // The attempt is on the person's inquiry too.
    await after.locator('a.name').click();
    await page.waitForURL((url) => /^\/staff\/inquiries\/\d+$/.test(url.pathname));
    assert.equal(await page.locator('h1').innerText(), `Inquiry from ${name}`);
    const attempt = page.locator('#thread li.attempt');
    assert.equal(await attempt.count(), 1);
    assert.match(await attempt.innerText(), /call attempt by frontdesk@demo\.respite\.test: No answer\s+Rang, no answer/);
    assert.equal(await horizontalOverflow(page), 0, 'the inquiry page, with its thread, fits a phone');
    await shot('inquiry-with-attempt');
  });
});
