// The infusion session (SPEC §1 step 5), the first "must show", in
// real Chromium on a tablet (1024×768), against its own `respite demo`:
// order (one ceiling override with a reason) → second check → pre-start
// checklist → start → four sets of vitals, one alarming and acknowledged →
// a rate change → an adverse event with a rescue drug (midazolam, drawn
// from one of the demo's midazolam vials and given in one step, the rest
// wasted with a witness) → stop → Aldrete 8 refuses discharge → Aldrete 9
// discharges → clinician sign-off → the register shows the ketamine and the
// midazolam draws, the wastes with their witness, and the right balances. The session page is looked at in portrait (820×1180) too.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import {
  DEMO_PASSWORD,
  LOGINS,
  artifactsDir,
  assertAccessible,
  assertNoRawCodes,
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
  assert.equal(await horizontalOverflow(page), 0, `${where}: no sideways scrolling`);
}

/** Submits the form holding `button` and waits for the page it leads to. */
async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), page.click(button)]);
}

/** "350 mg …" → 350. */
function mgOf(text) {
  const match = /([\d.]+) mg/.exec(text);
  assert.ok(match, `an amount in mg: ${text}`);
  return Number(match[1]);
}

async function vitals(page, [systolic, diastolic, hr, spo2, rr, pain]) {
  await page.fill('#systolic', String(systolic));
  await page.fill('#diastolic', String(diastolic));
  await page.fill('#heart_rate', String(hr));
  await page.fill('#oxygen_saturation', String(spo2));
  await page.fill('#respiratory_rate', String(rr));
  if (pain !== undefined) await page.fill('#pain_nrs', String(pain));
  await submit(page, '#vitals-form button[type=submit]');
}

async function aldrete(page, total) {
  const items = ['activity', 'respiration', 'circulation', 'consciousness', 'oxygen-saturation'];
  let left = total;
  for (const item of items) {
    const value = Math.min(2, left);
    left -= value;
    await page.check(`input[name="${item}"][value="${value}"]`);
  }
  await submit(page, '#aldrete-form button[type=submit]');
}

