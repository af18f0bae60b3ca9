// Readers that await inside their section, a writer that swaps the state and frees the old one
// only when no reader can still be using it; a Mutex serialises the writers.
import { Mutex, Srcu } from '@mmukit/seqcount';

const srcu = new Srcu();
const writers = new Mutex();
let table = { version: 1, freed: false };

async function reader(): Promise<number> {
  const token = srcu.readLock(); // never waits
  try {
    const seen = table;
    await new Promise((resolve) => setTimeout(resolve, 5)); // a section that sleeps
    if (seen.freed) throw new Error('used after free');
    return seen.version;
  } finally {
    srcu.readUnlock(token);
  }
}

async function writer(version: number): Promise<void> {
  await writers.lock();
  try {
    const old = table;
    table = { version, freed: false }; // new readers see the new table
    await srcu.synchronize(); // waits for the readers that may still hold `old`, not for new ones
    old.freed = true;
  } finally {
    writers.unlock();
  }
}

const early = reader(); // holds version 1 across its sleep
await Promise.all([writer(2), writer(3)]); // each returns only after the readers of its old table left
console.log(await early, await reader()); // 1 3
