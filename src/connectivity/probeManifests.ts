/**
 * The bundled probe manifest (manifests/probe/probe-agent.yaml) as objects, with the image name
 * filled in. The image is configurable because nothing may depend on a registry we do not control
 * (the seed's knet-stress and Multus images are gone): build docker/probe-agent/Dockerfile, push
 * it where the nodes can pull, and pass the name.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifestDocuments } from '../kube/manifestParser.js';
import type { KubeObject } from '../kube/kubeTypes.js';

/** Where the manifest lives (src/ and dist/ are both two levels below the package root). */
export const PROBE_MANIFEST_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'manifests', 'probe', 'probe-agent.yaml');

/** The image used when none is given: what docker/probe-agent/Dockerfile builds, tagged with this package's version. */
export const DEFAULT_PROBE_IMAGE = 'ghcr.io/cni-migration/probe-agent:0.1.0';

const IMAGE_PLACEHOLDER = '__PROBE_IMAGE__';

/** The probe manifest's objects, image substituted. */
export function probeManifests(opts: { image?: string | undefined } = {}): KubeObject[] {
  const text = readFileSync(PROBE_MANIFEST_PATH, 'utf8').replaceAll(IMAGE_PLACEHOLDER, opts.image ?? DEFAULT_PROBE_IMAGE);
  return parseManifestDocuments(text, PROBE_MANIFEST_PATH).map((d) => d.value as KubeObject);
}
