import { EntityRef } from '../journal/keys';

interface Due {
  readonly at: number;
  readonly ref: EntityRef;
  readonly key: string;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One binary min-heap and one timer for the whole process (never a timer per key).
 * Items are hints: when one falls due, the entity decides whether the key really expired
 * (it may have been overwritten or deleted since), so stale items cost one no-op command.
 */
export class ExpiryScheduler {
  private readonly heap: Due[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly now: () => number,
    private readonly onDue: (ref: EntityRef, key: string) => void,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  schedule(ref: EntityRef, key: string, at: number): void {
    if (this.stopped) return;
    this.push({ at, ref, key });
    if (at < this.timerAt) this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.length = 0;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    const next = this.heap[0];
    if (next === undefined || this.stopped) return;
    this.timerAt = next.at;
    const delay = Math.min(Math.max(next.at - this.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      const due = this.pop();
      this.onDue(due.ref, due.key);
    }
    this.arm();
  }

  private push(item: Due): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= item.at) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = item;
  }

  private pop(): Due {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && heap[right].at < heap[left].at ? right : left;
        if (heap[child].at >= last.at) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
