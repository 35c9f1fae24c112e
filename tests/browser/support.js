// Shared pieces of the browser suite: the respite demo server, Debian's
// Chromium, sign-in, and screenshots under <repo>/test-artifacts/browser/.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const artifactsDir = path.join(repoRoot, 'test-artifacts', 'browser');

export const DEMO_PASSWORD = 'respite-demo';
export const LOGINS = {
  frontDesk: 'frontdesk@demo.respite.test',
  nurse: 'nurse@demo.respite.test',
  clinician: 'clinician@demo.respite.test',
  admin: 'admin@demo.respite.test',
};

/** A phone: the size of a current iPhone, touch, the visitor's own zone. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'en-US',
  timezoneId: 'America/Chicago',
};

/** A front-desk or office screen. */
export const DESKTOP = {
  viewport: { width: 1280, height: 800 },
  locale: 'en-US',
  timezoneId: 'America/Chicago',
};

/** Empties this suite's artifact folder, so no screenshot is left from an earlier run. */
export function resetArtifacts() {
  fs.rmSync(artifactsDir, { recursive: true, force: true });
  fs.mkdirSync(artifactsDir, { recursive: true });
}

function respiteBinary() {
  const bin = process.env.RESPITE_BIN
    ? path.resolve(process.env.RESPITE_BIN)
    : path.join(repoRoot, 'target', 'debug', 'respite');
  if (!fs.existsSync(bin)) {
    throw new Error(
      `respite binary not found at ${bin}: build it with \`cargo build -p respite\` ` +
        'at the repository root, or set RESPITE_BIN to its path',
    );
  }
  return bin;
}

/**
 * Starts `respite demo` on a free port of 127.0.0.1 and resolves once the
 * first stdout line ("Respite demo clinic: http://127.0.0.1:PORT/") has
 * named the address and /healthz answers. Everything the server writes goes
 * to test-artifacts/browser/respite.log. `args` are added to `respite demo`'s
 * (e.g. `smtpServer.demoArgs`).
 */
export async function startRespite({ timeoutMs = 120_000, args = [] } = {}) {
  const bin = respiteBinary();
  const log = fs.createWriteStream(path.join(artifactsDir, 'respite.log'));
  const child = spawn(bin, ['demo', '--bind', '127.0.0.1:0', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave the server behind, even if the runner dies.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.pipe(log, { end: false });
  const stdout = readline.createInterface({ input: child.stdout });

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`respite demo printed no address within ${timeoutMs} ms (see ${log.path})`));
    }, timeoutMs);
    let first = true;
    stdout.on('line', (line) => {
      log.write(`${line}\n`);
      if (!first) return;
      first = false;
      clearTimeout(timer);
      const match = /^Respite demo clinic: (http:\/\/127\.0\.0\.1:\d+)\/$/.exec(line);
      if (match) resolve(match[1]);
      else reject(new Error(`unexpected first line from respite demo: ${JSON.stringify(line)}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`respite demo exited (code ${code}, signal ${signal}) before serving; see ${log.path}`));
    });
  });

  // The listener is bound before the address is printed; wait for a healthy answer all the same.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/healthz never answered OK`);
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // graceful: the demo removes its temporary database
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      stdout.close();
      await new Promise((r) => log.end(r));
    },
  };
}

