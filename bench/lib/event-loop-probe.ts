import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Loaded into a benchmarked server with `--require`: its event loop's delay, read and reset
 * over IPC (`{cmd: 'eventLoop'}`). The longest delay is what every request waited at worst
 * behind synchronous work, less sensitive than a client's latency to other processes on the
 * machine.
 */
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
process.on('message', (message: { id?: number; cmd?: string }) => {
  if (message?.cmd !== 'eventLoop') return;
  process.send?.({ id: message.id, maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 });
  delay.reset();
});
