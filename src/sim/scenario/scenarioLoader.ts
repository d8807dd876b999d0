import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { ManifestError, parseManifestDocuments } from '../../kube/manifestParser.js';
import type { KubeObject } from '../store/kubeObject.js';
import { SIM_API_VERSION, SimulationSettingsSchema, type SimulationSettings } from '../simSettings.js';

/** A scenario: Kubernetes objects to create at start-up plus simulation settings. */
export interface Scenario {
  /** Settings, with `nodes` resolved to the simulated nodes' names. */
  settings: SimulationSettings & { nodes: string[] };
  objects: { object: KubeObject; documentIndex: number; source: string }[];
  /** Things the user should know about how the scenario was read (e.g. an ignored --nodes). */
  notes: string[];
}

/** How many nodes a scenario that names none gets. */
export const DEFAULT_NODE_COUNT = 3;

/** Start-up options that are not settings: --nodes applies only when the scenario sets no nodes. */
export interface ScenarioOptions {
  defaultNodes?: number | undefined;
}

/** Reads a scenario file; errors name the file, document index and field. */
export function loadScenarioFile(path: string, overrides: Partial<SimulationSettings> = {}, opts: ScenarioOptions = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ManifestError(path, undefined, `cannot read scenario: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseScenario(text, path, overrides, opts);
}

/** Parses scenario text (multi-document YAML). */
export function parseScenario(text: string, source: string, overrides: Partial<SimulationSettings> = {}, opts: ScenarioOptions = {}): Scenario {
  const docs = parseManifestDocuments(text, source);
  let rawSettings: Record<string, unknown> | undefined;
  let settingsIndex = -1;
  const objects: Scenario['objects'] = [];
  for (const doc of docs) {
    const v = doc.value;
    if (v.apiVersion === SIM_API_VERSION || v.kind === 'Simulation') {
      if (rawSettings) throw new ManifestError(source, doc.index, `only one Simulation document is allowed (another is document ${settingsIndex + 1})`, doc.line);
      rawSettings = v;
      settingsIndex = doc.index;
      continue;
    }
    objects.push({ object: checkObject(v, source, doc.index, doc.line), documentIndex: doc.index, source });
  }
  let settings: SimulationSettings;
  try {
    settings = SimulationSettingsSchema.parse({ ...(rawSettings ?? {}), ...stripUndefined(overrides) });
  } catch (e) {
    if (e instanceof z.ZodError) {
      const issue = e.issues[0]!;
      const path = issue.path.join('.') || '(document)';
      const detail = issue.code === 'unrecognized_keys' ? `unknown field "${[path === '(document)' ? '' : `${path}.`, (issue as { keys: string[] }).keys[0]].join('')}"` : `${path}: ${issue.message}`;
      throw new ManifestError(source, settingsIndex >= 0 ? settingsIndex : undefined, detail);
    }
    throw e;
  }
  const notes: string[] = [];
  const included = settings.include.flatMap((file) => includedObjects(file, source, settingsIndex));
  const all = [...included, ...objects];
  const nodes = resolveNodeNames(settings, all, source, settingsIndex, opts.defaultNodes, notes);
  return { settings: { ...settings, nodes }, objects: all, notes };
}

/** The objects of an included file (relative to the including scenario); it may hold no Simulation document. */
function includedObjects(file: string, from: string, settingsIndex: number): Scenario['objects'] {
  const base = from.startsWith('<') ? process.cwd() : dirname(resolve(from));
  const path = isAbsolute(file) ? file : resolve(base, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ManifestError(from, settingsIndex >= 0 ? settingsIndex : undefined, `include: cannot read ${file} (${path}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseManifestDocuments(text, path).map((doc) => {
    if (doc.value.apiVersion === SIM_API_VERSION || doc.value.kind === 'Simulation') throw new ManifestError(path, doc.index, 'an included file holds Kubernetes objects only; put Simulation settings in the including scenario', doc.line);
    return { object: checkObject(doc.value, path, doc.index, doc.line), documentIndex: doc.index, source: path };
  });
}

/**
 * The simulated nodes: Simulation.nodes as names, else a count that includes the scenario's Node
 * objects (--nodes replaces a count: a scenario's count is a default, its names are not), else
 * the Node objects, else --nodes, else DEFAULT_NODE_COUNT.
 */
function resolveNodeNames(settings: SimulationSettings, objects: Scenario['objects'], source: string, settingsIndex: number, defaultNodes: number | undefined, notes: string[]): string[] {
  const nodeObjects = objects.filter((o) => o.object.kind === 'Node' && (o.object.apiVersion ?? 'v1') === 'v1');
  // A Node object may appear twice (an included one overridden by the scenario): one node.
  const declared = [...new Set(nodeObjects.map((o) => o.object.metadata.name ?? ''))];
  const where = settingsIndex >= 0 ? settingsIndex : undefined;
  const set = typeof settings.nodes === 'number' && defaultNodes !== undefined ? defaultNodes : settings.nodes;
  const named = Array.isArray(set) || (set === undefined && declared.length > 0);
  if (named && defaultNodes !== undefined) notes.push(`--nodes ${defaultNodes} ignored: ${source} names its nodes (${set !== undefined ? 'Simulation.nodes' : `${declared.length} Node objects`})`);
  if (Array.isArray(set)) {
    const extra = declared.filter((n) => !set.includes(n));
    if (extra.length) throw new ManifestError(source, where, `Node objects ${extra.join(', ')} are not among Simulation.nodes (${set.join(', ')}): list them there, or drop Simulation.nodes`);
    return [...new Set(set)];
  }
  if (typeof set === 'number') {
    if (set < declared.length) throw new ManifestError(source, where, `${set === settings.nodes ? 'Simulation.nodes' : '--nodes'} is ${set} but the scenario declares ${declared.length} Node objects; the count includes them`);
    const names = [...declared];
    for (let i = 1; names.length < set; i++) {
      const name = `${settings.nodeNamePrefix}${i}`;
      if (!names.includes(name)) names.push(name);
    }
    return names;
  }
  if (declared.length) return [...new Set(declared)];
  const count = defaultNodes ?? DEFAULT_NODE_COUNT;
  return Array.from({ length: count }, (_, i) => `${settings.nodeNamePrefix}${i + 1}`);
}

function checkObject(v: Record<string, unknown>, source: string, index: number, line: number): KubeObject {
  const missing = (field: string) => new ManifestError(source, index, `${field}: Required value`, line);
  if (typeof v.apiVersion !== 'string' || !v.apiVersion) throw missing('apiVersion');
  if (typeof v.kind !== 'string' || !v.kind) throw missing('kind');
  const meta = v.metadata as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') throw missing('metadata');
  if (typeof meta.name !== 'string' || !meta.name) throw missing('metadata.name');
  return v as unknown as KubeObject;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
