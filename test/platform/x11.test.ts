import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X11Probe } from '../../src/platform/linux/x11.js';
import { ProbeUnavailableError } from '../../src/platform/types.js';
import { activate, startX, WindowMaker, waitFor, xtool, type XServer } from './xenv.js';

describe('X11 probe under Xvfb + openbox', () => {
  let x: XServer;
  let maker: WindowMaker;
  let probe: X11Probe;

  beforeAll(async () => {
    x = await startX();
    maker = await WindowMaker.connect(x.display);
    probe = await X11Probe.open({ display: x.display, reconnectMs: 100 });
  });
  afterAll(async () => {
    probe?.close();
    maker?.close();
    await x?.stop();
  });

  it('reads the active window: class part of WM_CLASS, UTF-8 _NET_WM_NAME, pid', async () => {
    const w = await maker.create({ cls: 'Firefox', instance: 'Navigator', title: 'Ünïcödé — 日本語 🙂', pid: 4242 });
    await activate(x.display, w.id);
    expect(await probe.activeWindow()).toEqual({ app: 'Firefox', title: 'Ünïcödé — 日本語 🙂', pid: 4242 });
    await w.setTitle('second title');
    expect((await probe.activeWindow())?.title).toBe('second title');
    await w.destroy();
  });

  it('follows focus changes between windows', async () => {
    const a = await maker.create({ cls: 'AppA', title: 'window a' });
    const b = await maker.create({ cls: 'AppB', title: 'window b' });
    await activate(x.display, a.id);
    expect((await probe.activeWindow())?.app).toBe('AppA');
    await activate(x.display, b.id);
    expect(await probe.activeWindow()).toMatchObject({ app: 'AppB', title: 'window b' });
    await a.destroy();
    await b.destroy();
  });

  it('reports focus changes and title changes of the active window as change events', async () => {
    const a = await maker.create({ cls: 'EvA', title: 'a one' });
    const b = await maker.create({ cls: 'EvB', title: 'b one' });
    await activate(x.display, a.id);
    const seen: number[] = [];
    const off = probe.onChange(() => seen.push(probe.changeCount()));
    expect(await probe.activeWindow()).toMatchObject({ app: 'EvA', title: 'a one' }); // listening from here
    // A title change of the active window.
    let before = probe.changeCount();
    await a.setTitle('a two');
    await waitFor(() => probe.changeCount() > before, 'an event for the title change');
    expect(await probe.activeWindow()).toMatchObject({ app: 'EvA', title: 'a two' });
    // A focus change.
    before = probe.changeCount();
    await activate(x.display, b.id);
    await waitFor(() => probe.changeCount() > before, 'an event for the focus change');
    expect(await probe.activeWindow()).toMatchObject({ app: 'EvB', title: 'b one' });
    // The window that lost focus is no longer listened to; the new one is.
    await a.setTitle('a three');
    before = probe.changeCount();
    await b.setTitle('b two');
    await waitFor(() => probe.changeCount() > before, 'an event for the new active window');
    expect(await probe.activeWindow()).toMatchObject({ app: 'EvB', title: 'b two' });
    off();
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((p, q) => p - q));
    await a.destroy();
    await b.destroy();
  });

  it('falls back to WM_NAME in COMPOUND_TEXT and reports unknown parts', async () => {
    // "café " in Latin-1 (the initial GR set) then "€" through a UTF-8 segment.
    const ct = Buffer.concat([Buffer.from('caf\xe9 ', 'latin1'), Buffer.from([0x1b, 0x25, 0x47]), Buffer.from('€', 'utf8'), Buffer.from([0x1b, 0x25, 0x40])]);
    const w = await maker.create({ cls: null, legacyTitle: ct });
    const d = await probe.describeWindow(w.id);
    expect(d.title).toBe('café €');
    // No WM_CLASS on the window: the parent is openbox's frame, which has none either.
    expect(d.app).toBe('unknown');
    expect(d.pid).toBeUndefined();
    await w.destroy();
  });

  it('a window that no longer exists gives "unknown" and does not break the connection', async () => {
    const w = await maker.create({ cls: 'Gone', title: 'short-lived' });
    await w.destroy();
    expect(await probe.describeWindow(w.id)).toEqual({ app: 'unknown', title: 'unknown' });
    // Racing destruction with reads, many times.
    for (let i = 0; i < 20; i++) {
      const v = await maker.create({ cls: 'Racer', title: `r${i}` });
      const read = probe.describeWindow(v.id);
      await v.destroy();
      const r = await read;
      expect(['Racer', 'unknown']).toContain(r.app);
    }
    expect(probe.connected).toBe(true);
    expect(typeof (await probe.idleSeconds())).toBe('number');
  });

  it('idle time grows and is reset by synthetic input; saver state reads as locked', async () => {
    await xtool(x.display, 'xdotool', ['mousemove', '100', '100']);
    const before = await probe.idleSeconds();
    await new Promise((r) => setTimeout(r, 600));
    const later = await probe.idleSeconds();
    expect(later).toBeGreaterThan(before);
    await xtool(x.display, 'xdotool', ['mousemove', '200', '150']);
    expect(await probe.idleSeconds()).toBeLessThan(later);
    expect(await probe.locked()).toBe(false);
    await maker.forceSaver(true);
    expect(await probe.locked()).toBe(true);
    await maker.forceSaver(false);
    expect(await probe.locked()).toBe(false);
  });

  it('survives the X server going away and reconnects when it comes back', async () => {
    const lostAt = probe.changeCount();
    await x.killServer();
    await expect(probe.idleSeconds()).rejects.toBeInstanceOf(ProbeUnavailableError);
    await expect(probe.activeWindow()).rejects.toBeInstanceOf(ProbeUnavailableError);
    // Whoever reuses the last answer learns that it no longer holds.
    expect(probe.changeCount()).toBeGreaterThan(lostAt);
    expect(probe.connected).toBe(false);
    await x.restart();
    await waitFor(async () => (await probe.idleSeconds().then(() => true, () => false)), 'reconnect');
    expect(probe.connected).toBe(true);
    maker.close();
    maker = await WindowMaker.connect(x.display);
    const w = await maker.create({ cls: 'Back', title: 'after restart' });
    await activate(x.display, w.id);
    expect(await probe.activeWindow()).toMatchObject({ app: 'Back', title: 'after restart' });
  });
});

describe('X11 probe without a server', () => {
  it('reports unavailable instead of throwing something else', async () => {
    await expect(X11Probe.open({ display: ':4999' })).rejects.toBeInstanceOf(ProbeUnavailableError);
    await expect(X11Probe.open({ display: '' })).rejects.toThrow(/unavailable/);
  });
});
