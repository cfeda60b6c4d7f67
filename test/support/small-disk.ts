import { spawnSync } from 'node:child_process';
import { tempDir } from './temp-dir';

export interface SmallDisk {
  readonly path: string;
  /** False where mounting is not allowed (not root, no tmpfs): the caller falls back to another fault. */
  readonly mounted: boolean;
  cleanup(): void;
}

/**
 * A directory on its own small tmpfs, so that writes really fail with ENOSPC once it is
 * full. Needs root (CI runs as root); elsewhere `mounted` is false and the directory is a
 * plain temp directory.
 */
export function smallDisk(bytes: number): SmallDisk {
  const dir = tempDir('cachelog-disk-');
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir.path], { encoding: 'utf8' });
  const mounted = mount.status === 0;
  return {
    path: dir.path,
    mounted,
    cleanup: () => {
      if (mounted) spawnSync('umount', ['-l', dir.path]);
      dir.cleanup();
    },
  };
}
