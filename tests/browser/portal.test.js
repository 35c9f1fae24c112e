// The patient portal on a phone (390×844) against a fresh `respite demo`
// clinic whose e-mail goes through a real SMTP server (aiosmtpd, from the
// venv scripts/test prepares; RESPITE_REQUIRE_MAIL=1 makes its absence a
// failure). Nothing is read from the clinic's own folders: the sign-in link
// is taken from the message the SMTP server received.
//
// 1. A nurse invites the demo patient RSP-001000 by e-mail from the chart;
//    the patient signs in from the link, answers the PHQ-9 one question per
//    screen, closes the page halfway and resumes at the first unanswered
//    question, answers item 9 with 1 and sees crisis resources at once (988
//    and the clinic's number); a clinician sees the alert and acknowledges
//    it with the action taken; the score shown is what `respite instruments
//    score` (respite-clinical) gives for the same answers.
// 2. A second demo patient (RSP-001001), invited too, tries the first
//    patient's ids in every portal route that takes one — enumerated from
//    the server's route table (`respite routes`) — and gets 404 or 403, each
//    refusal in the audit trail (read on the admin's audit page).
// 3. The rest of a patient's way: a used link, a link that was never sent, a
//    wrong password, signing out, nothing to answer, a long list.
// Every portal page is checked for internal codes, with axe-core, for
// touch targets of at least 44 px and for 200 % zoom (a 195 px viewport:
// no sideways scrolling, nothing cut off).

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
  atZoom200,
  bounded,
  inContext,
  launchChromium,
  onAnotherScreen,
  sendAndLoad,
  respite,
  routeTable,
  signIn,
  startRespite,
  startSmtpServer,
} from './support.js';

const FIRST = 'RSP-001000';
const SECOND = 'RSP-001001';

let smtp;
let server;
let browser;

before(
  async () => {
    fs.mkdirSync(artifactsDir, { recursive: true });
    smtp = await startSmtpServer();
    if (!smtp) return;
    server = await startRespite({ args: smtp.demoArgs });
    browser = await launchChromium();
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await server?.stop();
  await smtp?.stop();
});

/**
 * Where the running scenario stands: each page checked, with the seconds
 * since the scenario began, printed with the test's result (and so in CI's
 * log when a scenario fails or is cancelled).
 */
let current = { t: null, began: 0 };
function trail(where) {
  current.t?.diagnostic(`${((Date.now() - current.began) / 1000).toFixed(1)} s: ${where}`);
}
function begin(t) {
  current = { t, began: Date.now() };
}

/** What the scenarios learn and pass on: ids, addresses, links. */
const known = {};

function skipWithoutSmtp(t) {
  if (smtp) return false;
  t.skip('RESPITE_TEST_AIOSMTPD_PYTHON is not set: no SMTP server for the invitation');
  return true;
}

/**
 * The nurse invites the patient `mrn` by e-mail from the chart; returns the
 * chart's patient id and e-mail address.
 */
async function invite(mrn, scenario) {
  let invited;
  await inContext(browser, server.url, scenario, DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.nurse);
    await page.goto(`/staff/patients?q=${mrn}`);
    const email = (await page.textContent('#patients tbody tr td.email')).trim();
    assert.match(email, /@/, `${mrn} has an e-mail address`);
    await Promise.all([page.waitForURL(/\/staff\/patients\/\d+$/), page.locator('#patients tbody tr a').first().click()]);
    const id = /\/staff\/patients\/(\d+)$/.exec(page.url())[1];
    await page.locator('#portal').scrollIntoViewIfNeeded();
    await shot('chart');
    await Promise.all([page.waitForURL(/invited=1/), page.click('button:has-text("Send the invitation")')]);
    invited = { id, email };
  });
  return invited;
}

/**
 * The sign-in link of the portal e-mail the SMTP server received for `to`
 * (the job queue runs every 30 s). Checks the message as the patient reads
 * it: from the clinic, to them, the link to this clinic, its lifetime.
 */
