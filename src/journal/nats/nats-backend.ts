import { Logger } from '@nestjs/common';
import { JetStreamManager, RetentionPolicy, StorageType, jetstreamManager } from '@nats-io/jetstream';
import { KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { NatsSettings } from '../../config/journal';
import { JournalBackend, SharedBucket, StartCheck } from '../journal-backend';
import { LevelDbReadModels } from '../leveldb/leveldb-read-models';
import { Storage } from '../leveldb/storage';
import { NatsInlineReadModels } from './nats-inline-read-models';
import { NatsJournal, serializesSubjectChecks } from './nats-journal';
import { NatsSnapshotStore } from './nats-snapshot-store';

/** The connection and stream settings of `NATS_*` (the entity-level ones are not the backend's). */
export interface NatsBackendOptions extends Omit<NatsSettings, 'readWaitMs' | 'ownership' | 'memberTtlMs' | 'forwardTimeoutMs'> {
  /** Where this node keeps its own read models (projection rows, offsets, task records). */
  readonly dataDir: string;
  readonly snapshotsKept?: number;
  /** Force (true) or forbid (false) serialized appends; default: only where the server needs them. */
  readonly serializeAppends?: boolean;
  /** The largest value a client may write: refused at open when the server's messages are smaller. */
  readonly maxValueBytes?: number;
}

/** Room in one message for an event's key (up to 1,024 characters), metadata and headers. */
const EVENT_OVERHEAD_BYTES = 16 * 1024;

/**
 * The journal on NATS JetStream, for scale-out: the stream holds the events and two KV
 * buckets hold snapshots and compaction marks, shared by every node. Read models are
 * pure functions of the stream, so each node keeps its own in a local LevelDB under
 * DATA_DIR and catches it up from its stored offset, like the embedded journal's.
 */
export class NatsBackend extends JournalBackend {
  readonly name = 'nats';
  private readonly logger = new Logger('NatsJournal');
  private nc: NatsConnection | undefined;
  private opened = false;
  private tasksKv: KV | undefined;
  /** Task records in the KV bucket `<stream>-tasks`, read by every node. */
  override readonly sharedBucket: SharedBucket = {
    get: async (key) => {
      const entry = await this.tasks().get(key);
      return entry === null || entry.operation !== 'PUT' ? undefined : entry.value;
    },
    put: async (key, value) => {
      await this.tasks().put(key, value);
    },
    delete: async (key) => {
      await this.tasks().delete(key);
    },
    keys: () => this.taskKeys(),
  };
  private readonly storage: Storage;
  readonly journal: NatsJournal;
  readonly snapshots: NatsSnapshotStore;
  readonly readModels: LevelDbReadModels;
  readonly inline: NatsInlineReadModels;

  constructor(private readonly options: NatsBackendOptions) {
    super();
    this.storage = new Storage(options.dataDir);
    this.readModels = new LevelDbReadModels(this.storage);
    this.journal = new NatsJournal({ stream: options.stream, timeoutMs: options.timeoutMs });
    this.snapshots = new NatsSnapshotStore(this.journal.subjects, options.snapshotsKept ?? 2);
    this.inline = new NatsInlineReadModels(this.storage, this.journal);
    // A writer reads its own listings and org totals: an append resolves once this node applied it.
    this.journal.settled = async (offset) => {
      if (!(await this.inline.reached(offset, options.timeoutMs))) this.logger.warn(`read models are behind offset ${offset} after ${options.timeoutMs} ms`);
    };
  }

  async open(): Promise<void> {
    try {
      await this.openNow();
    } catch (error) {
      // Leave no connection behind a failed open (it would keep the process alive and reconnecting).
      await this.close().catch(() => undefined);
      throw error;
    }
  }

  private async openNow(): Promise<void> {
    const { options } = this;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: [...options.servers],
        user: options.user,
        pass: options.password,
        token: options.token,
        name: 'cachelog',
        timeout: options.timeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // nats.js builds two errors per request (every publish's acknowledgement) up front for their stack traces.
        noAsyncTraces: true,
      });
    } catch (error) {
      throw new Error(`cannot reach NATS at ${options.servers.join(',')}: ${(error as Error).message}`);
    }
    this.nc = nc;
    void this.logStatus(nc);
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    if (options.maxValueBytes !== undefined && options.maxValueBytes + EVENT_OVERHEAD_BYTES > maxPayload) {
      throw new Error(
        `MAX_VALUE_BYTES (${options.maxValueBytes}) does not fit one NATS message: the server takes ${maxPayload} bytes; ` +
          `set MAX_VALUE_BYTES to at most ${maxPayload - EVENT_OVERHEAD_BYTES} or raise the servers' max_payload`,
      );
    }
    const jsm = await jetstreamManager(nc, { timeout: options.timeoutMs });
    await this.ensureStream(jsm, this.journal.subjects);
    const kvm = new Kvm(nc);
    const bucket = async (name: string): Promise<KV> => {
      try {
        return await kvm.create(name, { history: 1, replicas: options.replicas });
      } catch {
        return kvm.open(name); // made by another node with other settings: use it as it is
      }
    };
    const marks = await bucket(`${options.stream}-marks`);
    const snapshots = await bucket(`${options.stream}-snapshots`);
    this.tasksKv = await bucket(`${options.stream}-tasks`);
    this.snapshots.open(snapshots, maxPayload);
    const replicas = (await jsm.streams.info(options.stream)).config.num_replicas;
    if (replicas === 1) {
      this.logger.warn(
        `stream ${options.stream} has 1 replica: JetStream acknowledges a write before it is on disk unless nats-server (2.10 or later) runs with ` +
          '`jetstream { sync_interval: always }` (by default it syncs every 2 minutes), so a server crash can lose acknowledged writes. ' +
          'cachelog cannot see that setting: set it, or use NATS_REPLICAS=3 on a cluster of three servers (docs/scale-out.md)',
      );
    }
    const version = nc.info?.version ?? '0.0.0';
    const serialized = options.serializeAppends ?? (replicas > 1 && !serializesSubjectChecks(version));
    if (serialized) {
      this.logger.warn(
        `nats-server ${version} does not serialize per-cache append checks on a replicated stream (fixed in 2.9.21): ` +
          'appends fall back to the stream-wide check, one at a time per node; upgrade the servers for concurrent appends',
      );
    }
    await this.journal.open(nc, jsm, marks, serialized);
    await this.storage.open();
    const info = await jsm.streams.info(options.stream);
    // `/grouped`: offsets are stream sequence × OFFSET_SLOTS since appends are grouped; rows
    // kept under the older offsets are rebuilt.
    await this.inline.start(`${options.stream}@${info.created}/grouped`, { nc, stream: options.stream, replicas: options.replicas });
    this.opened = true;
    this.logger.log(`connected to ${nc.getServer()}; stream ${options.stream} at offset ${this.journal.highestOffset} (${options.replicas} replica(s))`);
  }

  private async *taskKeys(): AsyncGenerator<string> {
    yield* await this.tasks().keys();
  }

  private tasks(): KV {
    if (this.tasksKv === undefined) throw new Error('the NATS journal is not open');
    return this.tasksKv;
  }

  private async ensureStream(jsm: JetStreamManager, subjects: { readonly all: string }): Promise<void> {
    const { stream, replicas } = this.options;
    const existing = await jsm.streams.info(stream).catch(() => undefined);
    if (existing !== undefined) {
      if (!existing.config.subjects?.includes(subjects.all)) throw new Error(`NATS stream ${stream} exists without the subjects ${subjects.all}: choose another NATS_STREAM`);
      if (existing.config.num_replicas !== replicas) this.logger.warn(`stream ${stream} has ${existing.config.num_replicas} replica(s), NATS_REPLICAS says ${replicas}: using it as it is`);
      return;
    }
    try {
      await jsm.streams.add({
        name: stream,
        subjects: [subjects.all],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        num_replicas: replicas,
        allow_direct: true,
      });
    } catch (error) {
      // Another node may have created it at the same moment.
      if ((await jsm.streams.info(stream).catch(() => undefined)) === undefined) throw error;
    }
  }

  /** Says so in the log when the connection to NATS drops and comes back. */
  private async logStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.logger.error(`lost NATS (${status.server}): writes answer 503, reads serve from memory until it is back`);
      else if (status.type === 'reconnect') this.logger.log(`NATS is back (${status.server}): writes resume`);
      else if (status.type === 'error') this.logger.error(`NATS error: ${(status as { error?: Error }).error?.message ?? 'unknown'}`);
    }
  }

  /** JetStream checks its own store; there is nothing for a node to repair. */
  async check(): Promise<StartCheck> {
    return { removed: 0 };
  }

  async close(): Promise<void> {
    if (this.opened) {
      this.opened = false;
      await this.journal.whenIdle();
      await this.inline.stop();
      await this.journal.close();
    }
    await this.nc?.drain().catch(() => undefined);
    this.nc = undefined;
    await this.storage.close();
  }
}
