import { MemoryBackend } from '../../src/journal/memory/memory-backend';
import { journalContract } from './journal.contract';

journalContract('in memory', {
  open: async () => {
    const backend = new MemoryBackend();
    await backend.open();
    return backend;
  },
  dispose: (backend) => backend.close(),
});
