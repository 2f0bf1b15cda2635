import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsTable } from '../../src/config/describe.js';

describe('docs/config.md', () => {
  it('holds the settings table generated from the schema (npm run docs:config)', () => {
    const doc = fs.readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
    expect(doc).toContain(`<!-- settings:start -->\n${settingsTable()}\n<!-- settings:end -->`);
  });
});
