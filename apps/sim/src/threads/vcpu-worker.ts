import { parentPort, workerData } from 'node:worker_threads';
import { runVcpu, type VcpuData } from './vcpu.js';

// One vCPU of `run --threads`: says it is ready, runs until the main thread says stop, then
// says it is done (its counters are in shared memory).
const data = workerData as VcpuData;
parentPort?.postMessage('ready');
void runVcpu(data).then(
  () => parentPort?.postMessage('done'),
  (error: unknown) => {
    throw error; // reaches the main thread as the worker's 'error' event
  },
);
