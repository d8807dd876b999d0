import type { ResourceRegistry } from '../api/resourceRegistry.js';
import type { SettingsHolder } from '../simSettings.js';
import type { ObjectStore } from '../store/objectStore.js';

/** What every in-process controller gets: the store it reconciles, the type registry and live settings. */
export interface ControllerContext {
  store: ObjectStore;
  registry: ResourceRegistry;
  settings: SettingsHolder;
  /** Diagnostic log line (verbose mode only). */
  log: (message: string) => void;
}

/** A reconciler with Kubernetes controller behaviour, started and stopped with the simulated cluster. */
export interface Controller {
  readonly name: string;
  start(): void;
  stop(): void;
}
