import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExportLimitError, exportPath, writeNewFile } from '../../src/tasks/export-files';
import { smallDisk } from '../support/small-disk';
import { tempDir } from '../support/temp-dir';

async function* linesOf(count: number, bytes: number): AsyncGenerator<string> {
  for (let i = 0; i < count; i++) yield `${'x'.repeat(bytes - 1)}\n`;
}

describe('export files', () => {
  const dirs: Array<{ cleanup: () => void }> = [];
  afterAll(() => dirs.forEach((d) => d.cleanup()));
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };

  it('names a file by hashes only: fixed length for any name, distinct per (org, name)', () => {
    const long = exportPath({ org: 'o'.repeat(500), name: '漢'.repeat(255) }, '00000000-0000-0000-0000-000000000000');
    expect(long.file).toMatch(/^exports\/[0-9a-f]{16}\/[0-9a-f]{16}\.00000000-0000-0000-0000-000000000000\.ndjson$/);
    expect(exportPath({ org: 'a', name: 'b c' }, 't').file).not.toBe(exportPath({ org: 'a b', name: 'c' }, 't').file);
  });

  it('writes the lines and returns their bytes', async () => {
    const path = join(dir(), 'sub', 'out.ndjson');
    expect(await writeNewFile(path, linesOf(3, 10))).toBe(30);
    expect(readFileSync(path, 'utf8')).toBe(`${'x'.repeat(9)}\n`.repeat(3));
  });

  it('rejects (never throws an unhandled stream error) when the file cannot be opened', async () => {
    const base = dir();
    await expect(writeNewFile(join(base, 'n'.repeat(300)), linesOf(1, 10))).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    writeFileSync(join(base, 'taken'), 'mine');
    await expect(writeNewFile(join(base, 'taken'), linesOf(1, 10))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(join(base, 'taken'), 'utf8')).toBe('mine');
  });

  it('stops at a refused line and leaves no partial file', async () => {
    const base = dir();
    let taken = 0;
    const write = writeNewFile(join(base, 'limited.ndjson'), linesOf(1000, 100), (bytes) => (taken += bytes) <= 5000);
    await expect(write).rejects.toBeInstanceOf(ExportLimitError);
    expect(readdirSync(base)).toStrictEqual([]);
  });

  it('rejects on a write error in the middle of the file (a full disk) and leaves no partial file', async () => {
    const disk = smallDisk(256 * 1024);
    dirs.push(disk);
    const path = join(disk.path, 'full.ndjson');
    if (disk.mounted) {
      await expect(writeNewFile(path, linesOf(1000, 1024))).rejects.toMatchObject({ code: 'ENOSPC' });
    } else {
      // Without a mount: a directory where the file should go fails in the stream too.
      await expect(writeNewFile(disk.path, linesOf(10, 1024))).rejects.toMatchObject({ code: expect.stringMatching(/^E/) });
    }
    expect(existsSync(path)).toBe(false);
  });
});
