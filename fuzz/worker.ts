/**
 * The worker thread of `hyperabi fuzz --workers K`: runs one job (fuzz/session.ts) and
 * posts its progress ticks and its report to the parent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type WorkerJob } from './session.js';

const port = parentPort;
if (port) {
  const job = workerData as WorkerJob;
  runJob(job, (tick) => port.postMessage({ type: 'progress', tick }))
    .then((report) => port.postMessage({ type: 'done', report }))
    .catch((e: unknown) => port.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e), usage: e instanceof Error && e.name === 'FuzzUsageError' }));
}
