import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { decodeEntityId, encodeOrgPrefix, prefixEnd, readUint64BE } from '../keys';
import { OnlineBackupCounts, OnlineBackupOptions } from '../journal-backend';
import { BackupWriter, serviceFiles } from './backup';
import { TOTAL_KEY, orgBytesKey } from './leveldb-inline-read-models';
import { COMPACTED_PREFIX, COMPACTING_PREFIX } from './leveldb-journal';
import { Storage, Sublevel } from './storage';

/** Entries read per slice; the event loop gets a turn between two slices. */
const SLICE = 512;

type Range = { gte: Buffer; lt: Buffer };

const raw = (space: Sublevel): Buffer => Buffer.from(space.prefix, 'utf8');

/** Every key of a key space (its prefix `!name!`: the next byte after the closing `!` ends it). */
function wholeSpace(space: Sublevel): Range {
  const gte = raw(space);
  const lt = Buffer.from(gte);
  lt[lt.length - 1]++;
  return { gte, lt };
}

/** The keys of a key space that start with `prefix`. */
function within(space: Sublevel, prefix: Buffer): Range {
  const base = raw(space);
  return { gte: Buffer.concat([base, prefix]), lt: Buffer.concat([base, prefixEnd(prefix)]) };
}

/**
 * A backup of a running server's LevelDB, in the format `cachelog restore` reads (backup.ts),
 * written to `out` (which must not exist). Every read goes through one LevelDB snapshot taken at
 * the start, so the file is one consistent point of the database — the journal, its index rows,
 * the inline read models and the snapshots agree, as they do after a crash at that moment —
 * while the server goes on writing. Reads come in slices of SLICE entries with a turn of the
 * event loop between them, and take no lock: no append waits for a backup.
 *
 * An org's backup (`org`) carries that org's caches: their journal, global-index and offset rows,
 * snapshots, compaction marks, key listing with its expiry index, names, byte and journal-byte
 * rows (the instance's journal-byte total becomes the org's), the database's format and flags,
 * and the task records and files `keepTask`/`keepFile` pick. Runner projections' rows and offsets
 * are left out (no org's alone): they are rebuilt from the log at the first start. The whole
 * instance: every key, except the task records `keepTask` refuses.
 */
export async function writeOnlineBackup(storage: Storage, dataDir: string, out: string, options: OnlineBackupOptions): Promise<OnlineBackupCounts> {
  const handle = await open(out, 'wx', 0o600);
  const snapshot = (storage.db as unknown as { snapshot(): { close(): Promise<void> } }).snapshot();
  try {
    const writer = new BackupWriter(handle, options.take);
    await writer.header();
    let throughOffset = 0;
    const globalPrefix = raw(storage.global);
    const tasksRange = wholeSpace(storage.tasks);

    const scan = async (range: Partial<Range>, visit: (key: Buffer, value: Buffer) => Promise<void>) => {
      const iterator = storage.db.iterator({ ...range, snapshot, keyEncoding: 'buffer', valueEncoding: 'buffer' } as never);
      try {
        for (;;) {
          const slice = (await iterator.nextv(SLICE)) as Array<[Buffer, Buffer]>;
          if (slice.length === 0) return;
          for (const [key, value] of slice) await visit(key, value);
          options.progress?.(writer.entries);
          await nextTurn();
        }
      } finally {
        await iterator.close();
      }
    };
    const copy = (key: Buffer, value: Buffer) => writer.entry(key, value);
    const inRange = (key: Buffer, range: Range): boolean => Buffer.compare(key, range.gte) >= 0 && Buffer.compare(key, range.lt) < 0;

    if (options.org === undefined) {
      await scan({}, async (key, value) => {
        if (inRange(key, tasksRange) && !options.keepTask(value)) return;
        if (key.length === globalPrefix.length + 8 && key.subarray(0, globalPrefix.length).equals(globalPrefix)) throughOffset = Math.max(throughOffset, readUint64BE(key, globalPrefix.length));
        await writer.entry(key, value);
      });
    } else {
      const org = options.org;
      const orgPrefix = encodeOrgPrefix(org);
      await scan(within(storage.journal, orgPrefix), copy);
      // The global index is keyed by offset: its org's rows are the offset rows turned around.
      const offsetsBase = raw(storage.eventOffsets);
      await scan(within(storage.eventOffsets, orgPrefix), async (key, value) => {
        await writer.entry(key, value);
        await writer.entry(Buffer.concat([globalPrefix, value]), key.subarray(offsetsBase.length));
        throughOffset = Math.max(throughOffset, readUint64BE(value, 0));
      });
      await scan(within(storage.snapshots, orgPrefix), copy);
      await scan(within(storage.snapshotChunks, orgPrefix), copy);
      // The expiry index (by time first) holds a row for every listed key with an expiry.
      const listingBase = raw(storage.listing);
      const expiryBase = raw(storage.expiry);
      await scan(within(storage.listing, orgPrefix), async (key, value) => {
        await writer.entry(key, value);
        const expiresAt = value.subarray(0, 8);
        if (expiresAt.some((byte) => byte !== 0)) await writer.entry(Buffer.concat([expiryBase, expiresAt, key.subarray(listingBase.length)]), Buffer.alloc(0));
      });
      await scan(within(storage.names, orgPrefix), copy);
      await scan(within(storage.orgBytes, orgPrefix), copy);
      const journalBytesBase = raw(storage.journalBytes);
      await scan(within(storage.journalBytes, Buffer.concat([Buffer.from('c'), orgPrefix])), copy);
      await scan(within(storage.journalBytes, orgBytesKey(org)), async (key, value) => {
        await writer.entry(key, value);
        if (key.length === journalBytesBase.length + orgBytesKey(org).length) await writer.entry(Buffer.concat([journalBytesBase, TOTAL_KEY]), value);
      });
      const metaBase = raw(storage.meta);
      await scan(wholeSpace(storage.meta), async (key, value) => {
        const name = key.subarray(metaBase.length);
        for (const prefix of [COMPACTED_PREFIX, COMPACTING_PREFIX]) {
          if (name.subarray(0, prefix.length).equals(prefix)) {
            if (decodeEntityId(name.subarray(prefix.length)).ref.org === org) await writer.entry(key, value);
            return;
          }
        }
        await writer.entry(key, value); // the format and the read models' flags: not a cache's
      });
      await scan(tasksRange, async (key, value) => {
        if (options.keepTask(value)) await writer.entry(key, value);
      });
    }
    options.progress?.(writer.entries);

    for (const path of serviceFiles(dataDir)) {
      if (!options.keepFile(path)) continue;
      const file = await open(join(dataDir, ...path.split('/')), 'r').catch(() => undefined);
      if (file === undefined) continue; // removed since the listing (a pruned export)
      try {
        const stat = await file.stat();
        await writer.file(path, stat.mode, file, stat.size);
      } finally {
        await file.close();
      }
    }
    const counts = await writer.end(handle);
    return { ...counts, throughOffset };
  } finally {
    await snapshot.close();
    await handle.close();
  }
}
