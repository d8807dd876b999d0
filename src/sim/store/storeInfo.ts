import { ResourceRegistry } from '../api/resourceRegistry.js';
import type { StoreResourceInfo } from './objectStore.js';

/** Store resource info from the registry: keys are "pods" or "group/plural"; unknown keys behave like plain objects. */
export function storeInfoFrom(registry: ResourceRegistry): (resource: string) => StoreResourceInfo {
  return (resource) => {
    const slash = resource.lastIndexOf('/');
    const group = slash >= 0 ? resource.slice(0, slash) : '';
    const plural = slash >= 0 ? resource.slice(slash + 1) : resource;
    const type = registry.all().find((t) => t.group === group && t.plural === plural);
    return {
      group,
      plural,
      hasStatus: type?.hasStatus ?? false,
      tracksGeneration: type?.tracksGeneration ?? false,
    };
  };
}
