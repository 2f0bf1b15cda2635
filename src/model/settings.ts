import { InputError } from './errors.js';

/** Longest settings key; longer ones are refused with the reference server's message. */
const MAX_SETTING_KEY = 127;

export function checkSettingKey(key: string): void {
  if (key.length > MAX_SETTING_KEY) throw new InputError('Too long key', 400);
  if (key.length === 0) throw new InputError('setting key must not be empty', 400);
}
