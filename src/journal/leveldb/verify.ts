import { CacheState, evolve, initialState } from '../../domain';
import { sameSettings } from '../../domain/settings';
import { decodeState, encodeState } from '../codec';
import { EntityRef, MAX_SEQ, decodeEntityId, readUint64BE, withSeq } from '../keys';
import { LevelDbJournal } from './leveldb-journal';
import { decodeRecord } from './record';
import { readSnapshotValue } from './snapshot-chunks';
import { Storage } from './storage';

/** Progress of a long scan (the CLI's progress line). */
export interface ScanProgress {
  update(done: number): void;
}

export interface VerifyReport {
  readonly caches: number;
  readonly events: number;
  readonly snapshots: number;
  readonly problems: string[];
}

interface EntityScan {
  readonly ref: EntityRef;
  readonly id: Buffer;
  readonly compacted: number;
  /** Snapshots by seq: decoded state, or the decode error. */
  readonly snapshots: Map<number, CacheState | Error>;
  /** Replayed state while the log is contiguous from its base; undefined once it is not. */
  state: CacheState | undefined;
  seq: number;
}

const compactedThrough = (storage: Storage, id: Buffer) => new LevelDbJournal(storage).compactedThrough(decodeEntityId(id).ref);

const label = (ref: EntityRef) => `${JSON.stringify(ref.org)}/${JSON.stringify(ref.name)}`;

const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/**
 * The first way a snapshot differs from the replayed state in what the journal determines:
 * status, description, version, byte count, settings, and per key the value, version and
 * expiry; undefined when they agree. The order of the keys is not compared: it is the recency
 * order, which reads change (a GET makes its key the most recently used) and the journal does
 * not record; evictions it leads to are journaled as events of their own, so replay never
 * depends on it.
 */
export function journalStateDifference(snapshot: CacheState, replayed: CacheState): string | undefined {
  if (snapshot.status !== replayed.status) return `status ${snapshot.status} where the journal gives ${replayed.status}`;
  if (snapshot.description !== replayed.description) return 'the description differs';
  if (snapshot.version !== replayed.version) return `version ${snapshot.version} where the journal gives ${replayed.version}`;
  if (snapshot.bytes !== replayed.bytes) return `${snapshot.bytes} bytes where the journal gives ${replayed.bytes}`;
  if (!sameSettings(snapshot.settings, replayed.settings)) return 'the settings differ';
  if (snapshot.entries.size !== replayed.entries.size) return `${snapshot.entries.size} keys where the journal gives ${replayed.entries.size}`;
  for (const [key, want] of replayed.entries.entries()) {
    const got = snapshot.entries.get(key);
    if (got === undefined) return `key ${JSON.stringify(key)} is missing`;
    if (!bytesEqual(got.value, want.value)) return `key ${JSON.stringify(key)}: the value differs`;
    if (got.version !== want.version) return `key ${JSON.stringify(key)}: the version differs (${got.version}, the journal gives ${want.version})`;
    if (got.expiresAt !== want.expiresAt) return `key ${JSON.stringify(key)}: the expiry differs (${got.expiresAt}, the journal gives ${want.expiresAt})`;
  }
  return undefined;
}

async function loadSnapshots(storage: Storage, id: Buffer): Promise<Map<number, CacheState | Error>> {
  const out = new Map<number, CacheState | Error>();
  for await (const [key, value] of storage.snapshots.iterator({ gte: withSeq(id, 0), lte: withSeq(id, MAX_SEQ) })) {
    const seq = readUint64BE(key, id.length);
    try {
      const read = await readSnapshotValue(storage, key, value);
      out.set(seq, decodeState(read.parts, { checksum: read.checksum }));
    } catch (error) {
      out.set(seq, error as Error);
    }
  }
  return out;
}

