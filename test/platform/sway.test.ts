import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProbe } from '../../src/platform/index.js';
import { connectI3, encodeI3, I3_MSG, I3FrameReader } from '../../src/platform/linux/wayland/i3ipc.js';
import { SwayidleSource } from '../../src/platform/linux/wayland/idle.js';
import { focusedNode, SwayProbe, swayWindow } from '../../src/platform/linux/wayland/sway.js';
import { ProbeUnavailableError } from '../../src/platform/types.js';
import { startSway, type SwaySession, type SwayWindow } from './swayenv.js';
import { sleep, waitFor, WindowMaker } from './xenv.js';

describe('i3 IPC framing', () => {
  it('encodes magic, little-endian length and type; the reader splits and reassembles frames', () => {
    const f = encodeI3(I3_MSG.SUBSCRIBE, '["window"]');
    expect(f.subarray(0, 6).toString()).toBe('i3-ipc');
    expect(f.readUInt32LE(6)).toBe(10);
    expect(f.readUInt32LE(10)).toBe(2);
    const two = Buffer.concat([f, encodeI3(0x80000003, '{"change":"focus"}')]);
    const r = new I3FrameReader();
    // Byte by byte: frames come out whole, in order.
    const out = [];
    for (let i = 0; i < two.length; i++) out.push(...r.push(two.subarray(i, i + 1)));
    expect(out.map((x) => [x.type >>> 0, x.payload.toString()])).toEqual([
      [2, '["window"]'],
      [0x80000003, '{"change":"focus"}'],
    ]);
    expect(() => new I3FrameReader().push(Buffer.from('x3-ipc\0\0\0\0\0\0\0\0'))).toThrow(/bad magic/);
  });

  it('focused node → window: app_id, XWayland class, empty workspace', () => {
    const tree = {
      type: 'root',
      nodes: [
        {
          type: 'output',
          nodes: [
            {
              type: 'workspace',
              nodes: [{ type: 'con', name: 'a', app_id: 'foot', pid: 3 }],
              floating_nodes: [{ type: 'floating_con', name: 'X app', app_id: null, window_properties: { class: 'Gimp' }, focused: true, pid: 9 }],
            },
          ],
        },
      ],
    };
    expect(swayWindow(focusedNode(tree))).toEqual({ app: 'Gimp', title: 'X app', pid: 9 });
    expect(swayWindow({ type: 'workspace', name: '2', focused: true })).toBeNull();
    expect(swayWindow({ type: 'con', focused: true, name: null })).toEqual({ app: 'unknown', title: 'unknown' });
  });

  it('a peer that never answers: the request times out and the connection closes', async () => {
    const server = net.createServer(() => {});
    const file = `/tmp/sundial-i3-silent-${process.pid}.sock`;
    await new Promise<void>((r) => server.listen(file, r));
    let closed = '';
    const c = await connectI3(file, { timeoutMs: 200, onClose: (why) => (closed = why) });
    await expect(c.request(I3_MSG.GET_TREE)).rejects.toThrow(/no reply/);
    expect(c.closed).toBe(true);
    expect(closed).toMatch(/no reply/);
    server.close();
  });
});

