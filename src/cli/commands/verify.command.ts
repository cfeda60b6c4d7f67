import { CliIo, configFor, openOffline, write } from '../io';
import { Progress } from '../progress';

export interface VerifyOptions {
  readonly dataDir?: string;
}

export async function verifyCommand(options: VerifyOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  const backend = await openOffline(config.dataDir);
  const { journal } = backend;
  try {
    const progress = new Progress('verify', journal.highestOffset, io.stderr);
    const report = await backend.verify(progress);
    progress.finish();
    for (const problem of report.problems) await write(io.stdout, `PROBLEM ${problem}\n`);
    await write(
      io.stdout,
      `${report.problems.length === 0 ? 'OK' : 'FAILED'}: ${report.caches} caches, ${report.events} events, ${report.snapshots} snapshots, ${report.problems.length} problems\n`,
    );
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    await backend.close();
  }
}