/**
 * Checks the journal of every cache in one pass over the journal key space (a cache's
 * events are adjacent there): sequence numbers without gaps (below a compaction mark gaps
 * are expected), every record decodable, every snapshot decodable and equal to the state
 * the journal gives at its sequence number (in what the journal determines, not in the
 * recency order reads change: journalStateDifference), snapshots not ahead of the journal, and no
 * snapshot of a cache without a journal.
 */
export async function verifyJournal(storage: Storage, total: number, progress?: ScanProgress): Promise<VerifyReport> {
  const problems: string[] = [];
  let caches = 0;
  let events = 0;
  let snapshots = 0;
  let current: EntityScan | undefined;
  const seen = new Set<string>();

  const compare = (scan: EntityScan) => {
    const snapshot = scan.snapshots.get(scan.seq);
    if (snapshot === undefined || snapshot instanceof Error || scan.state === undefined) return;
    const difference = journalStateDifference(snapshot, scan.state);
    if (difference !== undefined) {
      problems.push(`${label(scan.ref)}: the snapshot at seq ${scan.seq} differs from the state the journal gives there: ${difference}`);
    }
  };
  const finish = (scan: EntityScan) => {
    for (const [seq, snapshot] of scan.snapshots) {
      snapshots++;
      if (snapshot instanceof Error) problems.push(`${label(scan.ref)}: the snapshot at seq ${seq} is undecodable (${snapshot.message})`);
      else if (snapshot.version !== seq) problems.push(`${label(scan.ref)}: the snapshot at seq ${seq} holds version ${snapshot.version}`);
      if (seq > scan.seq) problems.push(`${label(scan.ref)}: the snapshot at seq ${seq} is ahead of the journal (last seq ${scan.seq})`);
    }
  };
  const begin = async (key: Buffer): Promise<EntityScan> => {
    const { ref, length } = decodeEntityId(key);
    const id = Buffer.from(key.subarray(0, length));
    const compacted = await compactedThrough(storage, id);
    const scan: EntityScan = { ref, id, compacted, snapshots: await loadSnapshots(storage, id), state: undefined, seq: 0 };
    if (compacted === 0) scan.state = initialState();
    seen.add(id.toString('hex'));
    caches++;
    return scan;
  };

  for await (const [key, value] of storage.journal.iterator()) {
    if (current === undefined || key.length !== current.id.length + 8 || !key.subarray(0, current.id.length).equals(current.id)) {
      if (current !== undefined) finish(current);
      current = await begin(key);
    }
    const scan = current;
    const seq = readUint64BE(key, scan.id.length);
    events++;
    progress?.update(events);
    if (scan.compacted > 0 && seq === scan.compacted + 1) {
      // the first event after the compaction mark: the snapshot there is the base
      const base = scan.snapshots.get(scan.compacted);
      scan.state = base !== undefined && !(base instanceof Error) ? decodeState(encodeState(base)) : undefined;
    } else if (seq !== scan.seq + 1 && seq - 1 > scan.compacted) {
      problems.push(`${label(scan.ref)}: sequence gap: seq ${scan.seq} is followed by seq ${seq}`);
      scan.state = undefined;
    }
    scan.seq = seq;
    try {
      const event = decodeRecord(scan.id, seq, value);
      if (scan.state !== undefined) {
        evolve(scan.state, event);
        compare(scan);
      }
    } catch (error) {
      problems.push(`${label(scan.ref)}: record seq ${seq} is undecodable (${(error as Error).message})`);
      scan.state = undefined;
    }
  }
  if (current !== undefined) finish(current);
  // Snapshots of caches that have no journal at all (compaction always keeps the newest event).
  for await (const key of storage.snapshots.keys()) {
    const { ref, length } = decodeEntityId(key);
    if (!seen.has(key.subarray(0, length).toString('hex'))) {
      snapshots++;
      problems.push(`${label(ref)}: a snapshot at seq ${readUint64BE(key, length)} but no journal`);
    }
  }
  if (total > 0) progress?.update(Math.max(events, total));
  return { caches, events, snapshots, problems };
}