test('a whole infusion session on a tablet, from the order to the register', { timeout: 300_000 }, async () => {
  await inContext(browser, server.url, 'infusion-session', TABLET, async ({ page, shot }) => {
    // The clinician orders above a ceiling, with a reason.
    await signIn(page, LOGINS.clinician);
    await page.goto('/staff/patients?q=Solberg');
    const chart = await page.locator('#patients tbody tr a').first().getAttribute('href');
    await page.goto(`${chart}/orders/new`);
    await page.fill('#rate', '1.4');
    await page.click('#plan-form button[type=submit]:not([name])');
    await page.locator('#override_reason').waitFor();
    await page.fill('#override_reason', 'Tolerated 1.4 mg/kg/h in the last series; monitored.');
    await Promise.all([page.waitForURL(/\/staff\/orders\/\d+$/), page.click('#order-form button[type=submit]')]);
    const orderUrl = page.url();
    assert.match(await page.locator('#overrides').innerText(), /overridden by/);
    assert.equal(await page.locator('#start-session-form').count(), 0, 'no session before the check');

    // The nurse checks it, then opens the session.
    await page.context().clearCookies();
    await signIn(page, LOGINS.nurse);
    await page.goto(orderUrl);
    const pump = (await page.locator('#order-facts').innerText()).match(/([\d.]+) mL\/h/)[1];
    await page.check('input[name=drug_confirmed]');
    await page.fill('#concentration_mg_ml', '10');
    await page.fill('#weight_kg', '68.4');
    await page.fill('#pump_ml_h', pump);
    await submit(page, '#check-form button[type=submit]');
    assert.match(await page.locator('#check-status').innerText(), /Verified by/);
    await submit(page, '#start-session-form button[type=submit]');
    assert.match(page.url(), /\/staff\/sessions\/\d+/);
    const sessionUrl = page.url().replace(/#.*$/, '');
    assert.match(await page.innerText('#session-state'), /Pre-start checklist/);
    await check(page, 'checklist');
    await shot('checklist');

    // The ketamine drawn from a named vial.
    const vialOption = page.locator('#draw-vial option').nth(1);
    const vialId = await vialOption.getAttribute('value');
    const before = mgOf((await vialOption.innerText()).split('·').pop());
    await page.selectOption('#draw-vial', vialId);
    await page.fill('#draw-ml', '2');
    await submit(page, '#draw-form button[type=submit]');
    assert.match(await page.innerText('#register-entries'), /Draw/);
    const drawn = mgOf(await page.locator('#register-entries tbody tr').first().innerText());

    // The start waits for the checklist.
    await submit(page, '#start-form button[type=submit]');
    assert.match(await page.innerText('#session-error'), /cannot start until the checklist is complete/);
    await check(page, 'start refused');
    await page.check('input[name=consent]');
    await page.check('input[name=iv_access]');
    await page.fill('#escort_name', 'Sam Rivera');
    await page.fill('#escort_phone', '(312) 555-0100');
    await page.check('input[name=escort_confirmed]');
    await submit(page, '#checklist-form button[type=submit]');
    await vitals(page, [126, 78, 74, 98, 14, 7]);
    assert.equal(await page.locator('#checklist-items li.todo').count(), 0, 'the checklist is complete');
    await shot('ready');
    await submit(page, '#start-form button[type=submit]');
    assert.match(await page.innerText('#session-state'), /Infusing/);
    assert.match(await page.innerText('#vitals-due'), /Vital signs due now/);
    await check(page, 'running');
    await shot('running');

    // Four sets of vitals; the second alarms and is acknowledged.
    await vitals(page, [132, 80, 78, 97, 14, 5]);
    assert.match(await page.innerText('#vitals-due'), /Next vital signs due in 1[45] min/);
    await vitals(page, [186, 96, 88, 96, 15, 4]);
    assert.match(await page.innerText('#open-alarms'), /Systolic 186 mm Hg: above the alarm limit of 180/);
    await check(page, 'alarm');
    await shot('alarm');
    const ack = page.locator('#open-alarms form').first();
    await ack.locator('textarea').fill('Reassured, quiet room; BP rechecked 164/90; clinician informed.');
    await submit(page, '#open-alarms form button[type=submit]');
    assert.equal(await page.locator('#open-alarms').count(), 0);
    assert.match(await page.innerText('#alarm-history'), /Acknowledged by .*Reassured/);
    await vitals(page, [150, 88, 80, 97, 14, 4]);
    await vitals(page, [138, 82, 76, 98, 14, 3]);

    // A rate change, with its reason.
    const lower = (Number(pump) - 1).toFixed(1);
    await page.fill('#rate-pump', lower);
    await page.fill('#rate-reason', 'Blood pressure up earlier; slower for comfort');
    await submit(page, '#rate-form button[type=submit]');
    assert.match(await page.innerText('#session-rate'), new RegExp(`\\(${lower.replace('.', '\\.')} mL/h\\)`));
    assert.match(await page.innerText('#vitals-due'), /changed rate since the last set/);

    // An adverse event and a rescue drug from the protocol's list.
    await page.selectOption('#ae-code', 'dissociation');
    await page.fill('#ae-description', 'Frightening imagery; reassured');
    await submit(page, '#adverse-form button[type=submit]');
    // Midazolam is controlled (Schedule IV): without a vial it is refused,
    // nothing written, what was typed kept.
    await page.selectOption('#rescue-drug', 'midazolam (benzodiazepine)');
    await page.fill('#rescue-dose', '1');
    await page.fill('#rescue-reason', 'Distressing dissociation despite reassurance');
    await submit(page, '#rescue-form button[type=submit]');
    assert.match(await page.innerText('#session-error'), /Vial: midazolam is a controlled substance/);
    assert.equal(await page.inputValue('#rescue-reason'), 'Distressing dissociation despite reassurance');
    await check(page, 'rescue refused');
    // A demo vial of midazolam (1 mg/mL × 2 mL): 2 mg drawn, 1 mg given.
    const midazolamOption = page.locator('#rescue-vial option', { hasText: 'Midazolam' }).first();
    const midazolamVial = await midazolamOption.getAttribute('value');
    assert.match(await midazolamOption.innerText(), /Midazolam · vial \d+ · lot .* · 1 mg\/mL · 2 mg left/);
    await page.selectOption('#rescue-vial', midazolamVial);
    await page.fill('#rescue-drawn', '2');
    await shot('rescue-filled');
    await submit(page, '#rescue-form button[type=submit]');
    assert.match(await page.innerText('#timeline-table'), /Rescue drug given/);
    const registerRows = await page.innerText('#register-entries');
    assert.match(registerRows, new RegExp(`Drawn\\s+Midazolam, vial ${midazolamVial} · lot \\S+\\s+2 mg`));
    assert.match(registerRows, new RegExp(`Given\\s+Midazolam, vial ${midazolamVial} · lot \\S+\\s+1 mg`));
    const rescueLeft = page.locator('p.open-rescue-draw').first();
    assert.match(await rescueLeft.innerText(), /1 mg of the rescue drug's draw is left, to waste with a witness/);
    await check(page, 'rescue given');
    await shot('events');
    // The rest wasted with a witness on the vial's page, then back.
    await Promise.all([page.waitForURL(/\/staff\/register\/vials\/\d+/), rescueLeft.locator('a').click()]);
    const rescueDraw = await page.locator('section.open-draw').first().getAttribute('data-draw');
    await page.fill(`#waste-${rescueDraw}`, '1');
    await page.selectOption(`#witness-${rescueDraw}`, { label: 'Dr. Carl Clinician (Clinician)' });
    await page.fill(`#witness-password-${rescueDraw}`, DEMO_PASSWORD);
    await submit(page, `section[data-draw="${rescueDraw}"] form[action$="/waste"] button`);
    assert.match(await page.innerText('#done'), /Waste recorded with its witness/);
    assert.equal(mgOf(await page.innerText('#balance')), 0, 'the 2 mg vial is empty');
    await check(page, 'midazolam vial');
    await shot('midazolam-vial');
    await page.goto(sessionUrl);
    assert.equal(await page.locator('p.open-rescue-draw').count(), 0, 'nothing left to waste');

    // Stop, recovery, Aldrete 8 refuses discharge, 9 discharges.
    await submit(page, '#stop-form button[type=submit]');
    assert.match(await page.innerText('#session-state'), /Stopped/);
    await submit(page, '#recovery-form button[type=submit]');
    await aldrete(page, 8);
    await submit(page, '#discharge-form button[type=submit]');
    assert.match(await page.innerText('#session-error'), /Aldrete score is 8 of 10: discharge needs 9 or more/);
    await check(page, 'discharge refused');
    await shot('discharge-refused');
    await aldrete(page, 9);
    assert.match(await page.innerText('#aldrete-latest'), /9 of 10: meets discharge criteria/);
    await submit(page, '#discharge-form button[type=submit]');
    assert.match(await page.innerText('#session-state'), /Discharged/);
    assert.match(await page.innerText('#awaiting-sign-off'), /a clinician signs off/);

    // The register: what the pump delivered is given; the rest wasted with a witness.
    const delivered = mgOf(await page.innerText('#session-delivered'));
    const administration = page.locator('form[id^=administration-]').first();
    const drawId = (await administration.getAttribute('id')).replace('administration-', '');
    await submit(page, `#administration-${drawId} button[type=submit]`);
    const given = mgOf(
      await page.locator('#register-entries tbody tr', { hasText: 'Given' }).filter({ hasText: 'Ketamine' }).innerText(),
    );
    assert.ok(Math.abs(given - delivered) < 0.1, `given ${given} = delivered ${delivered}`);
    await page.goto(`/staff/register/vials/${vialId}`);
    const left = Math.round((drawn - given) * 1000) / 1000;
    await page.fill(`#waste-${drawId}`, String(left));
    await page.selectOption(`#witness-${drawId}`, { label: 'Dr. Carl Clinician (Clinician)' });
    await page.fill(`#witness-password-${drawId}`, DEMO_PASSWORD);
    await submit(page, `section[data-draw="${drawId}"] form[action$="/waste"] button`);
    assert.match(await page.innerText('#done'), /Waste recorded with its witness/);

    // The clinician signs off; the record shows planned against delivered.
    await page.context().clearCookies();
    await signIn(page, LOGINS.clinician);
    await page.goto(sessionUrl);
    await submit(page, '#sign-off-form button[type=submit]');
    assert.match(await page.innerText('#session-state'), /Signed off/);
    assert.match(await page.innerText('#comparison'), /Planned[\s\S]*Delivered/);
    await check(page, 'signed off');
    await shot('signed-off');

    // The register: the draw, the waste with its witness, the balance.
    await page.goto(`/staff/register/vials/${vialId}`);
    const entries = await page.innerText('#entries');
    assert.match(entries, /Draw/);
    // The vial may hold earlier sessions' wastes (the demo's): this
    // session's is the newest, listed last.
    assert.match(await page.locator('#entries tr[data-kind="waste"]').last().innerText(), /Dr\. Carl Clinician/);
    assert.equal(mgOf(await page.innerText('#balance')), Math.round((before - drawn) * 1000) / 1000);
    await shot('register');
    // And the midazolam: drawn, given and wasted for this session.
    await page.goto(`/staff/register/vials/${midazolamVial}`);
    assert.match(await page.innerText('h1'), /Midazolam, vial/);
    assert.match(await page.innerText('#drug'), /DEA Schedule IV/);
    const kinds = await page.locator('#entries tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.kind));
    assert.deepEqual(kinds.slice(-3), ['draw', 'administration', 'waste']);
    assert.match(await page.locator('#entries tr[data-kind="waste"]').last().innerText(), /Dr\. Carl Clinician/);
    assert.equal(mgOf(await page.innerText('#balance')), 0);
    await page.goto('/staff/register');
    assert.equal(await page.locator(`#vial-list tr[data-vial="${midazolamVial}"]`).count(), 0, 'the empty vial is off the list');
    assert.ok(await page.locator('#vial-list td[data-drug="midazolam"]').count() > 0, 'the other midazolam vials are on hand');

    // The session page in portrait, as a nurse holds the tablet.
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.goto(sessionUrl);
    await check(page, 'portrait');
    await shot('portrait');
    // And on a laptop and a phone, for whoever reads the record later.
    for (const [where, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
      await page.setViewportSize(viewport);
      await page.goto(sessionUrl);
      await check(page, where);
      await shot(where);
    }
    await page.goto('/staff/sessions');
    await check(page, 'sessions of the day');
    await shot('sessions-list');
  });
});
