import { pathToFileURL } from 'node:url';
import { DeferredList } from '../src/index.js';

interface Plugin {
  readonly name: string;
  handle(event: string): Promise<void>;
}
type Change = { readonly op: 'add' | 'remove'; readonly plugin: Plugin };

/**
 * A plugin registry whose list is walked by async dispatches (long-lived readers) and changed by
 * register/unregister calls that may arrive in the middle of a walk (rare writers). Changes made
 * during a walk wait until the last walk ends, so every dispatch sees a stable list.
 */
export class PluginRegistry {
  readonly #plugins: Plugin[] = [];
  readonly #queuedAdds = new Map<Plugin, Change>();
  readonly #changes = new DeferredList<Change>((change) => {
    if (change.op === 'add') {
      this.#queuedAdds.delete(change.plugin);
      this.#plugins.push(change.plugin);
    } else {
      const i = this.#plugins.indexOf(change.plugin);
      if (i !== -1) this.#plugins.splice(i, 1);
    }
  });

  register(plugin: Plugin): void {
    const change: Change = { op: 'add', plugin };
    if (this.#changes.submit(change)) this.#queuedAdds.set(plugin, change);
  }

  unregister(plugin: Plugin): void {
    // A plugin whose registration is still queued was never visible: just drop the add.
    const add = this.#queuedAdds.get(plugin);
    if (add !== undefined && this.#changes.cancel(add)) {
      this.#queuedAdds.delete(plugin);
      return;
    }
    this.#changes.submit({ op: 'remove', plugin });
  }

  async dispatch(event: string): Promise<void> {
    this.#changes.enter();
    try {
      for (const plugin of this.#plugins) await plugin.handle(event);
    } finally {
      this.#changes.exit(); // the last dispatch out applies the queued changes
    }
  }

  /** Resolves when no dispatch is running and every queued change has been applied. */
  settled(): Promise<void> {
    return this.#changes.idle();
  }

  get names(): string[] {
    return this.#plugins.map((p) => p.name);
  }
}

export async function main(log: (line: string) => void = console.log): Promise<string[]> {
  const registry = new PluginRegistry();
  const plugin = (name: string, onEvent?: (event: string) => void): Plugin => ({
    name,
    async handle(event) {
      await new Promise((resolve) => setTimeout(resolve, 1)); // some async work
      log(`${name} got ${event}`);
      onEvent?.(event);
    },
  });
  const audit = plugin('audit');
  const late = plugin('late');
  const shortLived = plugin('short-lived');
  const loader = plugin('loader', (event) => {
    if (event !== 'boot') return;
    registry.register(late); // queued: 'late' does not see 'boot'
    registry.register(shortLived);
    registry.unregister(shortLived); // cancels the queued add
    registry.unregister(audit); // queued: 'audit' still gets 'boot' from both dispatches
  });
  registry.register(loader); // nothing is dispatching: applied at once
  registry.register(audit);

  await Promise.all([registry.dispatch('boot'), registry.dispatch('config')]);
  await registry.settled();
  log(`after boot: ${registry.names.join(', ')}`);
  await registry.dispatch('tick');
  return registry.names;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
