import { Global, Module } from '@nestjs/common';
import { Counter } from 'prom-client';
import { APP_CONFIG } from '../config/settings';
import type { JournalConfig } from '../config/journal';
import { CommandRouter } from '../core/command-router';
import { EntityRegistry } from '../entities/entity-registry';
import { InlineReadModels } from '../journal/inline-read-models';
import { Metrics } from '../ops/metrics';
import { nodeIdIn } from '../tasks/shared-task-store';
import { ClusterNode, ForwardOutcome } from './cluster-node';

/** The node's membership and command forwarding, with JOURNAL=nats and NATS_OWNERSHIP=true; null otherwise. */
export function createClusterNode(config: JournalConfig, registry: EntityRegistry, readModels: InlineReadModels, metrics?: Metrics): ClusterNode | null {
  const nats = config.nats;
  if (config.journal !== 'nats' || nats === undefined || !nats.ownership) return null;
  const node = new ClusterNode(
    {
      self: nodeIdIn(config.dataDir),
      servers: nats.servers,
      user: nats.user,
      password: nats.password,
      token: nats.token,
      stream: nats.stream,
      replicas: nats.replicas,
      timeoutMs: nats.timeoutMs,
      memberTtlMs: nats.memberTtlMs,
      forwardTimeoutMs: nats.forwardTimeoutMs,
    },
    registry,
    readModels,
    nats.readWaitMs,
  );
  if (metrics !== undefined) {
    new Counter<'outcome'>({
      name: 'cachelog_forwarded_commands_total',
      help: "Commands forwarded between nodes, by outcome: answered (sent, the owner's reply answered), rerouted (the owner was gone; sent elsewhere or run here), indeterminate (sent, no answer in NATS_FORWARD_TIMEOUT_MS: 503), served (run here for another node)",
      labelNames: ['outcome'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const [outcome, count] of Object.entries(node.counts) as Array<[ForwardOutcome, number]>) this.inc({ outcome }, count);
      },
    });
  }
  return node;
}

/** One owner per cache on a shared journal (docs/scale-out.md); AppLifecycle starts and stops it. */
@Global()
@Module({
  providers: [
    {
      provide: ClusterNode,
      useFactory: createClusterNode,
      inject: [APP_CONFIG, EntityRegistry, InlineReadModels, { token: Metrics, optional: true }],
    },
    { provide: CommandRouter, useFactory: (node: ClusterNode | null) => node, inject: [ClusterNode] },
  ],
  exports: [ClusterNode, CommandRouter],
})
export class ClusterModule {}
