/**
 * Privacy filters applied before events are stored (pure; the storage path calls `applyPrivacy`).
 * Rules are compiled once; `drop` beats `redact`; browser incognito tabs are dropped unless
 * `keep_incognito` is set.
 */
import { InputError } from '../model/errors.js';
import { isPlainObject, type Event } from '../model/event.js';

export const REDACTED = '[redacted]';
export const BROWSER_TAB_TYPE = 'web.tab.current';

export interface PrivacyRule {
  /** Event data key to test: "app", "title", "url", "file", ... */
  field: string;
  /** Regular expression, searched (not full-matched) in the field's string value. */
  pattern: string;
  action: 'drop' | 'redact';
  /** Only for buckets whose id starts with this prefix. */
  buckets?: string;
  /** Case-insensitive by default, as title exclusion is. */
  ignoreCase?: boolean;
}

export interface PrivacyConfig {
  rules?: PrivacyRule[];
  /** Keep `web.tab.current` events with `incognito: true` (dropped by default). */
  keep_incognito?: boolean;
}

interface CompiledRule {
  field: string;
  re: RegExp;
  action: 'drop' | 'redact';
  buckets: string | null;
}

export interface PrivacyFilter {
  readonly rules: readonly CompiledRule[];
  readonly keepIncognito: boolean;
  /** True when the filter can never change anything (callers may skip it). */
  readonly inactive: boolean;
}

/** Validates and compiles a config; a bad rule is a configuration error (InputError). */
export function compilePrivacy(config: PrivacyConfig | null | undefined): PrivacyFilter {
  const raw = config?.rules ?? [];
  if (!Array.isArray(raw)) throw new InputError('privacy.rules must be a list');
  const rules = raw.map((r, i): CompiledRule => {
    const where = `privacy.rules[${i}]`;
    if (!isPlainObject(r)) throw new InputError(`${where} must be an object`);
    if (typeof r.field !== 'string' || r.field === '') throw new InputError(`${where}.field must be a non-empty string`);
    if (typeof r.pattern !== 'string') throw new InputError(`${where}.pattern must be a string`);
    if (r.action !== 'drop' && r.action !== 'redact') throw new InputError(`${where}.action must be "drop" or "redact"`);
    if (r.buckets !== undefined && typeof r.buckets !== 'string') throw new InputError(`${where}.buckets must be a string prefix`);
    let re: RegExp;
    try {
      re = new RegExp(r.pattern, r.ignoreCase === false ? '' : 'i');
    } catch (err) {
      throw new InputError(`${where}.pattern is not a valid regular expression: ${(err as Error).message}`);
    }
    return { field: r.field, re, action: r.action, buckets: r.buckets ?? null };
  });
  const keepIncognito = config?.keep_incognito === true;
  return { rules, keepIncognito, inactive: rules.length === 0 && keepIncognito };
}

/**
 * The event as it may be stored: null to drop it, a copy with matching fields replaced by
 * "[redacted]", or the same event object when nothing applies.
 */
export function applyPrivacy(filter: PrivacyFilter, bucket: { id: string; type: string }, event: Event): Event | null {
  if (filter.inactive) return event;
  const data = event.data;
  if (!filter.keepIncognito && bucket.type === BROWSER_TAB_TYPE && data.incognito === true) return null;
  let redact: Set<string> | null = null;
  for (const rule of filter.rules) {
    if (rule.buckets !== null && !bucket.id.startsWith(rule.buckets)) continue;
    const value = data[rule.field];
    if (typeof value !== 'string' || !rule.re.test(value)) continue;
    if (rule.action === 'drop') return null;
    (redact ??= new Set()).add(rule.field);
  }
  if (!redact) return event;
  const copy = { ...data };
  for (const f of redact) copy[f] = REDACTED;
  return { ...event, data: copy };
}

/** Convenience: compile once, get a one-argument-pair function. */
export function privacyFilter(config: PrivacyConfig | null | undefined): (bucket: { id: string; type: string }, event: Event) => Event | null {
  const f = compilePrivacy(config);
  return (bucket, event) => applyPrivacy(f, bucket, event);
}
