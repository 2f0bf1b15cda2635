import { describe, expect, it } from 'vitest';
import { applyPrivacy, compilePrivacy, privacyFilter, REDACTED } from '../../src/privacy/filters.js';
import type { Event } from '../../src/model/event.js';
import { InputError } from '../../src/model/errors.js';

const ev = (data: Record<string, unknown>): Event => ({ id: null, timestamp: 1_000_000, duration: 5_000_000, data });
const win = { id: 'aw-watcher-window_box', type: 'currentwindow' };
const web = { id: 'aw-watcher-web-firefox_box', type: 'web.tab.current' };

describe('privacy filters', () => {
  const f = compilePrivacy({
    rules: [
      { field: 'app', pattern: '^keepassxc$', action: 'drop' },
      { field: 'title', pattern: 'bank', action: 'redact' },
      { field: 'url', pattern: 'https://mail\\.example\\.com/', action: 'redact', buckets: 'aw-watcher-web' },
      { field: 'title', pattern: 'Private', action: 'drop', buckets: 'aw-watcher-web', ignoreCase: false },
    ],
  });

  it('drop → null; redact → the field replaced by the marker, other fields and the input untouched', () => {
    expect(applyPrivacy(f, win, ev({ app: 'KeePassXC', title: 'db' }))).toBeNull();
    const input = ev({ app: 'Firefox', title: 'My BANK account', extra: 1 });
    const out = applyPrivacy(f, win, input);
    expect(out).toEqual({ ...input, data: { app: 'Firefox', title: REDACTED, extra: 1 } });
    expect(REDACTED).toBe('[redacted]');
    expect(input.data.title).toBe('My BANK account');
    const same = ev({ app: 'Code', title: 'x' });
    expect(applyPrivacy(f, win, same)).toBe(same);
  });

  it('bucket prefixes limit a rule; case sensitivity can be asked for', () => {
    expect(applyPrivacy(f, win, ev({ app: 'a', url: 'https://mail.example.com/inbox' }))!.data.url).toBe('https://mail.example.com/inbox');
    expect(applyPrivacy(f, web, ev({ url: 'https://mail.example.com/inbox', title: 't' }))!.data.url).toBe(REDACTED);
    expect(applyPrivacy(f, web, ev({ url: 'u', title: 'Private tab' }))).toBeNull();
    expect(applyPrivacy(f, web, ev({ url: 'u', title: 'private tab' }))).not.toBeNull();
    expect(applyPrivacy(f, win, ev({ app: 'x', title: 'Private tab' }))).not.toBeNull();
  });

  it('non-string fields never match', () => {
    expect(applyPrivacy(f, win, ev({ app: 42, title: ['bank'] }))).not.toBeNull();
  });

  it('drop wins over redact', () => {
    const g = compilePrivacy({ rules: [{ field: 'title', pattern: 'a', action: 'redact' }, { field: 'title', pattern: 'b', action: 'drop' }] });
    expect(applyPrivacy(g, win, ev({ title: 'ab' }))).toBeNull();
  });

  it('incognito browser tabs are dropped unless keep_incognito', () => {
    const tab = ev({ url: 'https://x', title: 't', audible: false, incognito: true });
    expect(privacyFilter({})(web, tab)).toBeNull();
    expect(privacyFilter(undefined)(web, ev({ ...tab.data, incognito: false }))).not.toBeNull();
    expect(privacyFilter({ keep_incognito: true })(web, tab)).toBe(tab);
    // Only the browser event type is concerned.
    expect(privacyFilter({})(win, ev({ app: 'a', title: 't', incognito: true }))).not.toBeNull();
  });

  it('invalid config is an InputError naming the rule', () => {
    expect(() => compilePrivacy({ rules: [{ field: 'title', pattern: '(', action: 'drop' }] })).toThrow(InputError);
    expect(() => compilePrivacy({ rules: [{ field: 'title', pattern: 'x', action: 'hide' as 'drop' }] })).toThrow(/rules\[0\]\.action/);
    expect(() => compilePrivacy({ rules: [{ field: '', pattern: 'x', action: 'drop' }] })).toThrow(/field/);
  });
});
