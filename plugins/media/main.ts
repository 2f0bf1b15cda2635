#!/usr/bin/env node
/**
 * Sundial's media plugin: what is playing, from every MPRIS player on the D-Bus session bus.
 * Heartbeats into `aw-watcher-media_<host>` (type `media.playing`) while a player plays; a change
 * (PropertiesChanged) is recorded at once, otherwise every `--poll` seconds (default 5).
 * Started by the daemon with `plugins = [{ "name": "media" }]`; written against `sundial/plugin`
 * exactly as a plugin outside this repository would be.
 */
import os from 'node:os';
import dbus from 'dbus-next';
import { connectPlugin } from 'sundial/plugin';
import { mprisReader, type PlayerState } from './mpris.js';

export const MEDIA_TYPE = 'media.playing';

const arg = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const pollS = Number(arg('--poll') ?? process.env.SUNDIAL_MEDIA_POLL ?? 5);
if (!(pollS > 0)) throw new Error('--poll must be a positive number of seconds');
const pulsetime = pollS + 1;
const hostname = os.hostname();
const bucket = `aw-watcher-media_${hostname}`;

const data = (p: PlayerState) => ({
  player: p.player,
  title: p.title,
  artist: p.artist,
  ...(p.album ? { album: p.album } : {}),
  ...(p.url ? { url: p.url } : {}),
  status: p.status.toLowerCase(),
});

const client = await connectPlugin({ name: 'media' });
// `pulsetime` in the bucket's data tells readers (the AFK watcher) how fresh "playing" is.
await client.ensureBucket({ id: bucket, type: MEDIA_TYPE, client: 'sundial-media', hostname, data: { pulsetime } });

let bus: dbus.MessageBus;
try {
  bus = dbus.sessionBus();
} catch (err) {
  console.error(`media: no D-Bus session bus (${(err as Error).message})`);
  process.exit(1);
}
bus.on('error', (err: Error) => {
  console.error(`media: D-Bus connection lost: ${err.message}`);
  process.exit(1); // the daemon restarts us
});

let wake: (() => void) | null = null;
const reader = await mprisReader(bus, () => wake?.());
let lastLine = '';
let stopping = false;
const stop = async () => {
  stopping = true;
  wake?.();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

while (!stopping) {
  const now = new Date();
  const players = await reader.players().catch((err: Error) => (console.error(`media: ${err.message}`), []));
  const playing = players.filter((p) => p.status === 'Playing');
  for (const p of playing) await client.heartbeat(bucket, { timestamp: now, data: data(p) }, pulsetime);
  const line = playing.length ? `playing: ${playing.map((p) => `${p.player}: ${p.artist} – ${p.title}`).join('; ')}` : 'nothing playing';
  if (line !== lastLine) console.log(`media: ${line}`);
  lastLine = line;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => ((wake = null), resolve()), pollS * 1000);
    wake = () => (clearTimeout(t), (wake = null), resolve());
  });
}
bus.disconnect();
await client.close();
