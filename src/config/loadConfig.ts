import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import * as z from 'zod';
import { ConfigSchema, type MigrationConfig } from './configSchema.js';

/** A configuration that cannot be used: names the file and the key path. Exit code 2. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly keyPath: string,
    readonly detail: string,
  ) {
    super(`${file}: ${keyPath ? `${keyPath}: ` : ''}${detail}`);
    this.name = 'ConfigError';
  }
}

/** Where a configuration came from, for messages and for resolving relative paths. */
export interface LoadedConfig {
  config: MigrationConfig;
  /** The file read, or undefined for built-in defaults. */
  file: string | undefined;
}

/**
 * Loads the configuration. No file at all (the default config.yaml absent and no --config given)
 * means the built-in defaults; an explicitly named file must exist.
 */
export function loadConfig(path: string | undefined, opts: { explicit: boolean }): LoadedConfig {
  const file = path ?? 'config.yaml';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !opts.explicit) return { config: ConfigSchema.parse({}), file: undefined };
    throw new ConfigError(file, '', code === 'ENOENT' ? 'no such file (pass --config with the path of your config.yaml, or omit it to use the defaults)' : `cannot read: ${code ?? (e as Error).message}`);
  }
  return { config: parseConfigText(text, file), file };
}

/** Parses and validates configuration text. */
export function parseConfigText(text: string, file: string): MigrationConfig {
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, '', `invalid YAML at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0] ?? ''}`);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(file, '', 'expected a mapping of settings at the top level');
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) throw configErrorOf(file, result.error);
  return result.data;
}

function configErrorOf(file: string, error: z.ZodError): ConfigError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = (issue as { keys: string[] }).keys[0] ?? '';
    return new ConfigError(file, path ? `${path}.${key}` : key, `unknown key${path ? ` in ${path}` : ''} (check the spelling; see the README for the keys)`);
  }
  return new ConfigError(file, path, issue.message);
}
