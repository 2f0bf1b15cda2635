// Writes systemd/sundial.service and launchd/org.sundial.daemon.plist: what `sundial service install`
// generates for a global npm install under /usr/local (macOS: Homebrew's node), for reading and review.
// The installer writes its own copy with this install's paths; test/service/examples.test.ts keeps these equal.
import fs from 'node:fs';
import { launchdPlist } from '../dist/service/launchd.js';
import { systemdUnit } from '../dist/service/systemd.js';
import { EXAMPLES } from '../dist/service/examples.js';

fs.writeFileSync(new URL('../systemd/sundial.service', import.meta.url), systemdUnit(EXAMPLES.systemd));
fs.writeFileSync(new URL('../launchd/org.sundial.daemon.plist', import.meta.url), launchdPlist(EXAMPLES.launchd));
console.log('systemd/sundial.service and launchd/org.sundial.daemon.plist written');
