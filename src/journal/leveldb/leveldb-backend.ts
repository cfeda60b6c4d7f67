import { Logger } from '@nestjs/common';
import { JournalBackend, OnlineBackupCounts, OnlineBackupOptions, StartCheck } from '../journal-backend';
import { SyncPolicy } from '../journal';
import { LevelDbJournalRepair } from './journal-repair';
import { LevelDbInlineReadModels } from './leveldb-inline-read-models';
import { LevelDbJournal } from './leveldb-journal';
import { LevelDbReadModels } from './leveldb-read-models';
import { LevelDbSnapshotStore } from './leveldb-snapshot-store';
import { writeOnlineBackup } from './online-backup';
import { Storage } from './storage';
import { ScanProgress, VerifyReport, verifyJournal } from './verify';

export interface LevelDbOptions {
  readonly sync?: SyncPolicy;
  readonly snapshotsKept?: number;
  /** The longest wait between two reopen attempts after a failed write. */
  readonly reopenMaxBackoffMs?: number;
  /** Inline key rows kept in memory so overwrites need no read before their write (0: none). */
  readonly rowCacheEntries?: number;
}

/** The embedded default: one LevelDB under DATA_DIR holds the journal, snapshots and read models. */
export class LevelDbBackend extends JournalBackend {
  readonly name = 'leveldb';
  private readonly logger = new Logger('Journal');
  readonly storage: Storage;
  readonly journal: LevelDbJournal;
  readonly snapshots: LevelDbSnapshotStore;
  readonly readModels: LevelDbReadModels;
  readonly inline: LevelDbInlineReadModels;
  readonly repair: LevelDbJournalRepair;

  constructor(location: string, options: LevelDbOptions = {}) {
    super();
    this.storage = new Storage(location, { reopenMaxBackoffMs: options.reopenMaxBackoffMs });
    this.journal = new LevelDbJournal(this.storage, options.sync ?? 'always', options.rowCacheEntries);
    this.snapshots = new LevelDbSnapshotStore(this.storage, options.snapshotsKept ?? 2);
    this.readModels = new LevelDbReadModels(this.storage);
    this.inline = this.journal.inline;
    this.repair = new LevelDbJournalRepair(this.storage);
  }

  override readonly onlineBackup = (dataDir: string, out: string, options: OnlineBackupOptions): Promise<OnlineBackupCounts> => writeOnlineBackup(this.storage, dataDir, out, options);

  async open(): Promise<void> {
    await this.storage.open();
    await this.journal.open();
  }

  async check({ repair }: { repair: boolean }): Promise<StartCheck> {
    let result: StartCheck = { removed: 0 };
    if (repair) {
      const bad = await this.repair.findFirstCorrupt();
      if (bad === undefined) {
        this.logger.log('repair: the journal is intact, nothing to do');
      } else {
        const removed = await this.repair.truncateFrom(bad);
        await this.journal.reload();
        await this.inline.rebuild();
        this.logger.warn(`repair: truncated the journal at global offset ${bad}: ${removed} event(s) removed; projections will be rebuilt`);
        result = { removed, cutAt: bad };
      }
    }
    // The newest records are checked on every start; recovery checks every record it replays.
    await this.repair.verifyTail();
    return result;
  }

  /**
   * Offline `cachelog rebuild`: every inline read model from the whole log, and the runner
   * projections' rows and offsets cleared (they rebuild on the next start). `progress` hears
   * the global offset reached.
   */
  async rebuildReadModels(progress?: ScanProgress): Promise<void> {
    await this.inline.rebuild(progress);
    await this.storage.offsets.clear();
    await this.storage.projections.clear(); // every projection's rows: nested sublevels share the range
    await this.syncToDisk();
  }

  /** Offline `cachelog verify`: see verifyJournal. */
  verify(progress?: ScanProgress): Promise<VerifyReport> {
    return verifyJournal(this.storage, this.journal.highestOffset, progress);
  }

  /** Forces what was written without sync onto the disk (offline tools that write with sync off). */
  async syncToDisk(): Promise<void> {
    const key = Buffer.from('sync-marker');
    await this.storage.meta.put(key, Buffer.from('1'), { sync: true } as never);
    await this.storage.meta.del(key, { sync: true } as never);
  }

  async close(): Promise<void> {
    await this.journal.whenIdle();
    this.journal.close();
    await this.storage.close();
  }
}
