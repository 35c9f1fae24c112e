// The chart's records in real Chromium, against its own fresh `respite demo`
// clinic: a nurse opens a demo patient's records and enters a current
// medication, two conventional treatments that failed (two classes), an
// allergy and vital signs, is told which field is wrong when a stop date comes
// before the start, uploads the referral letter (a PDF), and the screening
// then counts the two classes and the current letter. Once on a laptop and
// once on a tablet (1024×768), with nothing wider than the screen.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import {
  DESKTOP,
  LOGINS,
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

/** A tablet in landscape, touch. */
const TABLET = {
  viewport: { width: 1024, height: 768 },
  isMobile: true,
  hasTouch: true,
  locale: 'en-US',
  timezoneId: 'America/Los_Angeles',
};

/** A one-page PDF (ISO 32000-1), as a referring physician's office sends one. */
function referralPdf() {
  const text = 'BT /F1 12 Tf 72 720 Td (Referral letter - Dr. Helen Park) Tj ET\n';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${text.length} >>\nstream\n${text}endstream`,
  ];
  let pdf = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((object, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** Today on the demo clinic's clock, YYYY-MM-DD. */
function clinicToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(new Date());
}

/** YYYY-MM-DD `days` before today (clinic clock). */
function daysAgo(days) {
  const [y, m, d] = clinicToday().split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d - days));
  return date.toISOString().slice(0, 10);
}

/** Opens a `<details>` entry form, fills it, submits, and waits for the records page again. */
async function submitEntry(page, formId, fill) {
  const form = page.locator(`#${formId}`);
  const details = form.locator('xpath=ancestor::details[1]');
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  await fill(form);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/staff/patients/')),
    form.locator('button[type=submit]').click(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

async function enterChart(page, shot, mrn) {
  await signIn(page, LOGINS.nurse);
  await page.goto(`/staff/patients?q=${mrn}`);
  await Promise.all([page.waitForURL(/\/staff\/patients\/\d+$/), page.click('#patients a')]);
  await Promise.all([page.waitForURL(/\/records$/), page.click('nav.chart-tabs a:has-text("Records")')]);
  assert.equal(await horizontalOverflow(page), 0, 'the records page fits the screen');
  assert.match(await page.innerText('#medications .freshness'), /missing/i, 'no medication list yet');
  await shot('records-empty');

  // A current medication.
  let response = await submitEntry(page, 'add-medication', async (form) => {
    await form.locator('[name=name]').fill('Duloxetine 60 mg capsule');
    await form.locator('[name=rxnorm_code]').fill('72625');
    await form.locator('[name=dose]').fill('60 mg daily');
    await form.locator('[name=started_on]').fill(daysAgo(200));
  });
  assert.equal(response.status(), 303);
  assert.match(await page.innerText('#medications'), /Duloxetine 60 mg capsule/);

  // A stop date before the start is refused, naming the field; nothing is written.
  response = await submitEntry(page, 'add-medication', async (form) => {
    await form.locator('[name=name]').fill('Gabapentin 300 mg capsule');
    await form.locator('[name=started_on]').fill(daysAgo(300));
    await form.locator('[name=stopped_on]').fill(daysAgo(400));
    await form.locator('[name=treatment_class]').selectOption('gabapentinoid');
    await form.locator('[name=stop_reason]').selectOption('ineffective');
  });
  assert.equal(response.status(), 422);
  const error = await page.innerText('#add-medication');
  assert.match(error, /stopped_on: must not be before the start date \(started_on/);
  await shot('stop-before-start-refused');

  // Two conventional treatments that failed, of two classes.
  response = await submitEntry(page, 'add-medication', async (form) => {
    await form.locator('[name=stopped_on]').fill(daysAgo(210));
  });
  assert.equal(response.status(), 303, 'the same form, corrected');
  response = await submitEntry(page, 'add-medication', async (form) => {
    await form.locator('[name=name]').fill('Physiotherapy, 12 weekly sessions');
    await form.locator('[name=tried_for_days]').fill('84');
    await form.locator('[name=treatment_class]').selectOption('physiotherapy');
    await form.locator('[name=stop_reason]').selectOption('ineffective');
  });
  assert.equal(response.status(), 303);
  const past = await page.innerText('#medications');
  assert.match(past, /gabapentinoid, tried 90 days, stopped: ineffective/);
  assert.match(past, /physiotherapy, tried 84 days, stopped: ineffective/);

  // An allergy.
  response = await submitEntry(page, 'add-allergy', async (form) => {
    await form.locator('[name=substance]').fill('Penicillin');
    await form.locator('[name=rxnorm_code]').fill('7980');
    await form.locator('[name=criticality]').selectOption('low');
    await form.locator('[name=reaction]').fill('hives');
  });
  assert.equal(response.status(), 303);
  assert.match(await page.innerText('#allergies'), /Penicillin/);
  assert.match(await page.innerText('#allergies .ketamine-row'), /none recorded/);

  // Vital signs, weight and height: the BMI follows from them.
  response = await submitEntry(page, 'add-vitals', async (form) => {
    await form.locator('[name=systolic]').fill('124');
    await form.locator('[name=diastolic]').fill('78');
    await form.locator('[name=heart_rate]').fill('72');
    await form.locator('[name=oxygen_saturation]').fill('98');
    await form.locator('[name=weight_kg]').fill('68');
    await form.locator('[name=height_cm]').fill('165');
  });
  assert.equal(response.status(), 303);
  const vitals = await page.innerText('#vitals');
  assert.match(vitals, /BMI 25\.0 kg\/m²/, '68 kg / 1.65² m = 24.98');
  assert.match(vitals, /124 mm Hg/);
  assert.match(await page.innerText('#vitals .freshness'), /current/i);
  await shot('entries-made');

  // The referral letter, uploaded.
  response = await submitEntry(page, 'upload-document', async (form) => {
    await form.locator('[name=kind]').selectOption('referral-letter');
    await form.locator('[name=document_date]').fill(daysAgo(10));
    await form.locator('[name=title]').fill('Referral from Dr. Helen Park');
    await form.locator('[name=author]').fill('Dr. Helen Park');
    await form.locator('[name=file]').setInputFiles({
      name: 'referral.pdf',
      mimeType: 'application/pdf',
      buffer: referralPdf(),
    });
  });
  assert.equal(response.status(), 303);
  assert.match(await page.innerText('#documents'), /Referral from Dr\. Helen Park/);
  assert.match(await page.innerText('#documents .freshness'), /current/i);
  assert.equal(await horizontalOverflow(page), 0);
  await shot('letter-uploaded');

  // The screening counts the two classes and the current letter.
  await Promise.all([page.waitForURL(/\/screening$/), page.click('nav.chart-tabs a:has-text("Screening")')]);
  assert.match(await page.innerText('#criterion-4 h3'), /Conventional care tried\s+met$/i);
  assert.match(await page.innerText('#criterion-4'), /Gabapentin 300 mg capsule \(gabapentinoid\), tried 90 days/);
  assert.match(await page.innerText('#criterion-3'), /diagnosis letter \/ referral: dated/);
  assert.ok(
    (await page.locator('#criterion-3 a[href^="/staff/documents/"]').count()) === 1,
    'the letter is linked as evidence',
  );
  assert.equal(await horizontalOverflow(page), 0, 'the screening page fits the screen');
  await shot('screening');
}

test('a nurse enters the chart on a laptop', { timeout: 150_000 }, async () => {
  await inContext(browser, server.url, '11-chart-laptop', DESKTOP, async ({ page, shot }) => {
    await enterChart(page, shot, 'RSP-001000');
  });
});

test('a nurse enters the chart on a tablet', { timeout: 150_000 }, async () => {
  await inContext(browser, server.url, '11-chart-tablet', TABLET, async ({ page, shot }) => {
    await enterChart(page, shot, 'RSP-001001');
  });
});
