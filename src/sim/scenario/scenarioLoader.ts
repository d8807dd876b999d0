import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { ManifestError, parseManifestDocuments } from '../../kube/manifestParser.js';
import type { KubeObject } from '../store/kubeObject.js';
import { SIM_API_VERSION, SimulationSettingsSchema, type SimulationSettings } from '../simSettings.js';

/** A scenario: Kubernetes objects to create at start-up plus simulation settings. */
export interface Scenario {
  settings: SimulationSettings;
  objects: { object: KubeObject; documentIndex: number; source: string }[];
}

/** Reads a scenario file; errors name the file, document index and field. */
export function loadScenarioFile(path: string, overrides: Partial<SimulationSettings> = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ManifestError(path, undefined, `cannot read scenario: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseScenario(text, path, overrides);
}

/** Parses scenario text (multi-document YAML). */
export function parseScenario(text: string, source: string, overrides: Partial<SimulationSettings> = {}): Scenario {
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
  return { settings, objects };
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
