import fs from 'node:fs';
import { writePrivate } from '../datadir/files.js';

export interface PauseState {
  paused: boolean;
  /** Epoch ms of the automatic resume; null when paused until resumed by hand (or not paused). */
  until: number | null;
}

export interface Pause {
  /** Pause recording for `minutes` (null: until `resume`). */
  pause(minutes: number | null): PauseState;
  resume(): PauseState;
  state(): PauseState;
  isPaused(): boolean;
}

/**
 * "Nothing is recorded while paused." Kept in a small 0600 file so a pause survives a restart of
 * the daemon; a timed pause ends by itself (checked on every write, so no timer can be missed).
 */
export function createPause(file: string, now: () => number = Date.now): Pause {
  let paused = false;
  let until: number | null = null;
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { paused?: unknown; until?: unknown };
    paused = raw.paused === true;
    until = typeof raw.until === 'number' ? raw.until : null;
  } catch {
    /* not paused */
  }
  const save = () => writePrivate(file, JSON.stringify({ paused, until }) + '\n');
  const state = (): PauseState => {
    if (paused && until !== null && now() >= until) {
      paused = false;
      until = null;
      save();
    }
    return { paused, until };
  };
  return {
    pause(minutes) {
      paused = true;
      until = minutes === null ? null : now() + minutes * 60_000;
      save();
      return state();
    },
    resume() {
      paused = false;
      until = null;
      save();
      return state();
    },
    state,
    isPaused: () => state().paused,
  };
}

/** "30m", "2h", "90s", "1h30m", or a bare number of minutes → minutes. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)(h|m|s)/gy;
  let minutes = 0, m: RegExpExecArray | null, consumed = 0;
  while ((m = re.exec(t))) {
    minutes += Number(m[1]) * (m[2] === 'h' ? 60 : m[2] === 'm' ? 1 : 1 / 60);
    consumed = re.lastIndex;
  }
  if (consumed !== t.length || t.length === 0) throw new Error(`'${text}' is not a duration like 30m, 2h or 1h30m`);
  return minutes;
}