/** The `respite` binary the suite runs (RESPITE_BIN, else target/debug/respite). */
export function respite(args, input) {
  const result = spawnSync(respiteBinary(), args, { input, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`respite ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

/** Every route of the server's one route table (`respite routes`). */
export function routeTable() {
  return respite(['routes'])
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

// ---- A real SMTP server: aiosmtpd ------------------------------------------

// aiosmtpd saves each message as N.eml and, parsed by Python's own e-mail
// package (not by anything of ours), its recipients, subject and plain-text
// body (transfer encoding undone) as N.json.
const SMTP_SINK = String.raw`import email, email.policy, json, os, signal, sys
from aiosmtpd.controller import Controller
out, port = sys.argv[1], int(sys.argv[2])
class Save:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Save.count += 1
        base = os.path.join(out, "%d" % Save.count)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = message.get_body(("plain",))
        parsed = {"envelope_to": envelope.rcpt_tos, "from": str(message["From"]), "to": str(message["To"]),
                  "subject": str(message["Subject"]), "text": body.get_content() if body else ""}
        with open(base + ".json.tmp", "w") as f:
            json.dump(parsed, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 OK"
Controller(Save(), hostname="127.0.0.1", port=port).start()
print("ready", flush=True)
signal.pause()
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts aiosmtpd (the Python of RESPITE_TEST_AIOSMTPD_PYTHON, the venv
 * scripts/test prepares) on a free loopback port. Resolves to `null` when
 * that variable is not set — unless RESPITE_REQUIRE_MAIL is, which makes a
 * missing server an error, as in the Rust e-mail tests. The server has
 * `demoArgs` (the flags that point `respite demo` at it), `messages()` (the
 * messages received so far, parsed) and `stop()`.
 */
export async function startSmtpServer() {
  const python = process.env.RESPITE_TEST_AIOSMTPD_PYTHON;
  if (!python) {
    if (process.env.RESPITE_REQUIRE_MAIL) {
      throw new Error('RESPITE_REQUIRE_MAIL is set but RESPITE_TEST_AIOSMTPD_PYTHON is not (scripts/test prepares it)');
    }
    return null;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'respite-smtp-'));
  fs.writeFileSync(path.join(dir, 'sink.py'), SMTP_SINK);
  fs.mkdirSync(path.join(dir, 'mail'));
  const port = await freePort();
  const child = spawn(python, [path.join(dir, 'sink.py'), path.join(dir, 'mail'), String(port)], {
    stdio: ['ignore', 'pipe', fs.openSync(path.join(artifactsDir, 'aiosmtpd.log'), 'w')],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('aiosmtpd did not start in 30 s (see aiosmtpd.log)')), 30_000);
    readline.createInterface({ input: child.stdout }).once('line', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`aiosmtpd exited (code ${code}) before serving; see aiosmtpd.log`));
    });
  });
  return {
    port,
    demoArgs: [
      '--smtp-host', '127.0.0.1',
      '--smtp-port', String(port),
      '--smtp-tls', 'plain-loopback-only',
      '--smtp-from', 'clinic@demo.respite.test',
    ],
    messages() {
      const mail = path.join(dir, 'mail');
      return fs
        .readdirSync(mail)
        .filter((f) => f.endsWith('.json'))
        .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
        .map((f) => JSON.parse(fs.readFileSync(path.join(mail, f), 'utf8')));
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      process.off('exit', killOnExit);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with no traffic of its own to the (closed) network. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Runs one scenario in a fresh browser context (its own cookies) and gives
 * it a `shot(step)` that saves a full-page screenshot named
 * `<scenario>--NN-<step>.png`. A failing scenario also leaves
 * `<scenario>--FAILED.png` of the page it was on. Uncaught JavaScript errors
 * on any page fail the scenario.
 */
export async function inContext(browser, baseURL, scenario, contextOptions, body) {
  const context = await browser.newContext({ baseURL, ...contextOptions });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  let step = 0;
  const shot = async (name) => {
    step += 1;
    const file = path.join(artifactsDir, `${scenario}--${String(step).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    // Every page a scenario photographs is also checked for internal codes
    // and for accessibility.
    await checkPage(page, `${scenario} ${name}`);
    return file;
  };
  try {
    await body({ page, context, shot });
    assert.deepEqual(pageErrors, [], 'no uncaught JavaScript error on any page');
  } catch (err) {
    await page
      .screenshot({ path: path.join(artifactsDir, `${scenario}--FAILED.png`), fullPage: true })
      .catch(() => {});
    throw err;
  } finally {
    await bounded(context.close(), 30_000, `closing ${scenario}`);
  }
}

/**
 * Signs in through the staff sign-in form and waits for the staff home.
 * `shot`, when given, photographs the filled form before it is sent.
 */
export async function signIn(page, email, { password = DEMO_PASSWORD, shot } = {}) {
  await page.goto('/staff/login');
  await page.fill('#email', email);
  await page.fill('#password', password);
  if (shot) await shot('sign-in');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/staff'),
    page.click('form.sign-in button[type=submit]'),
  ]);
}

/** How far the page is wider than the viewport, in CSS pixels (0 when it fits). */
export function horizontalOverflow(page) {
  // Against the width asked for, not window.innerWidth: on an emulated phone
  // (isMobile) Chromium widens the layout viewport to fit wide content, so
  // innerWidth grows with the overflow it should reveal.
  const width = page.viewportSize().width;
  return bounded(
    page.evaluate((w) => Math.max(0, document.documentElement.scrollWidth - w), width),
    30_000,
    'measuring the width',
  );
}

/**
 * Sends a form whose answer comes back at the same address (a question
 * saved leads to the next question at the form's own URL; a consultation
 * moved shows the consultation again) and resolves once that answer has
 * loaded. A wait for the URL would resolve at once — the page is already
 * there — and the scenario would go on reading the old page, or checking or
 * closing a page in the middle of its navigation.
 */
export function sendAndLoad(page, click) {
  return Promise.all([page.waitForNavigation({ waitUntil: 'load' }), click]);
}

/**
 * Rejects with a message naming `what` when `promise` has not settled in
 * `ms`. Playwright bounds its actions and waits, but not `page.evaluate`,
 * `page.close` or `context.close`: a page that stops answering would
 * otherwise hold a scenario until the test runner cancels it, with no word
 * of where it stood.
 */
export function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The page, as it stands, on another screen: its HTML is loaded at its own
 * address in a new context with `options` (its stylesheets and images come
 * from the server), and `body(shown)` looks at it there. The page itself is
 * never resized: changing the viewport of an emulated phone mid-page has
 * stalled Chromium's renderer, and a POST's answer could not be asked for
 * again.
 */
export async function onAnotherScreen(browser, page, options, body) {
  const url = page.url();
  const html = await bounded(page.content(), 30_000, `the HTML of ${url}`);
  const context = await browser.newContext(options);
  try {
    const shown = await context.newPage();
    await shown.route((u) => u.href === url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
    await shown.goto(url);
    return await body(shown);
  } finally {
    await bounded(context.close(), 30_000, `closing the other screen of ${url}`);
  }
}

/** The page as a 390 px phone shows it at 200 % zoom: a 195 CSS px viewport. */
export function atZoom200(browser, page, body) {
  return onAnotherScreen(browser, page, { ...PHONE, viewport: { width: 195, height: 422 } }, body);
}

/**
 * The status of the first response in the chain that led to this page's
 * response, e.g. the 303 of a redirect or of a POST-redirect-GET.
 */
export async function firstStatusOf(response) {
  let request = response.request();
  while (request.redirectedFrom()) request = request.redirectedFrom();
  const first = await request.response();
  return first.status();
}

// ---- What every page must be: written for people, and accessible ----------

/**
 * The internal codes of respite-domain that must never reach a page: the
 * hyphenated codes of inquiry, callback and booking statuses, closing
 * reasons, call outcomes, pain durations, best-time days, next steps and
 * roles, read from the domain's own source (everything before its tests),
 * so that a new code is scanned for as soon as it exists. One-word codes
 * ("new", "booked", "held") are English words and cannot be told from them;
 * "no-show" is an English noun (Merriam-Webster) and the word staff use.
 */
export function domainCodes() {
  const files = ['thread', 'booking', 'inquiry', 'callbacks', 'consultation', 'access', 'messaging'];
  const codes = new Set();
  for (const file of files) {
    const source = fs.readFileSync(path.join(repoRoot, 'crates', 'domain', 'src', `${file}.rs`), 'utf8');
    const code = source.split('#[cfg(test)]')[0];
    for (const [, literal] of code.matchAll(/"([a-z0-9]+(?:-[a-z0-9]+)+)"/g)) {
      if (/[a-z]/.test(literal) && literal !== 'no-show') codes.add(literal);
    }
  }
  return [...codes].sort();
}

const CODES = domainCodes();
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const RAW_CODE_PATTERNS = [
  ...CODES.map((code) => ({ what: `status code ${code}`, re: new RegExp(`(?<![\\w-])${escapeRegExp(code)}(?![\\w-])`) })),
  // UCUM annotations and bracketed units: {score}, mm[Hg], [degF].
  { what: 'a UCUM annotation', re: /\{[A-Za-z#][^{}\s]*\}/ },
  { what: 'a bracketed UCUM unit', re: /[A-Za-z]*\[[A-Za-z]+\]/ },
  // A phone number as stored (E.164), not as people write it.
  { what: 'an unformatted E.164 number', re: /\+\d{8,15}(?!\d)/ },
];

/**
 * Fails when the page's text (not its attributes: codes may stay there)
 * holds an internal code. Scans every text node but those of scripts and
 * styles, including the title and the options of selects.
 */
export async function assertNoRawCodes(page, where = page.url()) {
  const texts = await bounded(page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement?.tagName;
      if (parent === 'SCRIPT' || parent === 'STYLE' || parent === 'NOSCRIPT') continue;
      const text = node.nodeValue.trim();
      if (text) out.push(text);
    }
    return out;
  }), 30_000, `${where}: reading its text`);
  const found = [];
  for (const text of texts) {
    for (const { what, re } of RAW_CODE_PATTERNS) {
      const match = re.exec(text);
      if (match) found.push(`${what}: «${match[0]}» in «${text.slice(0, 120)}»`);
    }
  }
  assert.deepEqual(found, [], `${where}: internal codes shown to people`);
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (injected through the browser's debugging protocol, which
 * the page's Content-Security-Policy does not govern) and fails on any
 * violation, whatever its impact.
 */
export async function assertAccessible(page, where = page.url()) {
  if (!(await bounded(page.evaluate(() => typeof window.axe === 'object'), 30_000, `${where}: looking for axe-core`))) {
    await bounded(page.evaluate(AXE_SOURCE), 30_000, `${where}: loading axe-core`);
  }
  const violations = await bounded(page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  }), 60_000, `${where}: axe-core`);
  assert.deepEqual(
    violations,
    [],
    `${where}: accessibility violations:\n${violations
      .map((v) => `  ${v.id} (${v.impact}): ${v.help} — ${v.nodes.join(', ')}`)
      .join('\n')}`,
  );
}

/** Both checks of a page, as a scenario sees it now. */
export async function checkPage(page, where = page.url()) {
  await assertNoRawCodes(page, where);
  await assertAccessible(page, where);
}