describe('sway probe on a real headless sway', () => {
  let sway: SwaySession;
  let two: SwayWindow;
  let probe: SwayProbe;

  beforeAll(async () => {
    sway = await startSway();
    await sway.openWindow('org.example.One', 'first — ü');
    two = await sway.openWindow('org.example.Two', 'second 日本');
  });
  afterAll(async () => {
    probe?.close();
    await sway?.stop();
  });

  it('openProbe chooses sway from the environment (XWayland DISPLAY set too) and reads the focused window', async () => {
    probe = (await openProbe({ where: { platform: 'linux', env: { ...sway.env(), XDG_SESSION_TYPE: 'wayland', DISPLAY: ':0' } } })) as SwayProbe;
    expect(probe.kind).toBe('sway');
    expect(probe.reason).toMatch(/^SWAYSOCK is set .*XWayland/);
    await sway.focus('first — ü');
    await waitFor(async () => (await probe.activeWindow())?.title === 'first — ü', 'first focused');
    const w = await probe.activeWindow();
    expect(w).toMatchObject({ app: 'org.example.One', title: 'first — ü' });
    expect(w!.pid).toBeGreaterThan(1);
    expect(probe.connected).toBe(true);
  });

  it('focus switches and title changes arrive as events (no poll needed)', async () => {
    let changes = 0;
    const off = probe.onChange(() => changes++);
    const seen: Array<string | undefined> = [];
    const record = async () => seen.push((await probe.activeWindow())?.title);

    await sway.focus('second 日本');
    await waitFor(() => changes >= 1, 'a change event for the focus switch');
    await record();
    const before = changes;
    await two.setTitle('second — renamed ✓');
    await waitFor(() => changes > before, 'a change event for the title');
    await record();
    await sway.focus('first — ü');
    await waitFor(async () => (await probe.activeWindow())?.app === 'org.example.One', 'back to first');
    await record();
    expect(seen).toEqual(['second 日本', 'second — renamed ✓', 'first — ü']);
    // A title change of a window that is not focused is not a change of the active window.
    const quiet = changes;
    await two.setTitle('background title');
    await sleep(300);
    expect((await probe.activeWindow())?.title).toBe('first — ü');
    expect(changes).toBe(quiet);
    off();
  });

  it('an empty workspace is "no window" (null), and switching back reports the window again', async () => {
    let changes = 0;
    const off = probe.onChange(() => changes++);
    await sway.swaymsg('workspace', '9');
    await waitFor(() => changes >= 1, 'a change event for the workspace switch');
    expect(await probe.activeWindow()).toBeNull();
    await sway.swaymsg('workspace', '1');
    await waitFor(async () => (await probe.activeWindow()) !== null, 'a window again');
    off();
  });

  it('an XWayland window: app from its X11 class (window_properties.class)', async () => {
    const maker = await WindowMaker.connect(await sway.xwayland());
    try {
      await maker.create({ cls: 'LegacyApp', instance: 'legacy', title: 'legacy window — X11' });
      await waitFor(async () => (await sway.swaymsg('-t', 'get_tree')).includes('legacy window'), 'the X window mapped', 20_000);
      await sway.focus('legacy window — X11');
      await waitFor(async () => (await probe.activeWindow())?.app === 'LegacyApp', 'the X window focused', 20_000);
      expect((await probe.activeWindow())?.title).toBe('legacy window — X11');
    } finally {
      maker.close();
    }
  });

  it('idle time through swayidle: grows without input, back to 0 on input', async () => {
    const idle = new SwayidleSource({ env: sway.env(), stepSeconds: 1 });
    try {
      expect(await idle.idleSeconds()).toBe(0);
      // No polls meanwhile: the last input stays where swayidle puts it (one step before its timeout).
      await sleep(2500);
      await waitFor(async () => (await idle.idleSeconds()) > 1, 'swayidle reports idle', 20_000);
      const a = await idle.idleSeconds();
      await sleep(600);
      expect(await idle.idleSeconds()).toBeGreaterThan(a);
      await sway.input();
      await waitFor(async () => (await idle.idleSeconds()) === 0, 'resume after input', 20_000);
      expect(await idle.locked()).toBe(false);
    } finally {
      idle.close();
    }
  });

  it('swayidle dying is reported as unavailable with its exit (the watcher then starts a new probe)', async () => {
    const idle = new SwayidleSource({ env: sway.env(), stepSeconds: 1 });
    await waitFor(() => idle.pid !== undefined, 'swayidle started');
    expect(await idle.idleSeconds()).toBe(0);
    process.kill(idle.pid!, 'SIGKILL');
    await waitFor(async () => idle.idleSeconds().then(() => false, (e: Error) => e instanceof ProbeUnavailableError && /swayidle exited \(SIGKILL\)/.test(e.message)), 'the exit reported');
    idle.close();
  });

  it('swayidle ends itself when nobody reads its hooks any more (the daemon died)', async () => {
    const idle = new SwayidleSource({ env: sway.env(), stepSeconds: 1 });
    await waitFor(() => idle.pid !== undefined, 'swayidle started');
    const pid = idle.pid!;
    // What a killed daemon leaves: the read end of swayidle's stdout closed.
    (idle as unknown as { child: { stdout: { destroy(): void } } }).child.stdout.destroy();
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => !alive(), 'swayidle gone at its next hook', 20_000);
    idle.close();
  });

  it('swayidle bookkeeping: last input one step before "idle", never before a moment reported active', async () => {
    let t = 100_000;
    let logindLocked = false;
    let logindClosed = 0;
    const loginLock = { locked: async () => logindLocked, close: () => void logindClosed++ };
    const idle = new SwayidleSource({ env: {}, stepSeconds: 5, spawn: false, now: () => t, loginLock });
    idle.line('idle'); // no poll yet: input 5 s before the timeout fired
    t += 2_000;
    expect(await idle.idleSeconds()).toBe(7);
    idle.line('resume');
    expect(await idle.idleSeconds()).toBe(0); // claims t = 102 s as active
    t += 1_000;
    idle.line('idle'); // fired at 103 s: 98 s is before the claimed 102 s
    t += 3_000;
    expect(await idle.idleSeconds()).toBe(4);
    idle.line('lock');
    expect(await idle.locked()).toBe(true);
    idle.line('unlock');
    expect(await idle.locked()).toBe(false);
    logindLocked = true; // logind's LockedHint counts too
    expect(await idle.locked()).toBe(true);
    idle.close();
    expect(logindClosed).toBe(1);
    await expect(idle.idleSeconds()).rejects.toThrow(ProbeUnavailableError);
  });

  it('reconnects when sway restarts (new IPC socket name) and reads the new session', async () => {
    const old = sway.swaysock;
    let changes = 0;
    const off = probe.onChange(() => changes++);
    await sway.restart();
    expect(sway.swaysock).not.toBe(old);
    // The close is reported as a change so the watcher polls (and finds out) at once.
    await waitFor(() => changes >= 1, 'a change event when the connection closed');
    await sway.openWindow('org.example.Three', 'after restart');
    await waitFor(async () => (await probe.activeWindow().catch(() => null))?.title === 'after restart', 'the probe reading the new sway', 20_000);
    expect(probe.socketPath).toBe(sway.swaysock);
    off();
  });

  it('forced by config without SWAYSOCK: the socket is found in XDG_RUNTIME_DIR', async () => {
    const forced = await openProbe({ where: { platform: 'linux', env: { XDG_RUNTIME_DIR: sway.runtimeDir } }, setting: 'sway' });
    expect(forced.reason).toBe('forced by config watchers.probe = "sway"');
    expect((await forced.activeWindow())?.title).toBe('after restart');
    forced.close();
  });

  it('no compositor: unavailable with the socket named', async () => {
    await expect(SwayProbe.open({ socketPath: '/nonexistent/sway-ipc.sock', idle: () => { throw new Error('unused'); } })).rejects.toThrow(ProbeUnavailableError);
    const missing = new SwayidleSource({ env: sway.env(), binary: 'swayidle-not-installed' });
    await waitFor(async () => (await missing.idleSeconds().then(() => false, (e: Error) => /not installed/.test(e.message))), 'the missing binary reported');
    missing.close();
  });
});
