/**
 * The gateway as its own process for `npm run bench:gateway`, run from the compiled output
 * (gateway/dist, as in production: no TypeScript loader in memory), so its RSS and event loop are
 * its own. Configuration arrives as environment variables; it reports its URL over IPC and
 * answers `rss` with its current and peak resident set size.
 */
import { setInterval } from 'node:timers';
import { parseConfig } from '@rattgllm/core';
// BENCH_GATEWAY_DIST: another build's gateway/dist/build.js (e.g. main's), to compare two builds
// run by run in the same conditions.
const { buildApp } = await import(process.env.BENCH_GATEWAY_DIST ?? '../../gateway/dist/build.js');

const app = await buildApp(parseConfig(process.env));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
// memoryUsage.rss(): one number, not the whole heap breakdown (memoryUsage() every 10 ms was
// 0.5 % of the gateway's CPU in its own profile). Sampled only from `reset-peak` (the burst) on:
// a timer waking the gateway 100 times a second while single requests are timed made it, and
// not the direct upstream, pay for the benchmark's own bookkeeping (its idle CPU 1.9 % → 0.2 %).
let peak = process.memoryUsage.rss();
let sampler;
process.on('message', (msg) => {
  if (msg === 'rss') process.send({ rss: process.memoryUsage().rss, peak });
  if (msg === 'reset-peak') {
    peak = process.memoryUsage().rss;
    sampler ??= setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 10).unref();
    process.send({ reset: true, rss: peak });
  }
  // CPU time the gateway spent (µs, user + system): per request, a figure the machine's load barely moves.
  if (msg === 'cpu') process.send({ cpu: process.cpuUsage() });
  if (msg === 'close') void app.close().then(() => process.exit(0));
});
process.send({ url });
