import { PassThrough } from 'node:stream';
import { Progress } from '../../src/cli/progress';

describe('CLI progress bar', () => {
  it('shows done / total, percentage, rate and ETA', () => {
    const progress = new Progress('verify', 200, { isTTY: false, write: () => true });
    progress.update(50);
    const line = progress.render(Date.now() + 1000);
    expect(line).toMatch(/^verify \[#{8}\.{22}\] 50\/200 25% \d+\/s ETA \d+s $/);
  });

  it('draws on a terminal and stays silent when stderr is piped', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const piped = new PassThrough();
    for (const out of [tty, piped]) {
      const progress = new Progress('export', 10, out);
      progress.update(10);
      progress.finish();
    }
    expect(String(tty.read())).toContain('10/10 100%');
    expect(piped.read()).toBeNull();
  });
});
