import { chromium } from 'playwright-core';
const base = process.argv[2];
const out = '/work/wt/decide/test-artifacts/explore';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
for (const [label, vp] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
  const ctx = await browser.newContext({ baseURL: base, viewport: vp });
  const page = await ctx.newPage();
  await page.goto('/staff/login');
  await page.fill('#email', 'clinician@demo.respite.test');
  await page.fill('#password', 'respite-demo');
  await Promise.all([page.waitForURL(u => u.pathname === '/staff'), page.click('form.sign-in button[type=submit]')]);
  const shots = [['worklist', '/staff/worklist'], ['worklist-outdated', '/staff/worklist?list=outdated'], ['worklist-review', '/staff/worklist?list=review'], ['worklist-records','/staff/worklist?list=records']];
  for (const [n, u] of shots) { await page.goto(u); await page.screenshot({ path: `${out}/${label}-${n}.png`, fullPage: true }); }
  // find Solberg & Lindqvist ids
  await page.goto('/staff/patients?q=Solberg');
  const solberg = await page.locator('table#patients a').first().getAttribute('href');
  await page.goto('/staff/patients?q=Lindqvist');
  const lind = await page.locator('table#patients a').first().getAttribute('href');
  await page.goto('/staff/patients?q=Reyes');
  const reyes = await page.locator('table#patients a').first().getAttribute('href');
  for (const [n, u] of [['decision-solberg', `${solberg}/decision`], ['plan-solberg', `${solberg}/plan`], ['plan-edit', `${solberg}/plan/edit`], ['decision-lind', `${lind}/decision`], ['requests-reyes', `${reyes}/records-requests`], ['records', `${reyes}/records`]]) {
    await page.goto(u); await page.screenshot({ path: `${out}/${label}-${n}.png`, fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    console.log(label, n, 'overflow', overflow);
  }
  await page.goto(`${solberg}/plan`);
  const letter = await page.locator('#physician-letter').getAttribute('href');
  await page.goto(letter);
  await page.screenshot({ path: `${out}/${label}-plan-letter.png`, fullPage: true });
  if (label === 'laptop') {
    await page.emulateMedia({ media: 'print' });
    await page.screenshot({ path: `${out}/${label}-plan-letter-print.png`, fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    await page.goto(`${reyes}/records`);
    const forms = await page.evaluate(() => [...document.querySelectorAll('form')].map(f => f.action + ' :: ' + [...f.elements].map(e => `${e.name}[${e.type}${e.type==='select-one' ? ':' + [...e.options].map(o=>o.value).join('|') : ''}]`).join(' ')));
    console.log(forms.join('\n'));
  }
  await ctx.close();
}
await browser.close();
