import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonPaths } from '../../src/config/paths.js';
import type { Daemon } from '../../src/daemon.js';
import { readToken } from '../../src/http/control/token.js';
import { DEFAULT_CATEGORIES } from '../../src/query/webui.js';
import { ROOT, startInProcess } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { expected, workingDay, type Seed, type SeedEvent } from './seed.js';

/**
 * The web UI in a real headless Chromium against a real daemon with a seeded working day: each view
 * shows figures computed from the seed, edits take effect, controls act, and a page from another
 * origin can neither read data nor drive the control endpoint.
 */

const SHOTS = path.join(ROOT, '.tmp', 'screenshots');
const fmt = (seconds: number): string => {
  // The UI's duration style, restated: 3h 20m, 45m, 12s.
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  return m % 60 ? `${Math.floor(m / 60)}h ${m % 60}m` : `${Math.floor(m / 60)}h`;
};

/** Deepest default category whose rule matches the app or title. */
function categorise(rules: [string[], { type: string; regex?: string; ignore_case?: boolean }][]) {
  return (e: SeedEvent): string => {
    let best: string[] | null = null;
    for (const [name, rule] of rules) {
      if (rule.type !== 'regex') continue;
      const re = new RegExp(rule.regex!, rule.ignore_case ? 'i' : '');
      if ((re.test(String(e.data.app)) || re.test(String(e.data.title))) && (!best || name.length >= best.length)) best = name;
    }
    return (best ?? ['Uncategorized']).join(' › ');
  };
}

