/**
 * Recognising a probe-agent pod and reading its agent's flags from the pod spec, as the real
 * container would get them (args ["probe-agent", "--port=8080", ...]).
 */
import type { KubeObject } from '../store/kubeObject.js';
import { podSpecOf } from '../model/podSpec.js';

/** The subcommand that marks a probe agent container. */
export const PROBE_AGENT_COMMAND = 'probe-agent';

/** The flags the simulator honours (intervals are the simulator's own, to keep tests fast). */
export interface ProbeAgentFlags {
  port: number;
  service: string;
}

/** Whether any container of the pod runs `probe-agent`. */
export function isProbeAgentPod(pod: KubeObject): boolean {
  return probeContainerArgs(pod) !== undefined;
}

/** The probe-agent container's command + args, if any. */
export function probeContainerArgs(pod: KubeObject): string[] | undefined {
  for (const c of podSpecOf(pod).containers ?? []) {
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    if (argv.includes(PROBE_AGENT_COMMAND)) return argv;
  }
  return undefined;
}

/** --port and --service from the container's argv (either `--flag=value` or `--flag value`). */
export function probeAgentFlags(argv: readonly string[], defaults: ProbeAgentFlags): ProbeAgentFlags {
  const value = (flag: string): string | undefined => {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
      if (a === flag) return argv[i + 1];
    }
    return undefined;
  };
  const port = Number(value('--port'));
  return { port: Number.isInteger(port) && port > 0 && port < 65536 ? port : defaults.port, service: value('--service') || defaults.service };
}
