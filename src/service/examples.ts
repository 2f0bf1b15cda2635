import type { PlistOptions } from './launchd.js';
import type { UnitOptions } from './systemd.js';

/**
 * The example service files in `systemd/` and `launchd/` (npm run docs:service): what `sundial
 * service install` writes for a global npm install, shown where a reader of the repo looks for them.
 */
export const EXAMPLES: { systemd: UnitOptions; launchd: PlistOptions } = {
  systemd: {
    node: '/usr/bin/node',
    entry: '/usr/local/lib/node_modules/sundial/dist/cli.js',
    args: ['start'],
    path: '/usr/local/bin:/usr/bin:/bin',
  },
  launchd: {
    label: 'org.sundial.daemon',
    node: '/opt/homebrew/bin/node',
    entry: '/opt/homebrew/lib/node_modules/sundial/dist/cli.js',
    args: ['start'],
    path: '/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin',
    logDir: '/Users/you/Library/Logs/sundial',
  },
};