describe('web UI in Chromium', () => {
  let tmp: ReturnType<typeof tempDir>;
  let daemon: Daemon;
  let base: string;
  let token: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let seed: Seed;
  const problems: string[] = [];

  const api = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(base + p, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
    return r;
  };
  const controlStatus = async () =>
    (await (await fetch(`${base}/api/control/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { children: { name: string; state: string; restarts: number; uptimeMs: number }[] };
  const goto = async (p: string) => {
    await page.goto(base + p);
    await page.waitForSelector('main .view, main .empty, main .error');
  };
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    tmp = tempDir();
    daemon = await startInProcess(tmp.dir);
    base = `http://127.0.0.1:${daemon.port}`;
    token = readToken(daemonPaths({ dataDir: tmp.dir, testing: true }).token);
    const host = ((await (await fetch(`${base}/api/0/info`)).json()) as { hostname: string }).hostname;
    const day = new Date();
    day.setDate(day.getDate() - 3);
    seed = workingDay(host, day);
    for (const b of seed.buckets) {
      await api('POST', `/api/0/buckets/${b.id}`, { client: 'test', type: b.type, hostname: host });
      await api(
        'POST',
        `/api/0/buckets/${b.id}/events`,
        b.events.map((e) => ({ timestamp: new Date(e.from).toISOString(), duration: (e.to - e.from) / 1000, data: e.data })),
      );
    }
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await ctx.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()} (${page.url()})`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message} (${page.url()})`));
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    tmp?.cleanup();
  });

  it('serves the app at / and at any view path, with the right headers', async () => {
    for (const p of ['/', '/status', '/buckets/some-bucket']) {
      const r = await fetch(base + p);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(await r.text()).toContain('<div id="app">');
    }
    const html = await (await fetch(base + '/')).text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const a = await fetch(base + asset);
    expect(a.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(a.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(base + '/assets/missing-1234.js')).status).toBe(404);
    // API paths are untouched by the UI fallback.
    expect((await fetch(base + '/api/0/nope')).status).toBe(404);
  });

  it('Activity: the seeded day with figures from the seed, in two query requests', async () => {
    const want = expected(seed, categorise(DEFAULT_CATEGORIES));
    await goto(`/?mode=day&from=${seed.day}`);
    await page.waitForSelector('[data-testid=time-chart] .chart[data-drawn]');
    await page.waitForSelector('[data-testid=category-chart] .chart[data-drawn]');
    expect(await page.textContent('[data-testid=active-time] .stat-value')).toBe(fmt(want.active));
    expect(await page.textContent('[data-testid=browser-time] .stat-value')).toBe(fmt(want.browser));
    const list = async (id: string) =>
      page.$$eval(`[data-testid=${id}] li`, (lis) => lis.map((li) => [li.querySelector('.label')!.textContent, li.querySelector('.dur')!.textContent]));
    const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, fmt(v)]);
    expect(await list('top-apps')).toEqual(sorted(want.apps));
    expect(await list('top-categories')).toEqual(sorted(want.categories));
    expect(await list('top-domains')).toEqual(sorted(want.domains));
    // The hour bars: each hour slice of the day (days start at 04:00).
    const hours = await page.$$eval('[data-testid=time-table] tr', (trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent]));
    expect(hours).toHaveLength(24);
    const d = new Date(`${seed.day}T00:00:00`);
    for (const [label, value] of hours) {
      const h = Number(label!.slice(0, 2));
      const from = new Date(d.getFullYear(), d.getMonth(), d.getDate() + (h < 4 ? 1 : 0), h).getTime();
      expect(value, label!).toBe(fmt(want.within(from, from + 3_600_000)));
    }
    // The drawn bars agree: hovering each hour's column shows its total (the bars are SVG of our own).
    const svg = (await (await page.$('[data-testid=time-chart] .chart svg'))!.boundingBox())!;
    const plotLeft = svg.x + 56, band = (svg.width - 56 - 12) / 24;
    for (const [i, [label, value]] of hours.entries()) {
      await page.mouse.move(plotLeft + (i + 0.5) * band, svg.y + svg.height / 2);
      const tip = await page.textContent('[data-testid=time-chart] .plot-tip');
      expect(tip, label!).toContain(label!);
      expect(tip, label!).toContain(`Total: ${value}`);
    }
    // Every arc of the sunburst names its category path and that category's time.
    const arcs = await page.$$('[data-testid=category-chart] svg g');
    const tips: string[] = [];
    for (const g of arcs) {
      await g.dispatchEvent('mousemove', { clientX: svg.x + 10, clientY: svg.y + 10 });
      tips.push((await page.textContent('[data-testid=category-chart] .plot-tip'))!);
    }
    const tops = new Map<string, number>();
    for (const [k, v] of want.categories) tops.set(k.split(' › ')[0]!, (tops.get(k.split(' › ')[0]!) ?? 0) + v);
    const paths = new Map([...tops, ...[...want.categories].filter(([k]) => k.includes(' › '))]);
    expect(tips.sort()).toEqual([...paths].map(([k, v]) => `${k}: ${fmt(v)}`).sort());
    await page.mouse.move(0, 0);
    expect(await page.$('[data-testid=time-chart] .plot-tip')).toBeNull();
    // The same figures from the keyboard: arrows move from bar to bar and from arc to arc.
    await page.focus('[data-testid=time-chart] .chart');
    for (const [key, i] of [['Home', 0], ['ArrowRight', 1], ['End', 23], ['ArrowLeft', 22]] as const) {
      await page.keyboard.press(key);
      expect(await page.textContent('[data-testid=time-chart] .plot-tip'), key).toContain(`Total: ${hours[i]![1]}`);
    }
    await page.focus('[data-testid=category-chart] .chart');
    expect(await page.$('[data-testid=time-chart] .plot-tip')).toBeNull();
    const byKey: string[] = [];
    for (let i = 0; i < tips.length; i++) {
      await page.keyboard.press(i === 0 ? 'Home' : 'ArrowRight');
      byKey.push((await page.textContent('[data-testid=category-chart] .plot-tip'))!);
    }
    expect(byKey.sort()).toEqual(tips);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    expect(await page.evaluate(() => (window as unknown as { __sundial: { queries: number } }).__sundial.queries)).toBe(2);
    await shot('activity-light');
    await page.setViewportSize({ width: 640, height: 900 });
    await shot('activity-narrow-light');
    await page.setViewportSize({ width: 1280, height: 800 });
    // Week view of the same day: the same totals, bars per day.
    await page.click('button:has-text("Week")');
    await page.waitForFunction((t) => document.querySelector('[data-testid=active-time] .stat-value')?.textContent === t && document.querySelectorAll('[data-testid=time-table] tr').length === 7, fmt(want.active));
  });

  it('Timeline: one lane per bucket for the day', async () => {
    await goto('/timeline');
    await page.waitForSelector('.empty'); // today has nothing
    await page.fill('input[type=date]', seed.day);
    await page.waitForSelector('[data-testid=timeline] .chart[data-drawn]');
    const box = (await page.$('[data-testid=timeline] .chart'))!;
    const b = (await box.boundingBox())!;
    // Hover somewhere over the lanes until a tooltip with event details shows.
    let tip = '';
    for (let x = b.x + b.width * 0.3; x < b.x + b.width * 0.7 && !tip.includes('–'); x += 20) {
      await page.mouse.move(x, b.y + 30 + 44 * 1);
      await page.waitForTimeout(60);
      tip = (await page.evaluate(() => [...document.querySelectorAll('div')].find((d) => d.style.position === 'absolute' && d.innerHTML.includes('<table>'))?.textContent ?? '')) ?? '';
    }
    expect(tip).toMatch(/app|status|url/);
    // Zoom and pan from the keyboard-reachable buttons: the shown window narrows, then moves later.
    const span = async () => {
      const [a, z] = (await page.textContent('[data-testid=visible-window]'))!.split(' – ');
      const min = (t: string) => {
        const m = /(\d+):(\d+)\s*(AM|PM)?/i.exec(t)!;
        return ((Number(m[1]) % 12) + (m[3]?.toUpperCase() === 'PM' ? 12 : m[3] ? 0 : Math.floor(Number(m[1]) / 12) * 12)) * 60 + Number(m[2]);
      };
      return [min(a!), min(z!)] as const;
    };
    await page.waitForSelector('[data-testid=visible-window]');
    const before = await span();
    await page.click('button[aria-label="Zoom in"]');
    await expect.poll(async () => { const s = await span(); return s[1] - s[0]; }).toBeLessThan(before[1] - before[0]);
    const zoomed = await span();
    await page.focus('button[aria-label="Later"]');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await span())[0]).toBeGreaterThan(zoomed[0]);
    await shot('timeline-light');
  });

  it('Buckets: list with counts, raw events, import, delete with confirmation', async () => {
    await goto('/buckets');
    for (const bk of seed.buckets) {
      await page.waitForFunction(([id, n]) => document.querySelector(`tr[data-bucket="${id}"] td.num`)?.textContent === String(n), [bk.id, bk.events.length] as const);
    }
    await shot('buckets-light');
    const win = seed.buckets[1]!;
    await page.click(`tr[data-bucket="${win.id}"] a:has-text("${win.id}")`);
    await page.waitForSelector('[data-testid=event-table]');
    expect(await page.$$eval('[data-testid=event-table] tbody tr', (r) => r.length)).toBe(win.events.length);
    expect(await page.textContent('[data-testid=event-table] tbody tr:first-child')).toContain('vim main.ts'); // newest first
    await shot('bucket-events-light');
    // Import a file: its bucket and events appear.
    const exportFile = path.join(tmp.dir, 'scratch-export.json');
    const scratch = { id: 'scratch', created: new Date().toISOString(), type: 'test', client: 'test', hostname: 'x', events: [1, 2, 3].map((i) => ({ timestamp: new Date(Date.UTC(2024, 0, 1, i)).toISOString(), duration: 60, data: { n: i } })) };
    fs.writeFileSync(exportFile, JSON.stringify({ buckets: { scratch } }));
    await goto('/buckets');
    await page.setInputFiles('[data-testid=import-file]', exportFile);
    await page.waitForSelector('text=Imported scratch-export.json.');
    await page.waitForFunction(() => document.querySelector('tr[data-bucket=scratch] td.num')?.textContent === '3');
    // Delete needs a second, explicit click.
    await page.click('tr[data-bucket=scratch] button:has-text("Delete…")');
    expect((await fetch(`${base}/api/0/buckets/scratch`)).status).toBe(200);
    await page.click('tr[data-bucket=scratch] button.danger');
    await page.waitForSelector('tr[data-bucket=scratch]', { state: 'detached' });
    expect((await fetch(`${base}/api/0/buckets/scratch`)).status).toBe(404);
  });

  it('Query explorer: runs a query; an invalid one shows its line and column', async () => {
    await goto('/query');
    const winId = seed.buckets[1]!.id;
    await page.fill('label:has-text("From") input', seed.day);
    await page.fill('label:has-text("to") input', seed.day);
    await page.fill('textarea', `RETURN = sum_durations(query_bucket("${winId}"));`);
    await page.click('button:has-text("JSON")');
    await page.click('button.primary');
    const windowTotal = seed.buckets[1]!.events.reduce((a, e) => a + (e.to - e.from) / 1000, 0);
    await page.waitForFunction((t) => document.querySelector('pre.json')?.textContent === t, String(windowTotal));
    // Events as a table: one row each, with their data keys as columns.
    await page.fill('textarea', `RETURN = query_bucket("${winId}");`);
    await page.click('button:has-text("Table")');
    await page.click('button.primary');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=result-table] tbody tr').length === n, seed.buckets[1]!.events.length);
    expect(await page.$$eval('[data-testid=result-table] th', (th) => th.map((h) => h.textContent))).toEqual(['Time', 'Duration', 'app', 'title']);
    const bad = 'events = query_bucket("x");\nRETURN = events +;';
    await page.fill('textarea', bad);
    await page.press('textarea', 'Control+Enter');
    await page.waitForSelector('[data-testid=query-error]');
    // Chromium logs every 4xx answer; this one was asked for.
    const i = problems.findIndex((p) => p.includes('status of 400'));
    if (i !== -1) problems.splice(i, 1);
    const col = bad.split('\n')[1]!.indexOf(';') + 1;
    expect(await page.textContent('[data-testid=query-error] .errpos')).toBe(`Line 2, column ${col}`);
    await shot('query-light');
    // Remembered across visits.
    await goto('/query');
    expect(await page.inputValue('textarea')).toBe(bad);
  });

  it('Settings: a regex is checked as typed, the preview shows what a rule matches, and an edit changes the breakdown', async () => {
    await goto('/settings');
    const row = page.locator('[data-testid=category-table] tr[data-category="Comms > IM"]');
    await row.locator('input[aria-label=Pattern]').click();
    const slack = expected(seed, categorise(DEFAULT_CATEGORIES)).apps.get('Slack')!;
    await page.waitForFunction((t) => document.querySelector('[data-testid=rule-preview] h4')?.textContent?.endsWith(`: ${t}`), fmt(slack));
    await row.locator('input[aria-label=Pattern]').fill('Telegram(');
    await expect.poll(() => row.locator('.field-error').count()).toBe(1);
    expect(await page.isDisabled('button:has-text("Save categories")')).toBe(true);
    await row.locator('input[aria-label=Pattern]').fill('Telegram');
    await page.click('button:has-text("Save categories")');
    await page.waitForSelector('text=Categories saved.');
    const saved = (await (await fetch(`${base}/api/0/settings/classes`)).json()) as { name: string[]; rule: { regex?: string } }[];
    expect(saved.find((c) => c.name.join('>') === 'Comms>IM')!.rule.regex).toBe('Telegram');
    await shot('settings-light');

    const rules = DEFAULT_CATEGORIES.map(([n, r]) => [n, n.join('>') === 'Comms>IM' ? { ...r, regex: 'Telegram' } : r] as (typeof DEFAULT_CATEGORIES)[number]);
    const want = expected(seed, categorise(rules));
    expect(want.categories.get('Uncategorized')).toBeGreaterThan(0);
    await goto(`/?mode=day&from=${seed.day}`);
    await page.waitForSelector('[data-testid=top-categories] li');
    const cats = await page.$$eval('[data-testid=top-categories] li', (lis) => lis.map((li) => [li.querySelector('.label')!.textContent, li.querySelector('.dur')!.textContent]));
    expect(cats).toEqual([...want.categories].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, fmt(v)]));
  });

  it('Status: children with state; the restart button restarts one', async () => {
    await goto('/status');
    await page.waitForSelector('tr[data-child=queue]');
    const before = (await controlStatus()).children.find((c) => c.name === 'queue')!;
    expect(before.uptimeMs).toBeGreaterThan(1000);
    expect(await page.textContent('tr[data-child=queue] [data-testid=state]')).toBe('running');
    await page.click('button[aria-label="Restart queue"]');
    // A new incarnation: its uptime starts again, shown on the page and in the daemon's own status.
    await page.waitForFunction(
      (ms) => {
        const u = document.querySelector<HTMLElement>('tr[data-child=queue] [data-testid=uptime]')?.dataset.ms;
        return u !== undefined && u !== '' && Number(u) < ms;
      },
      before.uptimeMs,
    );
    // The daemon agrees: a new incarnation, running (polled: under load it may still be starting).
    await expect
      .poll(async () => {
        const after = (await controlStatus()).children.find((c) => c.name === 'queue')!;
        return after.state === 'running' && after.uptimeMs < before.uptimeMs;
      })
      .toBe(true);
    // Stop and start again from the page.
    await page.click('button[aria-label="Stop queue"]');
    await page.waitForFunction(() => document.querySelector('tr[data-child=queue] [data-testid=state]')?.textContent === 'stopped');
    await page.click('button[aria-label="Start queue"]');
    await page.waitForFunction(() => document.querySelector('tr[data-child=queue] [data-testid=state]')?.textContent === 'running');
    await shot('status-light');
    // Pause for a while from the page, then resume.
    await page.selectOption('select[aria-label="Pause duration"]', '15');
    await page.click('button:has-text("Pause recording")');
    await page.waitForSelector('button:has-text("Resume recording")');
    const paused = (await (await fetch(`${base}/api/control/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { paused: { paused: boolean; until: number | null } };
    expect(paused.paused.paused).toBe(true);
    expect(paused.paused.until! - Date.now()).toBeGreaterThan(14 * 60_000);
    await page.click('button:has-text("Resume recording")');
    await page.waitForSelector('button:has-text("Pause recording")');
    expect(((await (await fetch(`${base}/api/control/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { paused: { paused: boolean } }).paused.paused).toBe(false);
  });

  it('keyboard: the views are reached with Tab and Enter', async () => {
    await goto('/status');
    await page.waitForSelector('tr[data-child=queue]');
    // Skip link first, then the navigation in order.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Query');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/query$/);
    await page.waitForSelector('textarea');
  });

  it('Status explains a watcher whose probe is unavailable, with what to do', async () => {
    // A second daemon with its watchers on, in an environment without any display.
    const saved = { DISPLAY: process.env.DISPLAY, WAYLAND_DISPLAY: process.env.WAYLAND_DISPLAY };
    delete process.env.DISPLAY;
    delete process.env.WAYLAND_DISPLAY;
    const dir2 = tempDir();
    const headless = await startInProcess(dir2.dir, (c) => (c.watchers.enabled = true));
    const p2 = await ctx.newPage();
    try {
      await p2.goto(`http://127.0.0.1:${headless.port}/status`);
      const warn = p2.locator('.warn', { hasText: 'watcher-window' });
      await warn.waitFor();
      expect(await warn.textContent()).toMatch(/No graphical session.*Start Sundial from your desktop session/);
      await p2.screenshot({ path: path.join(SHOTS, 'status-no-display-light.png'), fullPage: true });
    } finally {
      await p2.close();
      await headless.stop();
      dir2.cleanup();
      Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)));
    }
  });

  it('theme switch: dark everywhere, screenshots of every view', async () => {
    await goto('/settings');
    await page.selectOption('#theme', 'dark');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    expect(((await (await fetch(`${base}/api/0/settings/theme`)).json()) as string)).toBe('dark');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).not.toBe('rgb(246, 247, 249)');
    await shot('settings-dark');
    for (const [name, p, ready] of [
      ['activity', `/?mode=day&from=${seed.day}`, '[data-testid=category-chart] .chart[data-drawn]'],
      ['status', '/status', 'tr[data-child=queue]'],
      ['buckets', '/buckets', 'tr[data-bucket]'],
      ['query', '/query', 'textarea'],
    ] as const) {
      await goto(p);
      await page.waitForSelector(ready);
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      await shot(`${name}-dark`);
    }
    await goto('/timeline');
    await page.fill('input[type=date]', seed.day);
    await page.waitForSelector('[data-testid=timeline] .chart[data-drawn]');
    await shot('timeline-dark');
    await goto('/settings');
    await page.selectOption('#theme', 'light');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
    // Half a laptop screen: every view still lays out (screenshots to look at).
    await page.setViewportSize({ width: 640, height: 800 });
    for (const [name, p, ready] of [
      ['status', '/status', 'tr[data-child=queue]'],
      ['buckets', '/buckets', 'tr[data-bucket]'],
      ['settings', '/settings', '[data-testid=category-table]'],
      ['query', '/query', 'textarea'],
    ] as const) {
      await goto(p);
      await page.waitForSelector(ready);
      await shot(`${name}-narrow-light`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('a page from another loopback port can neither read data nor use the control endpoint', async () => {
    // This browser already holds the UI's control session cookie (the Status view used it).
    expect((await ctx.cookies()).some((c) => c.name === `sundial_control_${daemon.port}` && c.httpOnly && c.sameSite === 'Strict')).toBe(true);
    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>elsewhere</title>');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const evilUrl = `http://127.0.0.1:${(evil.address() as net.AddressInfo).port}/`;
    const before = (await controlStatus()).children.find((c) => c.name === 'storage')!.restarts;
    const other = await ctx.newPage();
    try {
      await other.goto(evilUrl);
      const outcome = await other.evaluate(async (target) => {
        const attempt = async (url: string, init?: RequestInit) => {
          try {
            const r = await fetch(url, init);
            return `read ${r.status}: ${await r.text()}`;
          } catch {
            return 'blocked';
          }
        };
        const result = {
          buckets: await attempt(`${target}/api/0/buckets/`),
          settings: await attempt(`${target}/api/0/settings`),
          status: await attempt(`${target}/api/control/status`, { credentials: 'include' }),
          session: await attempt(`${target}/api/control/session`, { method: 'POST', credentials: 'include' }),
        };
        // Blind writes (no-cors: the page cannot read the answer, but the request is sent with cookies).
        await fetch(`${target}/api/control/children/storage/restart`, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => {});
        await fetch(`${target}/api/control/pause`, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => {});
        return result;
      }, base);
      expect(outcome).toEqual({ buckets: 'blocked', settings: 'blocked', status: 'blocked', session: 'blocked' });
      await new Promise((r) => setTimeout(r, 300));
      const st = (await (await fetch(`${base}/api/control/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        children: { name: string; restarts: number }[];
        paused: { paused: boolean };
      };
      expect(st.children.find((c) => c.name === 'storage')!.restarts).toBe(before);
      expect(st.paused.paused).toBe(false);
    } finally {
      await other.close();
      await new Promise((r) => evil.close(r));
    }
  });

  it('Activity: "All devices" adds another device\'s time (buckets synced from it), counting overlaps once', async () => {
    const want = expected(seed, categorise(DEFAULT_CATEGORIES));
    const d = new Date(`${seed.day}T00:00:00`);
    const at = (h: number) => new Date(d.getFullYear(), d.getMonth(), d.getDate(), h).toISOString();
    // The peer: 16:00–19:00 in Blender, of which 16:00–17:00 overlaps this device's active time.
    for (const [id, type, data] of [
      ['aw-watcher-window_peer-synced-from-d2', 'currentwindow', { app: 'Blender', title: 'scene.blend' }],
      ['aw-watcher-afk_peer-synced-from-d2', 'afkstatus', { status: 'not-afk' }],
    ] as const) {
      await api('POST', `/api/0/buckets/${id}`, { client: 'test', type, hostname: 'peer' });
      await api('POST', `/api/0/buckets/${id}/events`, [{ timestamp: at(16), duration: 3 * 3600, data }]);
    }
    await goto(`/?mode=day&from=${seed.day}`);
    await page.waitForSelector('[data-testid=active-time] .stat-value');
    expect(await page.textContent('[data-testid=active-time] .stat-value')).toBe(fmt(want.active));
    await page.selectOption('.toolbar select', { label: 'All devices' });
    await page.waitForFunction((t) => document.querySelector('[data-testid=active-time] .stat-value')?.textContent === t, fmt(want.active + 2 * 3600));
    const apps = await page.$$eval('[data-testid=top-apps] li .label', (ls) => ls.map((l) => l.textContent));
    expect(apps).toContain('Blender');
    await shot('activity-all-devices');
  });

  it('no console errors in any view', () => {
    expect(problems.join('\n')).toBe('');
  });
});

