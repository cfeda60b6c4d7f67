import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCrashHarness } from './crash-harness';

/** `npm run crash-test -- --cycles N [--seed S] [--keep]`: see scripts/crash-harness.ts. */
async function main(): Promise<void> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const cycles = Number(arg('cycles') ?? 20);
  if (!Number.isSafeInteger(cycles) || cycles < 1 || cycles > 100_000) throw new Error('--cycles must be a whole number from 1 to 100000');
  const seed = Number(arg('seed') ?? Date.now() % 1_000_000_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'cachelog-crash-'));
  const started = Date.now();
  console.log(`crash test: ${cycles} cycles, seed ${seed}, data in ${dataDir}`);
  const report = await runCrashHarness({ cycles, dataDir, seed, log: (line) => console.log(line) });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `\n${report.cycles} SIGKILL cycles in ${seconds} s: ${report.acknowledged} acknowledged writes checked, ` +
      `${report.inFlightAtKill} request(s) in flight at a kill (${report.inFlightApplied} found applied), ` +
      `${report.keysChecked} key reads, ${report.events} events in ${report.caches} caches; ` +
      `${report.failures.length === 0 ? 'no acknowledged write lost, no sequence gap, event-offset rows and inline read models equal a rebuild' : `${report.failures.length} FAILURE(S)`}`,
  );
  if (process.argv.includes('--keep')) console.log(`data kept in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
