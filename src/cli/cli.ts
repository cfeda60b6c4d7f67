import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/settings';
import { backupCommand, restoreCommand } from './commands/backup.command';
import { exportCommand } from './commands/export.command';
import { importCommand } from './commands/import.command';
import { rebuildCommand } from './commands/rebuild.command';
import { replayCommand } from './commands/replay.command';
import { tokenCommand } from './commands/token.command';
import { verifyCommand } from './commands/verify.command';
import { CliError, CliIo } from './io';

export const USAGE = `usage: cachelog <command> [options]

commands (the server must not be running on the data directory, except for token):
  backup  --out FILE                             the whole data directory (journal, snapshots, compaction
                                                 marks, read models, tasks, secret) into one file
  restore --in FILE                              a backup into a new or empty data directory
  export  [--org O] [--cache C] [--out FILE]     events as NDJSON (stdout without --out)
  import  --in FILE                              NDJSON into a fresh data directory
  replay  --org O --cache C [--to SEQ|ISO-TIME]  print a cache's state at a point as JSON
  verify                                         check the journal: gaps, undecodable records, snapshots
  rebuild                                        rebuild every read model from the whole journal (operator only)
  token   --org O --name N [--service-level L] [--expires-in SECONDS] [--operator]
                                                 mint a token (JWT_SECRET or DATA_DIR/jwt-secret);
                                                 --operator: may back up the whole instance

every command takes --data-dir DIR (default: DATA_DIR, else ./data); a command that reads
refuses a directory that does not exist or holds no database (it never creates one)
  --version   print cachelog's version
`;

/** package.json's version (src/cli and dist/cli are both two levels below the package). */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

const OPTIONS = {
  'data-dir': { type: 'string' },
  org: { type: 'string' },
  cache: { type: 'string' },
  name: { type: 'string' },
  out: { type: 'string' },
  in: { type: 'string' },
  to: { type: 'string' },
  'service-level': { type: 'string' },
  'expires-in': { type: 'string' },
  operator: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

function required(values: Record<string, unknown>, ...names: string[]): void {
  const missing = names.filter((name) => typeof values[name] !== 'string' || values[name] === '');
  if (missing.length > 0) throw new CliError(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${USAGE}`, 2);
}

/** Runs one command; resolves with the exit code (0 ok, 1 failure or problems found, 2 usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new CliError(`${(error as Error).message}\n\n${USAGE}`, 2);
    }
    const { values, positionals } = parsed;
    const [command, ...rest] = positionals;
    if (values.version || command === 'version') {
      io.stdout.write(`cachelog ${version()}\n`);
      return 0;
    }
    if (values.help || command === undefined || command === 'help') {
      io.stdout.write(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (rest.length > 0) throw new CliError(`unexpected arguments: ${rest.join(' ')}\n\n${USAGE}`, 2);
    const dataDir = values['data-dir'];
    switch (command) {
      case 'backup':
        required(values, 'out');
        return await backupCommand({ dataDir, out: values.out! }, io);
      case 'restore':
        required(values, 'in');
        return await restoreCommand({ dataDir, in: values.in! }, io);
      case 'export':
        return await exportCommand({ dataDir, org: values.org, cache: values.cache, out: values.out }, io);
      case 'import':
        required(values, 'in');
        return await importCommand({ dataDir, in: values.in! }, io);
      case 'replay':
        required(values, 'org', 'cache');
        return await replayCommand({ dataDir, org: values.org!, cache: values.cache!, to: values.to }, io);
      case 'verify':
        return await verifyCommand({ dataDir }, io);
      case 'rebuild':
        return await rebuildCommand({ dataDir }, io);
      case 'token': {
        required(values, 'org', 'name');
        const expiresIn = values['expires-in'];
        if (expiresIn !== undefined && !/^\d{1,10}$/.test(expiresIn)) throw new CliError('--expires-in: must be whole seconds', 2);
        return await tokenCommand(
          { dataDir, org: values.org!, name: values.name!, serviceLevel: values['service-level'], expiresIn: expiresIn === undefined ? undefined : Number(expiresIn), operator: values.operator === true },
          io,
        );
      }
      default:
        throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
    }
  } catch (error) {
    if (error instanceof CliError || error instanceof ConfigError) {
      io.stderr.write(`cachelog: ${error.message}\n`);
      return error instanceof CliError ? error.exitCode : 2;
    }
    throw error;
  }
}
