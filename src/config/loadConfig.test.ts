import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfigText } from './loadConfig.js';

const SEED_CONFIG = join(import.meta.dirname, '..', '..', '..', 'shared', 'seed', 'config.yaml');

describe('configuration', () => {
  it("accepts the seed's config.yaml verbatim", () => {
    const { config, file } = loadConfig(SEED_CONFIG, { explicit: true });
    expect(file).toBe(SEED_CONFIG);
    expect(config.labels['cni-priority-canal']).toBe('node-role.kubernetes.io/priority-canal');
    expect(config.watchedResources.daemonsets?.['kube-system']).toContain('kube-scheduler');
    expect(config.watchedResources.deployments).toBeNull();
    expect(config.timeouts.drainSeconds).toBe(300);
  });

  it('uses the defaults when no file exists and none was asked for', () => {
    const { config, file } = loadConfig('/nonexistent/config.yaml', { explicit: false });
    expect(file).toBeUndefined();
    expect(config.labels.migrated).toBe('node-role.kubernetes.io/migrated');
  });

  it('refuses a named file that does not exist', () => {
    expect(() => loadConfig('/nonexistent/c.yaml', { explicit: true })).toThrow('/nonexistent/c.yaml: no such file');
  });

  it('names the file and key path of an unknown key', () => {
    expect(() => parseConfigText('labels:\n  rolld: x\n', 'c.yaml')).toThrow(new ConfigError('c.yaml', 'labels.rolld', 'unknown key in labels (check the spelling; see the README for the keys)'));
    expect(() => parseConfigText('labelz: {}\n', 'c.yaml')).toThrow(/c\.yaml: labelz: unknown key/);
  });

  it('names the key path of a wrong type and of broken YAML', () => {
    expect(() => parseConfigText('timeouts:\n  drainSeconds: soon\n', 'c.yaml')).toThrow(/c\.yaml: timeouts\.drainSeconds: /);
    expect(() => parseConfigText('watchedResources:\n  daemonsets:\n    kube-system: canal\n', 'c.yaml')).toThrow(/watchedResources\.daemonsets\.kube-system/);
    expect(() => parseConfigText('labels: [\n', 'c.yaml')).toThrow(/c\.yaml: invalid YAML at line/);
  });
});
