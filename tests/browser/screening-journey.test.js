// The screening journey (SPEC §1 steps 2–4) in real Chromium on a laptop
// screen, against its own fresh `respite demo` clinic: the front desk records
// the phone consultation; a nurse converts it to a chart and enters the
// problem, medications (two failed treatment classes), an allergy, vitals and
// the contraindication review; the screening shows the records missing,
// naming the referral letter; the letter is uploaded and the verdict turns
// "eligible — clinician decision needed"; a clinician signs the decision,
// writes the multimodal plan and prints the letter to the physician (print
// media: the letter alone on the clinic's letterhead, and a PDF of it).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { DESKTOP, LOGINS, artifactsDir, horizontalOverflow, inContext, launchChromium, signIn, startRespite } from './support.js';

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

const SCENARIO = { timeout: 180_000 };

/** A date `days` from today on the clinic's calendar (America/Los_Angeles), as YYYY-MM-DD. */
function clinicDate(days = 0) {
  const at = new Date(Date.now() + days * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(at);
}

/** An hour ago on the clinic's wall clock, as a datetime-local value (YYYY-MM-DDTHH:MM). */
function clinicHourAgo() {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'America/Los_Angeles',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(Date.now() - 3_600_000))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** Fills the named fields of `form` (inputs, selects, textareas), then submits it and waits for the next page. */
async function submit(page, form, fields, { checks = [] } = {}) {
  await openSection(form);
  for (const [name, value] of Object.entries(fields)) {
    const control = form.locator(`[name="${name}"]`);
    const tag = await control.evaluate((el) => el.tagName);
    if (tag === 'SELECT') await control.selectOption(value);
    else await control.fill(value);
  }
  for (const name of checks) await form.locator(`[name="${name}"]`).check();
  const [response] = await Promise.all([
    page.waitForNavigation(),
    form.locator('button[type=submit]').click(),
  ]);
  const errors = await page.locator('.field-error').allInnerTexts();
  assert.ok(response.status() < 400, `${fields.name ?? Object.keys(fields)[0]}: ${response.status()} ${errors.join('; ')}`);
  return response;
}

/** Opens the folded section ("Add a problem", "Record vital signs", …) that holds `form`, as a person clicks it. */
async function openSection(form) {
  const details = form.locator('xpath=ancestor::details[1]');
  if ((await details.count()) && !(await details.evaluate((d) => d.open))) {
    await details.locator('summary').first().click();
  }
}

/** The main content's text, spaces folded. */
async function mainText(page) {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

const journey = { inquiryPath: null, patientPath: null, name: null, eligible: false };

test('1. the front desk records the phone consultation of a new inquiry', SCENARIO, async () => {
  await inContext(browser, server.url, '11-journey-consultation', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.frontDesk);
    const link = page.locator('table#new-inquiries tbody tr a').first();
    journey.name = (await link.innerText()).trim();
    await link.click();
    await page.waitForURL((url) => /^\/staff\/inquiries\/\d+$/.test(url.pathname));
    journey.inquiryPath = new URL(page.url()).pathname;

    await page.goto(`${journey.inquiryPath}/consultation`);
    const form = page.locator('form.consultation');
    await submit(page, form, {
      pain_location: 'Right foot and ankle',
      pain_duration_amount: '2',
      pain_duration_unit: 'years',
      diagnosis: 'Complex regional pain syndrome I of right lower limb',
      diagnosed_by: 'Dr. Helen Park',
      diagnosed_on: clinicDate(-365),
      icd10cm_code: 'G90.521',
      treatments_tried: 'ibuprofen: did not help\ngabapentin: dizzy',
      hopes: 'Walk to the shop again',
      red_flags: '',
      next_step: 'book-screening-visit',
    });
    assert.match(await mainText(page), /Note of/, 'the note is recorded');
    await shot('consultation-recorded');
  });
});

