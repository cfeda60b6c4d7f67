/**
 * A progress bar on stderr for long commands: done / total, rate and ETA. Drawn only
 * when stderr is a terminal (redraws at most ~10 times a second); otherwise silent, so
 * piped output and logs stay clean.
 */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private done = 0;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly out: NodeJS.WriteStream | { isTTY?: boolean; write(text: string): unknown } = process.stderr,
  ) {}

  private get enabled(): boolean {
    return this.out.isTTY === true;
  }

  tick(by = 1): void {
    this.update(this.done + by);
  }

  update(done: number): void {
    this.done = done;
    if (done > this.total) this.total = done;
    const now = Date.now();
    if (!this.enabled || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.out.write(`\r${this.render(now)}`);
  }

  finish(): void {
    if (this.enabled) this.out.write(`\r${this.render(Date.now())}\n`);
  }

  render(now: number): string {
    const width = 30;
    const ratio = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(ratio * width);
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.done / seconds;
    const eta = rate > 0 && this.total > this.done ? Math.ceil((this.total - this.done) / rate) : 0;
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${(ratio * 100).toFixed(0)}% ${Math.round(rate)}/s ETA ${eta}s `;
  }
}
