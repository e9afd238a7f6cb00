#!/usr/bin/env node
// End-to-end tests of the dashboard (static/) in a real browser.
//
// Builds nothing. Starts the already-built `build/fwpcast serve` on 127.0.0.1 (a free port, a
// temporary database, --static static), drives Debian's /usr/bin/chromium headless through
// playwright-core (no browser download), and checks what a person would: the solar plot with
// its data, the forecast and its bands, zoom, a hindcast, a readable API error, the models
// table, a training job started and cancelled from the page, the quantum panel, the keyboard,
// a phone-width layout without horizontal scroll, the token dialog against a server with a
// token, and no console or page errors. Screenshots go to build/e2e/.
//
//   node tests/e2e/run.mjs            (make e2e runs `npm ci` first when needed)
//   FWPCAST_BIN=... CHROMIUM=... E2E_KEEP=1 (keep the temp dir) E2E_HEADFUL=1
//
// The last line is "e2e: N passed, M failed"; the exit status is 0 only when M is 0. A failure
// prints the server's log.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const BIN = process.env.FWPCAST_BIN || path.join(ROOT, 'build', 'fwpcast');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(ROOT, 'build', 'e2e');
const STATIC = path.join(ROOT, 'static');
const TOKEN = 'e2e-token-0123456789';
const DEADLINE_MS = 110_000; // the whole run; `make test` wants it well under two minutes
const CHROMIUM_ARGS = [
  // Playwright adds --headless itself (headless: true) and the empty --user-data-dir is ours
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const t0 = Date.now();
const results = [];
const servers = [];
let tmp = null;
let context = null;

function log(msg) {
  process.stdout.write(`${msg}\n`);
}

class Check extends Error {}
function expect(cond, msg) {
  if (!cond) throw new Check(msg);
}

async function test(name, fn) {
  const start = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - start });
    log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - start, error: e });
    log(`FAIL ${name} (${Date.now() - start} ms)\n     ${e instanceof Check ? e.message : e.stack || e}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(name, env = {}) {
  const port = await freePort();
  const db = path.join(tmp, `${name}.db`);
  const logFile = path.join(tmp, `${name}.log`);
  const out = fs.openSync(logFile, 'w');
  const childEnv = { ...process.env, ...env };
  if (!env.FWPCAST_TOKEN) delete childEnv.FWPCAST_TOKEN;
  delete childEnv.FWPCAST_TOKEN_FILE;
  const child = spawn(BIN, ['serve', '--port', String(port), '--bind', '127.0.0.1', '--db', db, '--static', STATIC, '--quiet'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', out, out],
  });
  const server = { name, port, child, logFile, base: `http://127.0.0.1:${port}`, exited: null };
  child.on('exit', (code, signal) => {
    server.exited = { code, signal };
  });
  servers.push(server);
  const until = Date.now() + 30_000;
  for (;;) {
    if (server.exited) throw new Error(`${name} server exited (${JSON.stringify(server.exited)}) before answering`);
    try {
      const r = await fetch(`${server.base}/healthz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`${name} server did not answer /healthz within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

async function stopServers() {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise((resolve) => {
          if (s.exited) return resolve();
          const timer = setTimeout(() => {
            s.child.kill('SIGKILL');
            resolve();
          }, 5000);
          s.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          s.child.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * Collects what the page reports: uncaught errors, console.error, failed requests and HTTP
 * errors. Chromium logs every 4xx answer to fetch() as "Failed to load resource"; those are
 * allowed only for the API answers a test provokes on purpose (`allowHttp`: "METHOD path
 * status"), which the page shows as readable messages.
 */
function watch(page, label, allowHttp = []) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location() || {};
    const m = /status of (\d{3})/.exec(msg.text());
    if (m && loc.url) {
      const { pathname } = new URL(loc.url);
      // (the console line has no method; the 'response' check below looks at method too)
      if (allowHttp.some((a) => a.endsWith(` ${pathname} ${m[1]}`))) return;
    }
    problems.push(`${label}: console.error: ${msg.text()}${loc.url ? ` (${loc.url})` : ''}`);
  });
  page.on('requestfailed', (req) => {
    const f = req.failure();
    if (f && /ERR_ABORTED/.test(f.errorText)) return; // navigations away
    problems.push(`${label}: request failed: ${req.method()} ${req.url()} ${f ? f.errorText : ''}`);
  });
  page.on('response', (res) => {
    const u = new URL(res.url());
    if (res.status() >= 400 && !allowHttp.includes(`${res.request().method()} ${u.pathname} ${res.status()}`)) {
      problems.push(`${label}: HTTP ${res.status()} for ${res.request().method()} ${u.pathname}`);
    }
  });
  return problems;
}

const solarStats = (page) => page.evaluate(() => ({ ...window.fwpcast.panels.solar.stats }));
const xRange = (page) => page.evaluate(() => {
  const u = window.fwpcast.panels.solar.chart;
  return { min: u.scales.x.min, max: u.scales.x.max, lo: u.data[0][0], hi: u.data[0][u.data[0].length - 1] };
});

async function main() {
  expect(fs.existsSync(BIN), `${BIN} is missing: build it first (make)`);
  expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (deploy/install-deps.sh)`);
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (f.endsWith('.png')) fs.rmSync(path.join(OUT, f));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fwpcast-e2e-'));

  // --- static checks, no browser --------------------------------------------------------------
  await test('vendored uPlot is byte-identical to the pinned npm package', async () => {
    const pkg = path.join(HERE, 'node_modules', 'uplot');
    const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
    for (const [ours, theirs] of [
      ['uPlot.esm.js', 'dist/uPlot.esm.js'],
      ['uPlot.min.css', 'dist/uPlot.min.css'],
      ['LICENSE', 'LICENSE'],
    ]) {
      const a = fs.readFileSync(path.join(STATIC, 'vendor', 'uplot', ours));
      const b = fs.readFileSync(path.join(pkg, theirs));
      expect(a.equals(b), `static/vendor/uplot/${ours} differs from uplot@${version} ${theirs}`);
    }
  });

  await test('the pages have no inline script, style or event handler (CSP default-src self)', async () => {
    const html = fs.readdirSync(STATIC).filter((f) => f.endsWith('.html'));
    expect(html.includes('index.html'), 'static/index.html is missing');
    for (const f of html) {
      const s = fs.readFileSync(path.join(STATIC, f), 'utf8');
      expect(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(s), `${f}: an inline <script>`);
      expect(!/<style[\s>]/i.test(s), `${f}: an inline <style>`);
      expect(!/\s(on[a-z]+|style)\s*=/i.test(s.replace(/<meta[^>]*>/gi, '')), `${f}: an inline handler or style attribute`);
      expect(/http-equiv="Content-Security-Policy"[^>]*default-src 'self'/.test(s), `${f}: no CSP meta`);
    }
  });

  // --- the browser against a server without a token -------------------------------------------
  const server = await startServer('main');
  const userDataDir = fs.mkdtempSync(path.join(tmp, 'chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: !process.env.E2E_HEADFUL,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] || (await context.newPage());
  const problems = watch(page, 'laptop', ['GET /compare 404', 'POST /forecast 422']);

  await test('the dashboard loads and the solar plot renders the sunspot series', async () => {
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => window.fwpcast && window.fwpcast.panels.solar && window.fwpcast.panels.solar.stats.ready);
    expect((await page.locator('#solar-chart canvas').count()) === 1, 'no uPlot canvas in #solar-chart');
    const s = await solarStats(page);
    expect(s.monthlyPoints > 3000, `monthly series has ${s.monthlyPoints} points`);
    expect(s.smoothedPoints > 3000, `smoothed series has ${s.smoothedPoints} points`);
    const attr = Number(await page.getAttribute('#solar-chart', 'data-points'));
    expect(attr > 6000, `data-points = ${attr}`);
    const first = await page.evaluate(() => new Date(window.fwpcast.panels.solar.chart.data[0][0] * 1000).toISOString().slice(0, 7));
    expect(first === '1749-01', `the plot starts at ${first}, not 1749-01`);
    expect(/^\d{4}-\d{2}$/.test(s.lastObserved), `last observed ${s.lastObserved}`);
  });

  await test('keyboard: a visible focus ring, and the controls reachable with Tab', async () => {
    // right after the load, before any click moves the focus navigation's starting point
    await page.waitForFunction(() => window.fwpcast.panels.models && window.fwpcast.panels.models.rows > 0);
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement.className);
    expect(first.includes('skip-link'), `first Tab lands on "${first}"`);
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement.id === 'solar-forecast');
    }
    expect(reached, 'Tab never reached the Forecast button');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    expect(outline !== 'none', 'no focus outline on the Forecast button');
    // a sortable header works from the keyboard
    await page.locator('#models-table thead button.sort').nth(3).focus();
    await page.keyboard.press('Enter');
    const sorted = await page.locator('#models-table thead th').nth(3).getAttribute('aria-sort');
    expect(sorted === 'ascending', `Enter on a header gave aria-sort ${sorted}`);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  await test('the SILSO credit line and licence are visible under the solar plot', async () => {
    const credit = page.locator('#silso-credit');
    expect(await credit.isVisible(), 'credit not visible');
    const text = await credit.innerText();
    expect(text.includes('Source: WDC-SILSO, Royal Observatory of Belgium, Brussels'), `credit reads "${text}"`);
    expect(text.includes('CC BY-NC 4.0'), 'no CC BY-NC 4.0');
    const below = await page.evaluate(() => {
      const c = document.getElementById('solar-chart').getBoundingClientRect();
      const t = document.getElementById('silso-credit').getBoundingClientRect();
      return t.top >= c.bottom - 1;
    });
    expect(below, 'the credit is not under the plot');
  });

  await test('cycle numbers 1..25 are marked at minima of the smoothed series', async () => {
    const r = await page.evaluate(() => {
      const p = window.fwpcast.panels.solar;
      const u = p.chart;
      const xs = u.data[0];
      const sm = u.data[2];
      const bad = [];
      for (const c of p.cycles) {
        const i = xs.indexOf(c.t);
        let min = Infinity;
        for (let j = Math.max(0, i - 30); j <= Math.min(xs.length - 1, i + 30); j++) if (sm[j] !== null && sm[j] < min) min = sm[j];
        if (i < 0 || sm[i] !== min) bad.push(`${c.cycle}@${c.start}: ${sm[i]} vs min ${min}`);
      }
      return { drawn: p.stats.cyclesDrawn, count: p.cycles.length, bad };
    });
    expect(r.count === 25, `${r.count} cycles listed`);
    expect(r.drawn === 25, `${r.drawn} cycle labels drawn at full range`);
    expect(r.bad.length === 0, `not a local minimum: ${r.bad.join('; ')}`);
  });

  await test('at first load the view covers the forecast, its smoothed line and the next minimum and maximum', async () => {
    await page.waitForFunction(() => window.fwpcast.panels.solar.stats.forecastPoints > 0);
    const s = await solarStats(page);
    const view = await xRange(page);
    // the view reaches the forecast's last month (not the data's): the forecast is on screen
    expect(view.max >= view.hi, `the view ends before the forecast: max ${view.max} < ${view.hi}`);
    expect(s.forecastSmoothedPoints === 132, `smoothed forecast has ${s.forecastSmoothedPoints} points`);
    const c = await page.evaluate(() => {
      const p = window.fwpcast.panels.solar;
      return { drawn: p.extremes.drawn, summary: document.querySelector('#solar-summary').textContent };
    });
    expect(c.drawn >= 1, `${c.drawn} predicted extremes drawn`);
    expect(/Next minimum/.test(c.summary), `no next minimum in the summary: ${c.summary.slice(0, 300)}`);
    // pixels of the thick smoothed line: dark red at its middle month
    const px = await page.evaluate(() => {
      const u = window.fwpcast.panels.solar.chart;
      let i = u.data[11].length - 1;
      while (i > 0 && u.data[11][i] === null) i--;
      i -= 60;
      const x = Math.round(u.valToPos(u.data[0][i], 'x', true));
      const y = Math.round(u.valToPos(u.data[11][i], 'y', true));
      const d = u.ctx.getImageData(x, y, 1, 1).data;
      return [d[0], d[1], d[2], d[3]];
    });
    expect(px[3] > 0 && px[0] > px[1] + 30, `no smoothed forecast colour on its line: rgba ${px}`);
  });

  await test('a forecast of the next 132 months appears with its 80/95% bands drawn', async () => {
    await page.waitForFunction(() => window.fwpcast.panels.solar.stats.forecastPoints > 0);
    const s = await solarStats(page);
    expect(s.forecastPoints === 132, `forecast has ${s.forecastPoints} points`);
    expect(s.forecastBandPoints === 132, `band has ${s.forecastBandPoints} points`);
    expect((await page.getAttribute('#solar-chart', 'data-forecast-points')) === '132', 'data-forecast-points');
    await page.click('button[data-zoom="recent"]');
    await page.waitForTimeout(100);
    const px = await page.evaluate(() => {
      const u = window.fwpcast.panels.solar.chart;
      const xs = u.data[0];
      const i = xs.length - 66; // the forecast's middle
      const [hi80, hi95, lo80, v] = [u.data[7][i], u.data[5][i], u.data[6][i], u.data[3][i]];
      const at = (y) => {
        const d = u.ctx.getImageData(Math.round(u.valToPos(xs[i], 'x', true)), Math.round(u.valToPos(y, 'y', true)), 1, 1).data;
        return [d[0], d[1], d[2], d[3]];
      };
      const ymax = u.scales.y.max;
      return {
        band95: at((hi80 + hi95) / 2),
        band80: at((v + hi80) / 2 + (hi80 - v) * 0.2),
        above: at(hi95 + (ymax - hi95) / 2),
        lo80,
      };
    });
    const reddish = ([r, g, b, a]) => a > 0 && r - g > 15 && r - b > 15;
    expect(reddish(px.band95), `no 95% band colour at the forecast's middle: rgba ${px.band95}`);
    expect(reddish(px.band80), `no 80% band colour: rgba ${px.band80}`);
    // the canvas is transparent where nothing is drawn: the 80% band lies over the 95% one
    expect(px.band80[3] > px.band95[3], `80% band not denser than the 95% one: rgba ${px.band80} vs ${px.band95}`);
    expect(!reddish(px.above), `band colour above the 95% bound: rgba ${px.above}`);
  });

  await test('the plot zooms (buttons, drag) and resets to 1749 onwards', async () => {
    await page.click('#solar-reset');
    const full = await xRange(page);
    expect(full.min === full.lo && full.max === full.hi, 'reset did not show the whole record');
    await page.click('button[data-zoom="in"]');
    const zin = await xRange(page);
    expect(Math.abs((zin.max - zin.min) / (full.max - full.min) - 0.5) < 0.01, 'zoom in did not halve the span');
    await page.click('button[data-zoom="left"]');
    const left = await xRange(page);
    expect(left.min < zin.min, 'pan left did not move');
    await page.click('#solar-reset');
    const box = await page.locator('#solar-chart .u-over').boundingBox();
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.6, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForTimeout(100);
    const dragged = await xRange(page);
    const frac = (dragged.max - dragged.min) / (full.max - full.min);
    expect(frac > 0.1 && frac < 0.3, `drag-zoom gave ${frac.toFixed(3)} of the range`);
    await page.click('#solar-reset');
    const again = await xRange(page);
    expect(again.min === again.lo && again.max === again.hi, 'reset after drag');
    await page.locator('#solar').screenshot({ path: path.join(OUT, 'panel-solar-full.png') });
  });

  await test('a hindcast from a cycle minimum is drawn over what happened', async () => {
    await page.fill('#hindcast-cutoff', '2008-12');
    await page.click('#hindcast-run');
    await page.waitForFunction(() => window.fwpcast.panels.solar.stats.hindcastPoints > 0);
    const s = await solarStats(page);
    expect(s.hindcastPoints === 132, `hindcast has ${s.hindcastPoints} points`);
    const summary = await page.locator('#solar-summary').innerText();
    expect(/Hindcast from 2008-12/.test(summary), `summary: ${summary}`);
    expect(await page.locator('#hindcast-clear').isEnabled(), 'Clear is not enabled');
    await page.locator('#solar').screenshot({ path: path.join(OUT, 'panel-solar-hindcast.png') });
  });

  await test('an API error shows a readable message', async () => {
    await page.fill('#hindcast-cutoff', '2999-01');
    await page.click('#hindcast-run');
    const err = page.locator('#solar-error');
    await err.waitFor({ state: 'visible' });
    const text = await err.innerText();
    expect(/outside the data/.test(text), `message: ${text}`);
    expect(/422/.test(text), `no status in: ${text}`);
    expect(!/[{}"]/.test(text.replace(/“|”/g, '')), `raw JSON in the message: ${text}`);
    expect((await solarStats(page)).hindcastPoints === 132, 'the earlier hindcast was lost');
    await page.locator('#solar').screenshot({ path: path.join(OUT, 'panel-solar-error.png') });
    await page.fill('#hindcast-cutoff', '');
    await page.click('#hindcast-clear');
    await page.click('button[data-zoom="recent"]');
  });

  await test('the models table lists the models and sorts by a column', async () => {
    await page.waitForFunction(() => window.fwpcast.panels.models && window.fwpcast.panels.models.rows > 0);
    const src = await page.evaluate(() => window.fwpcast.panels.models.source);
    expect(src === 'models' || src === 'compare', `source ${src}`);
    const header = page.locator('#models-table thead button.sort').nth(0);
    const th = page.locator('#models-table thead th').nth(0);
    await header.click();
    const first = await th.getAttribute('aria-sort');
    await header.click();
    const second = await th.getAttribute('aria-sort');
    expect(first !== 'none' && second !== 'none' && first !== second, `aria-sort ${first} then ${second}`);
    if (src === 'models') {
      const heads = await page.locator('#models-table thead').innerText();
      for (const col of ['Parameters', 'Scaled MSE', 'Peak amplitude error', 'Peak timing error']) expect(heads.includes(col), `no ${col} column`);
    }
  });

  await test('the comparison table (GET /compare, documented shape) shows mean ± sd and sorts', async () => {
    // a fixture in docs/openapi.yaml's Comparison shape, so the test does not depend on which runs
    // the server has stored (a fresh database has none)
    const stat = (mean, sd) => ({ mean, sd });
    const row = (model, parameters, mse, amp, timing) => ({
      suite: 'solar', task: 'paper', model, config: `${model} defaults`, epochs: 100, seeds: 5, parameters,
      test_windows: 262, mse: stat(mse, mse / 10), mae: stat(mse * 5, null), r2: stat(0.2, 0.08),
      peak_amplitude_error: stat(amp, 3.1), peak_timing_error: stat(timing, 1.0), train_seconds: stat(60, 2),
    });
    const fixture = { suite: 'solar', task: 'paper', models: [row('gated-qkan-fwp', 12474, 0.0195, 39.9, 23.5), row('lstm', 20000, 0.0231, 44.0, 21.0)] };
    const cpage = await context.newPage();
    const cproblems = watch(cpage, 'compare');
    await cpage.route(/\/compare(\?.*)?$/, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(fixture) }));
    await cpage.goto(`${server.base}/#models`);
    await cpage.waitForFunction(() => window.fwpcast.panels.models && window.fwpcast.panels.models.source === 'compare');
    const rows = await cpage.locator('#models-table tbody tr').count();
    expect(rows === 2, `${rows} comparison rows`);
    const table = await cpage.locator('#models-table').innerText();
    expect(table.includes('0.0195 ± 0.002'), `no "mean ± sd" cell in: ${table.slice(0, 300)}`);
    for (const col of ['Parameters', 'Test MSE', 'Peak amplitude error', 'Peak timing error']) expect(table.includes(col), `no ${col} column`);
    const timing = cpage.locator('#models-table thead button.sort', { hasText: 'Peak timing error' });
    await timing.click();
    const firstModel = await cpage.locator('#models-table tbody tr').first().locator('th').innerText();
    expect(firstModel === 'lstm', `sorted by timing error, the first row is ${firstModel}`);
    await cpage.click('#models-view-models');
    await cpage.waitForFunction(() => window.fwpcast.panels.models.source === 'models');
    await cpage.click('#models-view-compare');
    await cpage.locator('#models').screenshot({ path: path.join(OUT, 'panel-models-compare.png') });
    await cpage.close();
    expect(cproblems.length === 0, cproblems.join('; '));
  });

  let jobId = null;
  await test('a training job started from the page shows progress and can be cancelled', async () => {
    await page.fill('#train-epochs', '200');
    await page.fill('#train-seed', '1');
    await page.fill('#train-window', '24');
    await page.fill('#train-horizon', '6');
    await page.fill('#train-config', '{"hidden": 4, "slow_dim": 4, "fast_in": 2, "fast_out": 2}');
    await page.fill('#train-name', 'e2e-tiny');
    await page.click('#train-start');
    await page.waitForFunction(() => {
      const t = window.fwpcast.panels.training;
      return t.state === 'running' && t.epoch >= 3 && t.lossPoints >= 3;
    });
    const t = await page.evaluate(() => ({ ...window.fwpcast.panels.training, chart: undefined }));
    jobId = t.job;
    const value = Number(await page.locator('#train-progress').evaluate((el) => el.value));
    expect(value > 0 && value < 1, `progress bar at ${value}`);
    const text = await page.locator('#train-progress-text').innerText();
    expect(/epoch \d+ of 200/.test(text), `progress text: ${text}`);
    const loss = await page.evaluate(() => window.fwpcast.panels.training.chart.data[1].filter((v) => v !== null).length);
    expect(loss >= 3, `loss curve has ${loss} points`);
    await page.locator('#training').screenshot({ path: path.join(OUT, 'panel-training-running.png') });
    expect(await page.locator('#train-cancel').isEnabled(), 'Cancel is disabled while running');
    await page.click('#train-cancel');
    await page.waitForFunction(() => window.fwpcast.panels.training.state === 'cancelled');
    expect((await page.locator('#train-state').innerText()) === 'cancelled', 'badge does not say cancelled');
    const r = await fetch(`${server.base}/jobs/${jobId}`);
    const job = await r.json();
    expect(job.state === 'cancelled', `the server says job ${jobId} is ${job.state}`);
    expect(await page.locator('#train-start').isEnabled(), 'Start is not enabled again');
    await page.locator('#training').screenshot({ path: path.join(OUT, 'panel-training.png') });
  });

  await test('the quantum panel runs exact next to sampler (or shows why the sampler cannot)', async () => {
    await page.fill('#quantum-shots', '500');
    await page.selectOption('#quantum-noise', 'ionq-aria-1');
    await page.click('#quantum-run');
    await page.waitForFunction(() => window.fwpcast.panels.quantum.runs > 0 || window.fwpcast.panels.quantum.samplerError, null, { timeout: 60_000 });
    const q = await page.evaluate(() => ({ ...window.fwpcast.panels.quantum, chart: undefined }));
    expect(q.exactPoints === 132, `exact forecast has ${q.exactPoints} points`);
    if (q.samplerPoints > 0) {
      expect(q.samplerPoints === 132, `sampler forecast has ${q.samplerPoints} points`);
    } else {
      const text = await page.locator('#quantum-error').innerText();
      expect(/Sampler backend: .+\(HTTP 4\d\d /.test(text), `sampler message: ${text}`);
      log(`     (sampler not on this server: "${text}")`);
    }
    await page.locator('#quantum').screenshot({ path: path.join(OUT, 'panel-quantum.png') });
    if (q.samplerPoints > 0) {
      // the server's 422 for a noise preset it does not know is shown as it says it
      await page.evaluate(() => {
        const o = document.createElement('option');
        o.value = 'no-such-device';
        o.textContent = 'no such device';
        document.getElementById('quantum-noise').append(o);
      });
      await page.selectOption('#quantum-noise', 'no-such-device');
      await page.click('#quantum-run');
      await page.waitForFunction(() => window.fwpcast.panels.quantum.runs > 1);
      const text = await page.locator('#quantum-error').innerText();
      expect(/Sampler backend: .*no-such-device.*\(HTTP 422 /.test(text), `sampler 422 message: ${text}`);
      expect((await page.evaluate(() => window.fwpcast.panels.quantum.exactPoints)) === 132, 'the exact forecast is gone');
      await page.selectOption('#quantum-noise', 'ionq-aria-1');
      await page.click('#quantum-run');
      await page.waitForFunction(() => window.fwpcast.panels.quantum.runs > 2);
      expect(!(await page.locator('#quantum-error').isVisible()), 'the 422 message stayed after a good run');
    }
  });

  await test('screenshots of the whole page and of each panel at 1280 px', async () => {
    await page.locator('#models').screenshot({ path: path.join(OUT, 'panel-models.png') });
    await page.locator('#solar').screenshot({ path: path.join(OUT, 'panel-solar.png') });
    await page.screenshot({ path: path.join(OUT, 'dashboard-1280.png'), fullPage: true });
  });

  // --- phone width -----------------------------------------------------------------------------
  const phone = await context.newPage();
  const phoneProblems = watch(phone, 'phone', ['GET /compare 404']);
  await test('at phone width (375 px) the page has no horizontal scroll', async () => {
    await phone.setViewportSize({ width: 375, height: 812 });
    await phone.goto(`${server.base}/`);
    await phone.waitForFunction(() => window.fwpcast.panels.solar.stats.ready && window.fwpcast.panels.solar.stats.forecastPoints === 132);
    await phone.waitForTimeout(200);
    const m = await phone.evaluate(() => {
      const wide = [...document.querySelectorAll('body *')]
        .filter((el) => !el.closest('.table-wrap') && el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') + (el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''));
      return { sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth, bw: document.body.scrollWidth, wide: wide.slice(0, 8) };
    });
    expect(m.sw <= m.cw && m.bw <= m.cw, `scrollWidth ${m.sw}/${m.bw} > clientWidth ${m.cw}: ${m.wide.join(', ')}`);
    expect(m.wide.length === 0, `elements past the right edge: ${m.wide.join(', ')}`);
    const canvasW = await phone.evaluate(() => document.querySelector('#solar-chart canvas').getBoundingClientRect().width);
    expect(canvasW > 250 && canvasW <= 375, `solar canvas ${canvasW} px wide`);
    await phone.screenshot({ path: path.join(OUT, 'dashboard-375.png'), fullPage: true });
    await phone.locator('#solar').screenshot({ path: path.join(OUT, 'panel-solar-375.png') });
  });
  await phone.close();

  // --- a server with a token -------------------------------------------------------------------
  const tokenServer = await startServer('token', { FWPCAST_TOKEN: TOKEN });
  const tpage = await context.newPage();
  const tokenProblems = watch(tpage, 'token', ['GET /compare 404', 'POST /forecast 401']);
  await test('with a token: the page asks once, keeps it in sessionStorage, and writes work', async () => {
    await tpage.goto(`${tokenServer.base}/`);
    const dialog = tpage.locator('#token-dialog');
    await dialog.waitFor({ state: 'visible' });
    await tpage.fill('#token-input', TOKEN);
    await tpage.screenshot({ path: path.join(OUT, 'token-dialog.png') });
    await tpage.click('#token-save');
    await tpage.waitForFunction(() => window.fwpcast.panels.solar.stats.forecastPoints === 132);
    const kept = await tpage.evaluate(() => sessionStorage.getItem('fwpcast.token'));
    expect(kept === TOKEN, 'the token is not in sessionStorage');
    expect((await tpage.locator('#token-button').innerText()).includes('set'), 'the header does not say the token is set');
    await tpage.reload();
    await tpage.waitForFunction(() => window.fwpcast.panels.solar.stats.ready && window.fwpcast.panels.solar.stats.forecastPoints === 132);
    const asks = await tpage.evaluate(() => window.fwpcast.tokenAsks || 0);
    expect(asks === 0, `asked for the token again after a reload (${asks})`);
    expect(!(await dialog.isVisible()), 'the dialog is open after the reload');
  });
  await tpage.close();

  await test('no page errors, console errors or unexpected HTTP errors', async () => {
    const all = [...problems, ...phoneProblems, ...tokenProblems];
    expect(all.length === 0, all.join('\n     '));
  });
}

async function finish(code) {
  try {
    if (context) await context.close();
  } catch {
    /* already gone */
  }
  await stopServers();
  const failed = results.filter((r) => !r.ok);
  if (failed.length || code) {
    for (const s of servers) {
      const text = fs.existsSync(s.logFile) ? fs.readFileSync(s.logFile, 'utf8') : '';
      log(`--- ${s.name} server log (${s.logFile}) ---\n${text.trim() || '(empty)'}\n--- end of ${s.name} server log ---`);
    }
  }
  if (tmp && !process.env.E2E_KEEP && !failed.length && !code) fs.rmSync(tmp, { recursive: true, force: true });
  log(`screenshots: ${path.relative(ROOT, OUT)}/ (${fs.existsSync(OUT) ? fs.readdirSync(OUT).filter((f) => f.endsWith('.png')).length : 0} files); ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  log(`e2e: ${results.length - failed.length} passed, ${failed.length + (code && !failed.length ? 1 : 0)} failed`);
  process.exit(failed.length || code ? 1 : 0);
}

const watchdog = setTimeout(() => {
  log(`FAIL the run took more than ${DEADLINE_MS / 1000} s`);
  finish(1);
}, DEADLINE_MS);
watchdog.unref();

main().then(
  () => finish(0),
  (e) => {
    log(`FAIL ${e instanceof Check ? e.message : e.stack || e}`);
    finish(1);
  },
);
