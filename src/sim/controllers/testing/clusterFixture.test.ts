import { describe, expect, it } from 'vitest';
import { QueuedController, type WatchMapping } from '../queuedController.js';
import { makeNode, startFixture } from './clusterFixture.js';
import { waitFor } from './waitFor.js';

/** A controller breaking the read-only rule: it labels the node the store handed it. */
class CarelessController extends QueuedController {
  readonly name = 'careless';
  attempts = 0;

  protected watches(): WatchMapping[] {
    return [{ resource: 'nodes', keys: (ev) => [ev.object.metadata.name ?? ''] }];
  }

  protected initialKeys(): Iterable<string> {
    return [];
  }

  protected reconcile(key: string): void {
    this.attempts++;
    const node = this.ctx.store.peek('nodes', undefined, key);
    if (node) node.metadata.labels!.touched = 'yes';
  }
}

describe('startFixture', () => {
  it('negative control: a controller writing to an object the store handed out fails the test when the fixture stops', async () => {
    let careless: CarelessController | undefined;
    const fx = startFixture((ctx) => [(careless = new CarelessController(ctx))], { kubelet: false });
    fx.create('nodes', makeNode('n1'));
    await waitFor(() => (careless?.attempts ?? 0) > 0, 5000, 'a reconcile');
    expect(fx.store.peek('nodes', undefined, 'n1')?.metadata.labels?.touched).toBeUndefined();
    expect(() => fx.stop()).toThrow(/a controller changed a frozen store object: careless: n1: .*touched/);
  });
});