async function linkSentTo(to) {
  const deadline = Date.now() + 75_000;
  for (;;) {
    const message = smtp.messages().find((m) => m.envelope_to.includes(to));
    if (message) {
      assert.match(message.from, /clinic@demo\.respite\.test/);
      assert.match(message.to, new RegExp(to.replace(/[.+]/g, '\\$&')));
      assert.match(message.subject, /^Your patient portal at /);
      assert.match(message.text, /works once, for 30 minutes/);
      const match = /(\S+)\/portal\/link\?token=([0-9a-f]{64})/.exec(message.text);
      assert.ok(match, `the e-mail holds a sign-in link:\n${message.text}`);
      assert.equal(match[1], server.url, 'the link leads to this clinic');
      return `/portal/link?token=${match[2]}`;
    }
    if (Date.now() > deadline) throw new Error(`the SMTP server received no portal e-mail for ${to}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * How far the page is wider than `width` CSS px. On an emulated phone
 * (isMobile) Chromium widens the layout viewport to fit the content, so
 * `window.innerWidth` grows with an overflow; the width asked for does not.
 */
function widerThan(page, width) {
  return bounded(page.evaluate((w) => Math.max(0, document.documentElement.scrollWidth - w), width), 30_000, 'measuring the width');
}

/**
 * Elements whose box runs past the right edge of a `width` px screen, or
 * whose content (a long word, a line that may not wrap) is wider than their
 * box: text that spills out or is cut off.
 */
function cutOff(page, width) {
  const found = page.evaluate((width) => {
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden') continue;
      const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} «${el.textContent.trim().slice(0, 30)}»`;
      if (box.right > width + 0.5) out.push(`${name} ends at ${Math.round(box.right)} px`);
      else if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && style.display !== 'inline') {
        // Content wider than its box: it spills out (visible) or is cut (hidden, clip);
        // a box that scrolls on purpose (auto, scroll) is not cut.
        if (!['auto', 'scroll'].includes(style.overflowX)) out.push(`${name}: its content is ${el.scrollWidth - el.clientWidth} px wider than its box`);
      }
    }
    return out.slice(0, 5);
  }, width);
  return bounded(found, 30_000, 'looking for what is cut off');
}

