import { readFileSync } from 'node:fs';
import { SubscriptionRemovedError } from '@mmukit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import { runExample as runDeviceMirror } from '../examples/device-mirror.js';
import { runExample as runKvmGuest } from '../examples/kvm-guest.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('the README examples', () => {
  it('kvm-guest: the migrated page is retried, the zapped one is gone, the new memslot maps', async () => {
    const { sptes, retries } = await runKvmGuest();
    expect([...sptes]).toEqual([
      [1, 'B2'],
      [4, 'E'],
    ]);
    expect(retries).toBe(1);
  });

  it('device-mirror: only the valid mapping is kept; after teardown a fault fails cleanly', async () => {
    const { device, after } = await runDeviceMirror();
    expect([...device]).toEqual([[0, 100]]);
    expect(after).toBeInstanceOf(SubscriptionRemovedError);
  });

  it.each(['kvm-guest.ts', 'device-mirror.ts', 'workers.ts'])(
    'README shows examples/%s as is',
    (file) => {
      const code = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
      expect(blocks).toContain(code);
    },
  );
});
