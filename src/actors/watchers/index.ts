export { afkWatcherChild, afkBucketId, AFK_CLIENT, AFK_TYPE, type AfkWatcherOptions } from './afk.js';
export { afkMachine, afkHeartbeats, type AfkPoll, type AfkHeartbeat, type AfkStatus } from './afk-machine.js';
export {
  windowWatcherChild,
  windowBucketId,
  windowPulsetime,
  titleFilter,
  windowData,
  WINDOW_CLIENT,
  WINDOW_TYPE,
  EXCLUDED,
  type WindowWatcherOptions,
} from './window.js';
export { systemClock, type Clock, type WatcherSink } from './runner.js';
export { pluginSink, outboxChild } from './sink.js';
export { mediaPlaying, MEDIA_TYPE } from './media-active.js';