/** Buttons, button-like links and answer choices smaller than 44 CSS px (WCAG 2.5.5). */
function smallTargets(page) {
  const found = page.evaluate(() =>
    [...document.querySelectorAll('main button, main a.button, main label.choice, main input[type=email], main input[type=password]')]
      .map((el) => ({ el, box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.width > 0 && box.height < 44)
      .map(({ el, box }) => `${el.tagName.toLowerCase()} «${el.textContent.trim().slice(0, 40)}» is ${Math.round(box.height)} px high`),
  );
  return bounded(found, 30_000, 'measuring the touch targets');
}

/**
 * Every portal page: no internal codes, no serious or critical axe-core
 * violation (support.js fails on any), touch targets of 44 px, no sideways
 * scrolling at 390 px and at 200 % zoom (390 px at 200 % is a 195 CSS px
 * viewport), nothing cut off.
 */
async function check(page, where) {
  trail(where);
  await assertNoRawCodes(page, where);
  await assertAccessible(page, where);
  assert.deepEqual(await smallTargets(page), [], `${where}: touch targets of at least 44 px`);
  const viewport = page.viewportSize();
  assert.equal(await widerThan(page, viewport.width), 0, `${where}: no sideways scrolling at ${viewport.width} px`);
  await atZoom200(browser, page, async (zoomed) => {
    try {
      assert.deepEqual(await cutOff(zoomed, 195), [], `${where}: nothing cut off or wider than the screen at 200 % zoom`);
      assert.equal(await widerThan(zoomed, 195), 0, `${where}: no sideways scrolling at 200 % zoom`);
    } catch (err) {
      const name = where.replace(/[^a-z0-9]+/gi, '-');
      await zoomed.screenshot({ path: path.join(artifactsDir, `portal-zoom-200--${name}.png`), fullPage: true });
      throw err;
    }
  });
}

async function answer(page, value) {
  await page.check(`input[name=value][value="${value}"]`);
  await sendAndLoad(page, page.click('button:has-text("Save and continue")'));
  assert.match(new URL(page.url()).pathname, /^\/portal\/questionnaires\/\d+$/);
}

/** Signs the patient in from the link's page; resolves on their portal page. */
async function signInFromLink(page, link, where) {
  await page.goto(link);
  await check(page, where);
  await Promise.all([page.waitForURL((u) => u.pathname === '/portal/'), page.click('button:has-text("Sign in")')]);
}

test('a patient invited by e-mail over SMTP answers the PHQ-9, resumes, sees crisis resources; a clinician acknowledges the alert', { timeout: 300_000 }, async (t) => {
  if (skipWithoutSmtp(t)) return;
  begin(t);
  known.first = await invite(FIRST, 'portal-invite');
  trail('invited');
  known.firstLink = await linkSentTo(known.first.email);
  trail('the link arrived');

  // The PHQ-9's answers, items 1–9 (item 9 = 1), then item 10 (difficulty).
  const answers = [1, 2, 1, 1, 0, 1, 0, 1, 1];

  await inContext(browser, server.url, 'portal-patient', PHONE, async ({ page, context, shot }) => {
    await signInFromLink(page, known.firstLink, 'link page');
    await shot('home');
    await check(page, 'portal home');

    await Promise.all([page.waitForURL(/\/portal\/questionnaires\/\d+/), page.locator('#due a').first().click()]);
    const form = new URL(page.url()).pathname;
    known.firstForm = /\/portal\/questionnaires\/(\d+)/.exec(form)[1];
    for (let n = 1; n <= 5; n += 1) {
      assert.match(await page.textContent('#progress'), new RegExp(`Question ${n} of 10`));
      await check(page, `question ${n}`);
      if (n === 1) await shot('question-1');
      await answer(page, String(answers[n - 1]));
    }

    // Leave halfway by closing the page; a new one, later, resumes at the
    // first unanswered question.
    await bounded(page.close(), 30_000, 'closing the page halfway');
    const again = await bounded(context.newPage(), 30_000, 'opening a new page');
    await again.goto('/portal/');
    assert.match(await again.textContent('#due'), /5 of 10 answered/);
    await Promise.all([again.waitForURL(/\/portal\/questionnaires\/\d+/), again.locator('#due a').first().click()]);
    assert.equal(new URL(again.url()).pathname, form);
    assert.match(await again.textContent('#progress'), /Question 6 of 10/);
    await again.screenshot({ path: path.join(artifactsDir, 'portal-patient--resumed.png'), fullPage: true });

    for (const value of answers.slice(5, 8)) await answer(again, String(value));
    assert.match(await again.textContent('#progress'), /Question 9 of 10/);
    await answer(again, String(answers[8]));
    // Crisis resources at once, on the very next screen: 988 and the clinic.
    await again.locator('#crisis-resources').waitFor();
    assert.match(await again.textContent('#crisis-resources'), /988/);
    assert.equal(await again.getAttribute('#crisis-resources a[href="tel:988"]', 'href'), 'tel:988');
    assert.match(await again.getAttribute('#crisis-clinic-phone', 'href'), /^tel:\+\d+$/);
    await check(again, 'crisis resources');
    await again.screenshot({ path: path.join(artifactsDir, 'portal-patient--crisis.png'), fullPage: true });
    await answer(again, '1');
    await sendAndLoad(again, again.click('#submit'));
    assert.equal(new URL(again.url()).pathname, form);

    // The score the page shows is respite-clinical's for the same answers,
    // through the command anyone can run.
    const scored = JSON.parse(respite(['instruments', 'score', '--instrument', 'phq9'], JSON.stringify({ answers })));
    assert.deepEqual(scored.flags, ['item9']);
    const result = await again.textContent('#result');
    assert.ok(result.includes(`${scored.score} of 27 — ${scored.band}`), `«${result}» shows ${scored.score} of 27 — ${scored.band}`);
    await check(again, 'result');
    await again.screenshot({ path: path.join(artifactsDir, 'portal-patient--result.png'), fullPage: true });
    await again.goto('/portal/');
    assert.match(await again.textContent('#scores'), new RegExp(`${scored.score} of 27`));
    await again.goto('/portal/crisis');
    await check(again, 'crisis page');
    await again.close();
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

/**
 * Which of the first patient's records each portal route's `{id}` names.
 * The routes come from the server's table; a portal route with an id that
 * is missing here fails the test until it is added (the Rust enumeration,
 * crates/web/tests/web/portal/mod.rs, keeps the same list: PORTAL_ROUTES_WITH_IDS).
 */
const OWNED_BY_ID = {
  'GET /portal/questionnaires/{id}': { record: 'form', resource: 'QuestionnaireResponse' },
  'POST /portal/questionnaires/{id}/answers': { record: 'form', resource: 'QuestionnaireResponse', fields: { item: '1', value: '1' } },
  'POST /portal/questionnaires/{id}/submit': { record: 'form', resource: 'QuestionnaireResponse' },
};

test("a second patient gets 404 or 403 for the first patient's ids in every portal route, each refusal audited", { timeout: 300_000 }, async (t) => {
  if (skipWithoutSmtp(t)) return;
  begin(t);
  assert.ok(known.firstForm, 'the first scenario gave the first patient a questionnaire');
  known.second = await invite(SECOND, 'portal-invite-second');
  const link = await linkSentTo(known.second.email);

  const routes = routeTable().filter((r) => r.access === 'patient' && r.path.includes('{'));
  assert.ok(routes.length >= 3, 'the route table lists the portal routes with ids');
  const unknown = routes.map((r) => `${r.method} ${r.path}`).filter((key) => !(key in OWNED_BY_ID));
  assert.deepEqual(unknown, [], "portal routes with ids this test does not know which of the first patient's records to try in");

  const tried = [];
  await inContext(browser, server.url, 'portal-second', PHONE, async ({ page, shot }) => {
    await signInFromLink(page, link, 'second patient link page');
    await shot('home');
    // Nothing assigned to this patient yet: an empty list, said in words.
    if ((await page.locator('#due').count()) === 0) {
      assert.match(await page.textContent('#nothing-due'), /Nothing to answer right now/);
    }
    const home = await page.textContent('main');
    assert.doesNotMatch(home, new RegExp(`questionnaires/${known.firstForm}\\b`));
    const csrf = await page.getAttribute('input[name=csrf]', 'value');
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const { record, resource, fields = {} } = OWNED_BY_ID[key];
      const id = { form: known.firstForm }[record];
      const url = route.path.replace('{id}', id);
      let status;
      let body;
      if (route.method === 'GET') {
        const response = await page.goto(url);
        status = response.status();
        body = await page.textContent('body');
        assert.ok((await page.locator('main a[href="/portal/"]').count()) >= 1, `${key}: the way back to their own page`);
        await check(page, `${key} with another patient's id`);
      } else {
        const response = await page.request.post(url, { form: { csrf, ...fields }, maxRedirects: 0 });
        status = response.status();
        body = await response.text();
      }
      assert.ok([403, 404].includes(status), `${key} with the first patient's id: ${status}, not 404 or 403`);
      assert.doesNotMatch(body, new RegExp(known.first.email.replace(/[.+]/g, '\\$&')), `${key}: nothing of the first patient's`);
      tried.push({ key, resource, id });
    }
    await page.goto('/portal/');
    await shot('after');

    // This patient chooses a password (the third scenario signs in with it).
    known.secondPassword = 'a long portal password for Mei';
    await page.fill('#new-password', known.secondPassword);
    await Promise.all([page.waitForURL(/password=1/), page.click('button:has-text("Save password")')]);
    assert.match(await page.textContent('#password-saved'), new RegExp(known.second.email.replace(/[.+]/g, '\\$&')));
    await check(page, 'password saved');
  });

  // Each refusal is in the audit trail, as this patient, on the admin's page.
  await inContext(browser, server.url, 'portal-audit', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.admin);
    await page.goto(`/staff/audit?actor=${encodeURIComponent(`Patient/${known.second.id}`)}&outcome=invalid`);
    await shot('refusals');
    const rows = await page.$$eval('#audit tbody tr', (trs) =>
      trs.map((tr) => ({
        actor: tr.children[2].textContent.trim(),
        resource: tr.querySelector('[data-resource]').dataset.resource,
        action: tr.querySelector('[data-action]').dataset.action,
        outcome: tr.querySelector('[data-outcome]').dataset.outcome,
      })),
    );
    for (const { key, resource, id } of tried) {
      const action = key.startsWith('GET') ? 'read' : 'update';
      const found = rows.filter((r) => r.actor === `Patient/${known.second.id}` && r.resource === `${resource}/${id}` && r.action === action && r.outcome === 'invalid');
      assert.ok(found.length >= 1, `${key}: the refusal is audited (rows: ${JSON.stringify(rows)})`);
    }
    assert.equal(rows.length, tried.length, 'one audit entry per refused request');
  });
});

test('a patient past the happy path: used and broken links, a wrong password, nothing to answer, a long list, signing out', { timeout: 300_000 }, async (t) => {
  if (skipWithoutSmtp(t)) return;
  begin(t);
  assert.ok(known.firstLink && known.secondPassword, 'the first two scenarios ran');

  // The nurse gives the second patient many questionnaires: a long list.
  const assigned = [];
  await inContext(browser, server.url, 'portal-assign', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.nurse);
    await page.goto(`/staff/patients/${known.second.id}`);
    const options = await page.$$eval('#assign-instrument option', (os) => os.map((o) => ({ value: o.value, name: o.textContent.trim() })));
    assert.ok(options.length >= 4, 'several questionnaires can be assigned');
    for (const option of options) {
      await page.selectOption('#assign-instrument', option.value);
      await sendAndLoad(page, page.click('form[action$="/questionnaires"] button:has-text("Assign")'));
      assert.match(page.url(), /#portal$/);
      assigned.push(option.name);
    }
    await page.locator('#portal').scrollIntoViewIfNeeded();
    await shot('assigned');
  });

  await inContext(browser, server.url, 'portal-walk', PHONE, async ({ page, context, shot }) => {
    // A link used already: said plainly, with what to do.
    await page.goto(known.firstLink);
    const used = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/portal/link') && r.request().method() === 'POST'), page.click('button:has-text("Sign in")')]);
    assert.equal(used[0].status(), 410);
    assert.match(await page.textContent('#portal-error'), /used already or has expired\. Ask the clinic for a new one/);
    await check(page, 'used link');
    await shot('used-link');

    // A link cut short by the mail program: the same, never an error page.
    await page.goto('/portal/link?token=0123456789abcdef');
    await page.click('button:has-text("Sign in")');
    assert.match(await page.textContent('#portal-error'), /used already or has expired/);

    // A wrong password, then the right one.
    await page.goto('/portal/sign-in');
    await check(page, 'sign-in page');
    await page.fill('#portal-email', known.second.email);
    await page.fill('#portal-password', 'not the password at all');
    await page.click('form[action="/portal/sign-in"] button');
    assert.match(await page.textContent('#portal-error'), /e-mail address and password do not match/);
    await check(page, 'wrong password');
    await shot('wrong-password');
    await page.fill('#portal-email', known.second.email.toUpperCase());
    await page.fill('#portal-password', known.secondPassword);
    await Promise.all([page.waitForURL((u) => u.pathname === '/portal/'), page.click('form[action="/portal/sign-in"] button')]);

    // The long list: every questionnaire, each a large button.
    const due = await page.$$eval('#due li a', (as) => as.map((a) => a.textContent.trim()));
    for (const name of assigned) assert.ok(due.some((d) => d.startsWith(name.slice(0, 12))), `${name} is due (${due})`);
    const lengths = await page.$$eval('#due li .small', (spans) => spans.map((s) => s.textContent.trim()));
    assert.deepEqual(lengths.filter((l) => /^1 questions/.test(l)), [], 'one question, not "1 questions"');
    await check(page, 'long list');
    await shot('long-list');
    // The same page on a laptop.
    await onAnotherScreen(browser, page, DESKTOP, (laptop) =>
      laptop.screenshot({ path: path.join(artifactsDir, 'portal-long-list--laptop.png'), fullPage: true }),
    );
    // Each opens at its first question, with the instrument's own scale.
    const links = await page.$$eval('#due li a', (as) => as.map((a) => a.getAttribute('href')));
    for (const href of links) {
      await page.goto(href);
      assert.match(await page.textContent('#progress'), /Question 1 of \d+/);
      await check(page, `first question of ${href}`);
    }

    // A question left open in another tab.
    const other = await context.newPage();
    await other.goto(links[0]);

    // Signing out says so, and the portal then asks to sign in again.
    await page.goto('/portal/');
    await Promise.all([page.waitForURL(/\/portal\/sign-in/), page.click('button:has-text("Sign out")')]);
    assert.match(await page.textContent('#portal-notice'), /You have signed out/);
    await check(page, 'signed out');
    await shot('signed-out');
    await page.goto('/portal/');
    assert.equal(new URL(page.url()).pathname, '/portal/sign-in');

    // The other tab's answer, sent after signing out (its form holds the
    // old session's token): refused, with the way back to the portal (not
    // to the staff's pages, not "reload", which would send it again).
    await other.locator('input[name=value]').first().check();
    const [refused] = await Promise.all([other.waitForNavigation(), other.click('button:has-text("Save and continue")')]);
    assert.equal(refused.status(), 403);
    assert.match(await other.textContent('main'), /its answer was not sent\. The answers you saved before are kept/);
    assert.equal(await other.locator('a[href="/staff"]').count(), 0);
    await check(other, 'answer after signing out');
    await Promise.all([other.waitForURL(/\/portal\/sign-in/), other.click('a:has-text("Open your page")')]);
    await other.close();
  });
});
