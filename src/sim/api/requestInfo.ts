/** What a request URL addresses, parsed the way kube-apiserver's RequestInfoFactory does. */
export type RequestInfo =
  | { type: 'nonResource'; path: string }
  | {
      type: 'resource';
      group: string;
      version: string;
      namespace?: string;
      resource: string;
      name?: string;
      subresource?: string;
      /** Rest of the path after a proxy subresource ("healthz" in .../pods/p:80/proxy/healthz). */
      subpath?: string;
      /** Legacy /watch/ prefix. */
      legacyWatch: boolean;
    };

/** Parses /api/v1/... and /apis/group/version/... paths; everything else is non-resource. */
export function parseRequestPath(pathname: string): RequestInfo {
  const segs = pathname.replace(/^\/+/, '').split('/');
  let i: number;
  let group = '';
  let version: string;
  if (segs[0] === 'api' && segs.length >= 2 && segs[1]) {
    version = segs[1];
    i = 2;
  } else if (segs[0] === 'apis' && segs.length >= 3 && segs[2]) {
    group = segs[1] ?? '';
    version = segs[2];
    i = 3;
  } else {
    return { type: 'nonResource', path: pathname };
  }
  if (i >= segs.length || segs[i] === '') return { type: 'nonResource', path: pathname };
  let legacyWatch = false;
  if (segs[i] === 'watch') {
    legacyWatch = true;
    i++;
  }
  let namespace: string | undefined;
  // /namespaces/{ns}/{resource}... but /namespaces/{name} and /namespaces/{name}/status|finalize address the namespace itself.
  if (segs[i] === 'namespaces' && segs.length > i + 2 && !['status', 'finalize'].includes(segs[i + 2] ?? '')) {
    namespace = decodeURIComponent(segs[i + 1] ?? '');
    i += 2;
  }
  const resource = segs[i];
  if (!resource) return { type: 'nonResource', path: pathname };
  const name = segs[i + 1] !== undefined && segs[i + 1] !== '' ? decodeURIComponent(segs[i + 1]!) : undefined;
  const subresource = segs[i + 2] !== undefined && segs[i + 2] !== '' ? segs[i + 2] : undefined;
  const subpath = segs.length > i + 3 ? segs.slice(i + 3).join('/') : undefined;
  return { type: 'resource', group, version, namespace, resource, name, subresource, subpath, legacyWatch };
}
