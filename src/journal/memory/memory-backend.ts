import { JournalBackend, StartCheck } from '../journal-backend';
import { MemoryJournal } from './memory-journal';
import { MemoryReadModels } from './memory-read-models';
import { MemorySnapshotStore } from './memory-snapshot-store';

/** Everything in memory: fast tests and throwaway runs (`JOURNAL=memory`). */
export class MemoryBackend extends JournalBackend {
  readonly name = 'memory';
  readonly journal = new MemoryJournal();
  readonly snapshots: MemorySnapshotStore;
  readonly readModels = new MemoryReadModels();
  readonly inline = this.journal.inline;

  constructor(options: { snapshotsKept?: number } = {}) {
    super();
    this.snapshots = new MemorySnapshotStore(options.snapshotsKept ?? 2);
  }

  async open(): Promise<void> {}

  /** Nothing is stored to be damaged. */
  async check(): Promise<StartCheck> {
    return { removed: 0 };
  }

  async close(): Promise<void> {
    await this.journal.whenIdle();
    this.journal.close();
  }
}
