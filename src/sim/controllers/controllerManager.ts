import type { Controller, ControllerContext } from './controller.js';
import { DaemonSetController } from './daemonSetController.js';
import { DeploymentController } from './deploymentController.js';
import { DisruptionController } from './disruptionController.js';
import { EndpointsController } from './endpointsController.js';
import { GarbageCollector } from './garbageCollector.js';
import { NamespaceController } from './namespaceController.js';
import { NodeLifecycleController } from './nodeLifecycleController.js';
import { PodGarbageCollector } from './podGarbageCollector.js';
import { ReplicaSetController } from './replicaSetController.js';
import { Scheduler } from './scheduler.js';
import { StatefulSetController } from './statefulSetController.js';
import { TaintEvictionController } from './taintEvictionController.js';
import { TigeraOperatorEmulation } from './tigeraOperatorEmulation.js';

/** Every controller of the simulated control plane (kube-controller-manager plus the scheduler). */
export function allControllers(ctx: ControllerContext): Controller[] {
  return [
    new GarbageCollector(ctx),
    new NamespaceController(ctx),
    new NodeLifecycleController(ctx),
    new Scheduler(ctx),
    new DaemonSetController(ctx),
    new DeploymentController(ctx),
    new ReplicaSetController(ctx),
    new StatefulSetController(ctx),
    new DisruptionController(ctx),
    new TaintEvictionController(ctx),
    new PodGarbageCollector(ctx),
    new EndpointsController(ctx),
    new TigeraOperatorEmulation(ctx),
  ];
}

/** Starts every controller; stop() stops them all (in reverse order). */
export function startControllers(ctx: ControllerContext): { stop(): void } {
  const controllers = allControllers(ctx);
  for (const c of controllers) {
    c.start();
    ctx.log(`controller ${c.name} started`);
  }
  return {
    stop: () => {
      for (const c of [...controllers].reverse()) c.stop();
    },
  };
}
