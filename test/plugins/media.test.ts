import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import dbus from 'dbus-next';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startX, type XServer } from '../platform/xenv.js';
import { startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// A private session bus (a real dbus-daemon), a test-owned MPRIS player on it, and the daemon
// running the media plugin (dist/plugins/media) as a supervised child process.
let dbusDaemon: ChildProcess;
let address: string;
let playerBus: dbus.MessageBus;
let x: XServer;
let daemon: Daemon;
let tmp: ReturnType<typeof tempDir>;

const { Interface } = dbus.interface;
const V = dbus.Variant;
class Root extends Interface {
  Identity = 'Test Player';
  CanQuit = false;
  CanRaise = false;
  HasTrackList = false;
  DesktopEntry = 'test-player';
  SupportedUriSchemes: string[] = ['file'];
  SupportedMimeTypes: string[] = ['audio/flac'];
}
Root.configureMembers({
  properties: Object.fromEntries(
    [['Identity', 's'], ['CanQuit', 'b'], ['CanRaise', 'b'], ['HasTrackList', 'b'], ['DesktopEntry', 's'], ['SupportedUriSchemes', 'as'], ['SupportedMimeTypes', 'as']].map(([k, sig]) => [k!, { signature: sig!, access: dbus.interface.ACCESS_READ }]),
  ),
});
class Player extends Interface {
  PlaybackStatus = 'Stopped';
  Metadata: Record<string, dbus.Variant> = {};
  Rate = 1;
  Volume = 1;
  Position = 0;
  CanPlay = true;
  CanPause = true;
  CanControl = true;
  set(changed: Partial<Pick<Player, 'PlaybackStatus' | 'Metadata'>>) {
    Object.assign(this, changed);
    Interface.emitPropertiesChanged(this, changed, []);
  }
  Play() {
    this.set({ PlaybackStatus: 'Playing' });
  }
  Pause() {
    this.set({ PlaybackStatus: 'Paused' });
  }
}
Player.configureMembers({
  properties: Object.fromEntries(
    [['PlaybackStatus', 's'], ['Metadata', 'a{sv}'], ['Rate', 'd'], ['Volume', 'd'], ['Position', 'x'], ['CanPlay', 'b'], ['CanPause', 'b'], ['CanControl', 'b']].map(([k, sig]) => [k!, { signature: sig!, access: dbus.interface.ACCESS_READ }]),
  ),
  methods: { Play: { inSignature: '', outSignature: '' }, Pause: { inSignature: '', outSignature: '' } },
});
const track = (n: number, title: string) => ({
  'mpris:trackid': new V('o', `/org/mpris/MediaPlayer2/Track/${n}`),
  'xesam:title': new V('s', title),
  'xesam:artist': new V('as', ['Ada', 'Grace']),
  'xesam:album': new V('s', 'Compilers'),
  'xesam:url': new V('s', `file:///music/${n}.flac`),
});
const player = new Player('org.mpris.MediaPlayer2.Player');

beforeAll(async () => {
  tmp = tempDir();
  dbusDaemon = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1', `--address=unix:path=${path.join(tmp.dir, 'bus')}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  address = await new Promise<string>((resolve) => readline.createInterface({ input: dbusDaemon.stdout! }).once('line', resolve));
  playerBus = dbus.sessionBus({ busAddress: address });
  playerBus.export('/org/mpris/MediaPlayer2', new Root('org.mpris.MediaPlayer2'));
  playerBus.export('/org/mpris/MediaPlayer2', player);
  await playerBus.requestName('org.mpris.MediaPlayer2.testplayer', 0);
  player.set({ Metadata: track(1, 'First Song') });
  player.Play();

  x = await startX({ wm: false });
  process.env.DISPLAY = x.display;
  process.env.DBUS_SESSION_BUS_ADDRESS = address; // the media plugin inherits it
  daemon = await startInProcess(path.join(tmp.dir, 'data'), (c) => {
    c.watchers.enabled = true;
    Object.assign(c.watchers.afk, { poll_time: 0.5, timeout: 3, media_counts_as_active: true });
    c.watchers.window.poll_time = 5;
    c.plugins = [{ name: 'media', args: ['--poll', '0.5'] }];
  });
});
afterAll(async () => {
  await daemon?.stop();
  playerBus?.disconnect();
  dbusDaemon?.kill();
  await x?.stop();
  tmp?.cleanup();
});

type Ev = { timestamp: string; duration: number; data: Record<string, string> };
const events = async (bucket: string): Promise<Ev[]> => {
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/${encodeURIComponent(bucket)}/events?limit=-1`);
  return r.ok ? ((await r.json()) as Ev[]).reverse() : [];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mediaBucket = `aw-watcher-media_${os.hostname()}`;
const afkBucket = `aw-watcher-afk_${os.hostname()}`;

describe('media plugin (MPRIS over a real D-Bus session bus)', () => {
  it('records what plays with the right fields, follows PropertiesChanged, and keeps AFK off while it plays', async () => {
    const first = await waitFor('media.playing events', async () => {
      const evs = await events(mediaBucket);
      return evs.find((e) => e.data.title === 'First Song' && e.duration >= 1);
    }, 30_000);
    expect(first.data).toEqual({ player: 'Test Player', title: 'First Song', artist: 'Ada, Grace', album: 'Compilers', url: 'file:///music/1.flac', status: 'playing' });
    const buckets = (await (await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/`)).json()) as Record<string, { type: string }>;
    expect(buckets[mediaBucket]!.type).toBe('media.playing');

    // Nobody touches the X server: idle passes the 3 s timeout, but media plays → not AFK. (Before
    // the plugin's first event was stored the watcher could not know; it may have been AFK then.)
    const seen = Date.now();
    await sleep(6_000);
    const afk = await events(afkBucket);
    expect(afk.length).toBeGreaterThan(0);
    const afkAfter = afk.filter((e) => e.data.status === 'afk' && Date.parse(e.timestamp) + e.duration * 1000 > seen + 1_000);
    expect(afkAfter).toEqual([]);
    expect(afk[afk.length - 1]!.data.status).toBe('not-afk');
    expect(Date.parse(afk[afk.length - 1]!.timestamp) + afk[afk.length - 1]!.duration * 1000).toBeGreaterThan(seen + 4_000);
    const afkChild = daemon.supervisor.status().find((c) => c.name === 'watcher-afk')!;
    expect(afkChild.info).toMatchObject({ state: 'not-afk', mediaPlaying: true });

    // A new track (PropertiesChanged) shows up as a new event.
    player.set({ Metadata: track(2, 'Second Song') });
    await waitFor('the second track', async () => (await events(mediaBucket)).some((e) => e.data.title === 'Second Song' && e.data.url === 'file:///music/2.flac'), 15_000);

    // Paused: no more media heartbeats, and AFK follows the real idle time again.
    player.Pause();
    const pausedAt = Date.now();
    await waitFor('afk once media stopped', async () => (await events(afkBucket)).some((e) => e.data.status === 'afk' && Date.parse(e.timestamp) > pausedAt), 30_000);
    const media = await events(mediaBucket);
    const lastEnd = Math.max(...media.map((e) => Date.parse(e.timestamp) + e.duration * 1000));
    expect(lastEnd).toBeLessThan(pausedAt + 1_000);
    expect(media.every((e) => e.data.status === 'playing' && e.data.player === 'Test Player')).toBe(true);
    const plugin = daemon.supervisor.status().find((c) => c.name === 'plugin-media')!;
    expect(plugin.state).toBe('running');
    expect(plugin.restarts).toBe(0);
  }, 90_000);
});
