import { runCrashHarness } from '../../scripts/crash-harness';
import { tempDir } from '../support/temp-dir';

/**
 * The short version of `npm run crash-test`: the service (dist/main.js) is SIGKILLed a few
 * times under concurrent writers; every acknowledged write must be found after restart,
 * with gapless sequences and projections equal to a rebuild.
 */
describe('crash harness (short)', () => {
  it('loses no acknowledged write across SIGKILLs', async () => {
    const dir = tempDir('cachelog-crash-');
    try {
      const report = await runCrashHarness({ cycles: 3, dataDir: dir.path, writers: 6, minRunMs: 150, maxRunMs: 600, seed: 1234 });
      expect(report.failures).toStrictEqual([]);
      expect(report.acknowledged).toBeGreaterThan(0);
      expect(report.events).toBeGreaterThan(0);
    } finally {
      dir.cleanup();
    }
  });
});
