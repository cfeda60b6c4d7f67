import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { tempDir } from '../support/temp-dir';
import { journalContract } from './journal.contract';

const dirs = new Map<JournalBackend, ReturnType<typeof tempDir>>();

journalContract('LevelDB', {
  open: async () => {
    const dir = tempDir();
    const backend = new LevelDbBackend(dir.path);
    await backend.open();
    dirs.set(backend, dir);
    return backend;
  },
  reopen: async (backend) => {
    const dir = dirs.get(backend)!;
    await backend.close();
    dirs.delete(backend);
    const reopened = new LevelDbBackend(dir.path);
    await reopened.open();
    dirs.set(reopened, dir);
    return reopened;
  },
  dispose: async (backend) => {
    await backend.close();
    dirs.get(backend)?.cleanup();
    dirs.delete(backend);
  },
});
