import { Worker } from 'node:worker_threads';

export type StressRole = 'writer' | 'protocol' | 'fenced' | 'plain-protocol' | 'unprotected';
export interface StressStats {
  role: StressRole;
  writes: number;
  ok: number;
  torn: number;
  retries: number;
}

const CONTROL_BYTES = 64; // keep in sync with test/workers/record.mjs
const GO = 4;
const STOP = 5;
const workerUrl = new URL('./workers/stress-worker.mjs', import.meta.url);

const live = new Set<Worker>();

/** Terminate every worker a stress run left behind (call from afterAll). */
export async function terminateStressWorkers(): Promise<void> {
  await Promise.all([...live].map((w) => w.terminate()));
  live.clear();
}

/**
 * Start one worker per role over a fresh shared buffer, release them together, let them run for
 * `durationMs`, stop them and collect their counts. Bounded: each worker also stops itself after
 * `durationMs + 2000` ms.
 */
export async function runStress(opts: {
  roles: readonly StressRole[];
  words: number;
  durationMs: number;
  gap: number;
  writerStores: 'atomic' | 'plain';
}): Promise<StressStats[]> {
  const sab = new SharedArrayBuffer(CONTROL_BYTES + opts.words * 4);
  const ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  const workers = opts.roles.map(
    (role) =>
      new Worker(workerUrl, {
        workerData: {
          sab,
          role,
          words: opts.words,
          maxMs: opts.durationMs + 2000,
          gap: opts.gap,
          writerStores: opts.writerStores,
        },
      }),
  );
  for (const w of workers) live.add(w);
  const messages = workers.map((w) => {
    let onReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
    });
    const done = new Promise<{ stats: StressStats }>((resolve, reject) => {
      w.on('message', (m: { ready?: boolean; done?: boolean; stats: StressStats }) => {
        if (m.ready) onReady();
        if (m.done) resolve(m);
      });
      w.on('error', reject);
      w.on('exit', (code) => reject(new Error(`stress worker exited early with code ${code}`)));
    });
    return { ready, done };
  });
  await Promise.all(messages.map((m) => m.ready));
  Atomics.store(ctl, GO, 1);
  Atomics.notify(ctl, GO); // workers also re-check GO every 10 ms, so no wake-up can be lost
  await new Promise((resolve) => setTimeout(resolve, opts.durationMs));
  Atomics.store(ctl, STOP, 1);
  const results = await Promise.all(messages.map((m) => m.done));
  await Promise.all(
    workers.map(async (w) => {
      await w.terminate();
      live.delete(w);
    }),
  );
  return results.map((r) => r.stats);
}
