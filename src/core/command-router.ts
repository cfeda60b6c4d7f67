import { CacheCommand } from '../domain';
import { Reply } from '../entities/cache-entity';
import { EntityRef } from '../journal/keys';

/**
 * Where a command for a cache runs: the one seam between the gateway and the entities that
 * knows there may be other nodes. The gateway hands every admitted command to it with `here`,
 * which runs it through this node's registry; a router either calls `here` or has the command
 * run elsewhere and resolves with that node's reply. With one process (LevelDB, memory) there
 * is no router and every command runs here.
 */
export abstract class CommandRouter {
  abstract route(ref: EntityRef, command: CacheCommand, quotaLimit: number | undefined, here: () => Promise<Reply>): Promise<Reply>;
}