test('2. a nurse converts it to a chart and enters what screening needs; the records missing name the referral letter; the letter is uploaded and the verdict turns eligible', SCENARIO, async () => {
  assert.ok(journey.inquiryPath, 'scenario 1 recorded the consultation');
  await inContext(browser, server.url, '12-journey-nurse', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.nurse);
    await page.goto(`${journey.inquiryPath}/chart`);
    await submit(page, page.locator('form.convert'), { birth_date: '1979-04-12', sex: 'female' });
    await page.waitForURL((url) => /^\/staff\/patients\/\d+$/.test(url.pathname));
    journey.patientPath = new URL(page.url()).pathname;
    await shot('chart-made');

    const records = `${journey.patientPath}/records`;
    await page.goto(records);
    const form = (action) => page.locator(`form[action$="${action}"]`).first();
    // The problem, with who diagnosed it and their qualification.
    await submit(page, form('/problems'), {
      icd10cm_code: 'G90.521',
      onset_date: clinicDate(-730),
      diagnosed_by: 'Dr. Helen Park',
      qualification: 'physician',
      diagnosed_on: clinicDate(-365),
      recorded_on: clinicDate(),
    });
    // Two failed conventional treatment classes, and what is taken now.
    for (const med of [
      { name: 'Ibuprofen 400 mg tablet', started_on: clinicDate(-300), stopped_on: clinicDate(-210), treatment_class: 'nsaid', stop_reason: 'ineffective' },
      { name: 'Gabapentin 300 mg capsule', started_on: clinicDate(-200), stopped_on: clinicDate(-120), treatment_class: 'gabapentinoid', stop_reason: 'not-tolerated' },
      { name: 'Paracetamol 500 mg tablet', dose: '1 g up to four times daily', started_on: clinicDate(-30) },
    ]) {
      await page.goto(records);
      await submit(page, form('/medications'), { ...med, recorded_on: clinicDate() });
    }
    await page.goto(records);
    await submit(page, form('/allergies'), {
      substance: 'Penicillin',
      kind: 'allergy',
      category: 'medication',
      criticality: 'low',
      reaction: 'rash',
      recorded_on: clinicDate(),
    });
    await page.goto(records);
    await submit(page, form('/vitals'), {
      observed_at: clinicHourAgo(),
      systolic: '124',
      diastolic: '78',
      heart_rate: '72',
      weight_kg: '68',
      height_cm: '170',
    });
    await page.goto(records);
    await submit(page, form('/contraindication-review'), { reviewed_on: clinicDate() }, { checks: ['none_present'] });
    await page.goto(records);
    await shot('records-entered');
    const entered = await mainText(page);
    for (const text of ['Ibuprofen 400 mg tablet', 'Gabapentin 300 mg capsule', 'Penicillin']) {
      assert.ok(entered.includes(text), `the records show ${text}`);
    }

    // The screening: records missing, naming the referral letter.
    await page.goto(`${journey.patientPath}/screening`);
    const missing = await mainText(page);
    assert.match(missing, /Needs information/, 'the verdict waits for information');
    assert.match(missing, /3\. Medical records complete and current INFORMATION MISSING/i, 'the records criterion is missing');
    assert.match(missing, /referral \/ diagnosis letter/, 'the next step names the referral letter');
    await shot('records-missing');

    // The referral letter arrives and is uploaded.
    await page.goto(records);
    const upload = form('/documents');
    await openSection(upload);
    await upload.locator('[name=kind]').selectOption('referral-letter');
    await upload.locator('[name=document_date]').fill(clinicDate());
    await upload.locator('[name=title]').fill('Referral from Dr. Helen Park');
    await upload.locator('[name=author]').fill('Dr. Helen Park');
    await upload.locator('[name=file]').setInputFiles({
      name: 'referral.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
    });
    await Promise.all([page.waitForNavigation(), upload.locator('button[type=submit]').click()]);
    assert.match(await mainText(page), /Referral from Dr\. Helen Park/, 'the letter is on the chart');

    await page.goto(`${journey.patientPath}/screening`);
    assert.equal(
      (await page.locator('#verdict').innerText()).trim(),
      'Eligible — clinician decision needed',
      await mainText(page),
    );
    await shot('eligible-decision-needed');

    // A nurse reads the decision page but cannot sign.
    await page.goto(`${journey.patientPath}/decision`);
    assert.equal(await page.locator('#decision-form').count(), 0, 'no signing form for a nurse');
    journey.eligible = true;
  });
});

