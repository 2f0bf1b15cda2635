import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../src/service/examples.js';
import { launchdPlist } from '../../src/service/launchd.js';
import { systemdUnit } from '../../src/service/systemd.js';

describe('the example service files in the repository', () => {
  it('are what the installer generates (regenerate with npm run docs:service)', () => {
    expect(fs.readFileSync('systemd/sundial.service', 'utf8')).toBe(systemdUnit(EXAMPLES.systemd));
    expect(fs.readFileSync('launchd/org.sundial.daemon.plist', 'utf8')).toBe(launchdPlist(EXAMPLES.launchd));
  });
});
