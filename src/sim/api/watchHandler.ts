import { ApiError } from './apiError.js';
import type { ApiRequest } from './apiServer.js';
import { parseListFilter, passesFilter, storeQueryOf } from './listing.js';
import { buildTable, wantsTable } from './tables.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';

/**
 * Streams a watch as kube-apiserver does: newline-delimited JSON events over a chunked 200
 * response. A selector turns a MODIFIED that crosses the filter into ADDED or DELETED; a too-old
 * resourceVersion yields one ERROR event carrying a 410 Expired Status.
 */
export function serveWatch(r: ApiRequest, store: ObjectStore, resource: string, namespace: string | undefined, name: string | undefined): void {
  const filter = parseListFilter(resource, r.query); // throws 400 before headers are sent
  const passes = (o: KubeObject) => (name === undefined || o.metadata.name === name) && passesFilter(o, filter);
  const res = r.res;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  // kubectl get -w asks for Tables: each event's object is a one-row Table, the column
  // definitions on the first only (kube-apiserver sets NoHeaders after it).
  const table = wantsTable(String(r.headers.accept ?? ''));
  const includeObject = r.query.get('includeObject') ?? 'Metadata';
  let headers = true;
  const write = (type: string, object: unknown) => {
    if (res.writableEnded) return;
    let body = object;
    if (table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
      const o = object as KubeObject;
      const t = buildTable(resource, [o], o.metadata.resourceVersion ?? '', includeObject) as { columnDefinitions: unknown[] };
      if (!headers) t.columnDefinitions = [];
      headers = false;
      body = t;
    }
    res.write(`${JSON.stringify({ type, object: body })}\n`);
  };
  const rv = r.query.get('resourceVersion') ?? '';
  const sendInitial = r.query.get('sendInitialEvents') === 'true' || (r.query.get('sendInitialEvents') !== 'false' && (rv === '' || rv === '0'));
  const onEvent = (ev: WatchEvent) => {
    const now = passes(ev.object);
    if (ev.type === 'MODIFIED' && ev.oldObject) {
      const before = passes(ev.oldObject);
      if (before && !now) return write('DELETED', ev.object);
      if (!before && now) return write('ADDED', ev.object);
    }
    if (now) write(ev.type, ev.object);
  };
  let stop: () => void = () => {};
  try {
    if (sendInitial) {
      // Subscribe from "now" and send the current state first, with no gap in between.
      const buffered: WatchEvent[] = [];
      let replaying = true;
      stop = store.watch({ resource, namespace }, (ev) => (replaying ? buffered.push(ev) : onEvent(ev)));
      for (const o of store.selectSorted(resource, storeQueryOf(resource, namespace, filter))) if (passes(o)) write('ADDED', o);
      if (r.query.get('sendInitialEvents') === 'true') {
        write('BOOKMARK', { kind: '', apiVersion: '', metadata: { resourceVersion: store.currentResourceVersion(), annotations: { 'k8s.io/initial-events-end': 'true' } } });
      }
      replaying = false;
      for (const ev of buffered) onEvent(ev);
    } else {
      stop = store.watch({ resource, namespace, sinceResourceVersion: rv }, onEvent);
    }
  } catch (e) {
    if (e instanceof ApiError) {
      write('ERROR', e.toStatus());
      res.end();
      return;
    }
    throw e;
  }
  const timeout = Number(r.query.get('timeoutSeconds') ?? '0');
  const timers: NodeJS.Timeout[] = [];
  if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
  if (r.query.get('allowWatchBookmarks') === 'true') {
    const t = setInterval(() => write('BOOKMARK', { kind: '', apiVersion: '', metadata: { resourceVersion: store.currentResourceVersion() } }), 5_000);
    t.unref();
    timers.push(t);
  }
  const cleanup = () => {
    stop();
    for (const t of timers) clearTimeout(t);
  };
  res.on('close', cleanup);
  res.on('finish', cleanup);
}
