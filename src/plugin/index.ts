/**
 * `sundial/plugin`: the client library for watchers and plugins (docs/plugins.md). Writes wait
 * in the plugin's own outbox file until the daemon acknowledges them: nothing lost, nothing twice.
 */
export {
  connectPlugin,
  locateBus,
  PLUGIN_ENV,
  type PluginClient,
  type PluginOptions,
  type PluginStatus,
  type EventInput,
  type Rejection,
} from './client.js';
export { OutboxFullError, type BucketSpec } from './outbox.js';
export { SUBJECTS } from '../bus/subjects.js';
