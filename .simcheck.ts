import { SimCluster } from './src/sim/simCluster.js';
const t0 = Date.now();
const c = await SimCluster.start({ nodes: 3 });
try {
  await c.waitUntilSettled(20000);
  console.log('settled in', Date.now() - t0, 'ms');
} catch (e) { console.log(String(e)); }
for (const p of c.store.list('pods').items) console.log(p.metadata.namespace, p.metadata.name, p.spec.nodeName, p.status?.phase, p.metadata.deletionTimestamp ?? '');
for (const d of c.store.list('apps/daemonsets').items) console.log('ds', d.metadata.name, JSON.stringify(d.status));
for (const d of c.store.list('apps/deployments').items) console.log('deploy', d.metadata.name, JSON.stringify(d.status));
for (const d of c.store.list('policy/poddisruptionbudgets').items) console.log('pdb', d.metadata.name, JSON.stringify(d.status));
for (const d of c.store.list('endpoints').items) console.log('ep', d.metadata.namespace, d.metadata.name, JSON.stringify(d.subsets));
for (const n of c.store.list('nodes').items) console.log('node', n.metadata.name, JSON.stringify(n.spec.taints));
let last = Date.now(); let writes = 0;
c.store.watch({}, () => { last = Date.now(); writes++; });
await new Promise(r => setTimeout(r, 1000));
console.log('writes in 1s after settle:', writes);
await c.stop();
