// Container image references and registry mirrors (air-gapped clusters: every image pulled
// through one registry that mirrors the public ones under the same repository paths).

/** The registry host of an image reference, or undefined for a Docker Hub short name. */
export function registryOf(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  // As the container runtimes decide: a first component with a dot or a port, or "localhost", is a host.
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/**
 * The image as pulled through `mirror` (a host with an optional path, e.g. "registry.local:5000"
 * or "harbor.example/proxy"): the mirror replaces the registry host and the repository path is
 * kept. Docker Hub short names get their implicit "library/" ("busybox" → "<mirror>/library/busybox").
 * Without a mirror the image is returned unchanged.
 */
export function mirrorImage(image: string, mirror: string | undefined): string {
  if (!mirror) return image;
  const prefix = mirror.replace(/\/+$/, '');
  const host = registryOf(image);
  let path = host === undefined ? image : image.slice(host.length + 1);
  if (host === undefined && !path.includes('/')) path = `library/${path}`;
  return `${prefix}/${path}`;
}
