export { createSupervisor, DEFAULT_BACKOFF, DEFAULT_INTENSITY } from './supervisor.js';
export type { ChildTransition, Supervisor } from './supervisor.js';
export { processChild } from './process-child.js';
export type { ProcessChildOptions } from './process-child.js';
export type {
  ChildContext,
  ChildHandle,
  ChildSpec,
  ChildState,
  ChildStatus,
  RestartPolicy,
  SupervisorOptions,
} from './types.js';