test('3. a clinician decides, writes the plan and prints the letter to the physician', SCENARIO, async () => {
  assert.ok(journey.eligible, 'scenario 2 made the chart and the screening found it eligible');
  await inContext(browser, server.url, '13-journey-clinician', DESKTOP, async ({ page, shot }) => {
    await signIn(page, LOGINS.clinician);

    // The work list shows the patient awaiting a decision, with the verdict.
    await page.goto('/staff/worklist?list=decision');
    const row = page.locator('table#worklist tbody tr', { has: page.locator(`a[href="${journey.patientPath}"]`) });
    assert.equal(await row.count(), 1, 'the new chart waits for a decision');
    assert.match(await row.innerText(), /Eligible — clinician decision needed/);
    await shot('worklist');

    await page.goto(`${journey.patientPath}/decision`);
    assert.equal((await page.locator('#verdict').innerText()).trim(), 'Eligible — clinician decision needed');
    await page.locator('input[name=outcome][value=eligible]').check();
    await page.locator('#reason').fill('CRPS for two years, NSAID and gabapentinoid failed, records complete. Agreed with the patient.');
    await shot('decision-filled');
    await Promise.all([page.waitForNavigation(), page.click('#sign-decision')]);
    const decided = await mainText(page);
    assert.match(decided, /Decided: eligible/);
    assert.equal((await page.locator('#currency').innerText()).trim(), 'current');
    await shot('decided');

    // The plan: the form starts from the chart (a row per component).
    await page.goto(`${journey.patientPath}/plan`);
    await Promise.all([page.waitForNavigation(), page.click('#write-plan')]);
    const plan = page.locator('form.plan-form');
    await plan.locator('[name=goal_2]').selectOption('pain-at-most-4');
    await plan.locator('[name=goal_3]').selectOption('custom');
    await plan.locator('[name=goal_3_description]').fill('Walk to the shop and back');
    await plan.locator('[name=activity_1_protocol]').selectOption('first-trial-guideline');
    await plan.locator('[name=activity_1_sessions]').fill('1');
    await plan.locator('[name=activity_1_status]').selectOption('scheduled');
    await plan.locator('[name=activity_2_description]').fill('Naproxen 250 mg twice a day with food');
    await plan.locator('[name=activity_2_duration]').fill('4 weeks');
    await plan.locator('[name=activity_3_description]').fill('Physiotherapy with graded motor imagery; cold packs for flares');
    await plan.locator('[name=activity_3_duration]').fill('twice a week for 8 weeks');
    await plan.locator('[name=activity_4_description]').fill('Daily walking, CBT for pain, sleep hygiene');
    await plan.locator('[name=activity_5_description]').fill('Follow-up with the diagnosing physician');
    await shot('plan-filled');
    await Promise.all([page.waitForNavigation(), page.click('#save-plan')]);
    assert.equal(new URL(page.url()).pathname, `${journey.patientPath}/plan`, 'saved, the plan page shows');
    const saved = await mainText(page);
    assert.match(saved, /version 1/);
    assert.match(saved, /What the patient will read/);
    assert.match(saved, /Your pain at 4 or lower on the 0 to 10 scale/);
    assert.match(saved, /Serlin RC et al\. Pain 1995/, 'the goal shows its source');
    assert.equal(await horizontalOverflow(page), 0, 'the plan fits the laptop screen');
    await shot('plan');

    // The letter to the physician, printed.
    await Promise.all([page.waitForNavigation(), page.click('#physician-letter')]);
    const letter = page.locator('#letter');
    const letterText = (await letter.innerText()).replace(/\s+/g, ' ');
    assert.match(letterText, /Respite Pain Clinic/, 'the letterhead is the clinic');
    assert.match(letterText, /To Dr\. Helen Park/, 'addressed to the diagnosing physician');
    assert.match(letterText, /First trial infusion \(Cohen 2018 guideline\), 1 session/);
    assert.match(letterText, /Naproxen 250 mg twice a day with food, 4 weeks/);
    assert.match(letterText, /We will review the plan by/);
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('header.site').isVisible(), false, 'the navigation does not print');
    assert.equal(await page.locator('form.search').isVisible(), false, 'the address form does not print');
    assert.equal(await page.locator('#print-letter').isVisible(), false, 'the print button does not print');
    assert.ok(await letter.isVisible(), 'the letter prints');
    await shot('letter-print-media');
    const pdfPath = path.join(artifactsDir, '13-journey-clinician--physician-letter.pdf');
    const pdf = await page.pdf({ path: pdfPath, format: 'Letter', printBackground: true });
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-', 'a PDF is printed');
    assert.ok(pdf.length > 5_000, `the PDF holds the letter (${pdf.length} bytes)`);
    await page.emulateMedia({ media: 'screen' });
  });
});
