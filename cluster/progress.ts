// One line of progress for a long step (the Go build): on a terminal it is
// rewritten in place; elsewhere (CI logs, a pipe) a line at each milestone
// (or now and then), so a log shows the step is alive without a line per
// package.

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

export interface ProgressOptions {
  /** Where a terminal's line is drawn; defaults to stderr. */
  stream?: ProgressStream;
  /** Where the occasional lines go when the stream is not a terminal. */
  log: (line: string) => void;
  /** Between two lines when not on a terminal and updates name no milestone; 60 s by default. */
  everyMs?: number;
  now?: () => number;
}

export class ProgressLine {
  private readonly stream: ProgressStream;
  private readonly log: (line: string) => void;
  private readonly everyMs: number;
  private readonly now: () => number;
  private readonly tty: boolean;
  private last = -Infinity;
  private shown = false;
  private milestone: string | undefined;

  constructor(o: ProgressOptions) {
    this.stream = o.stream ?? process.stderr;
    this.log = o.log;
    this.everyMs = o.everyMs ?? 60_000;
    this.now = o.now ?? Date.now;
    this.tty = this.stream.isTTY === true;
    // The first line is worth showing at once; later ones wait their turn.
    this.last = this.tty ? -Infinity : this.now();
  }

  /**
   * The step's state now; drawn at most 5 times a second on a terminal.
   * Elsewhere, with a `milestone` (say, each tenth of the work), a line when
   * it changes; without, a line once a period.
   */
  update(text: string, milestone?: string): void {
    const t = this.now();
    if (!this.tty && milestone !== undefined) {
      if (milestone === this.milestone) return;
      this.milestone = milestone;
    } else if (t - this.last < (this.tty ? 200 : this.everyMs)) return;
    this.last = t;
    this.draw(text);
  }

  private draw(text: string): void {
    if (!this.tty) return this.log(text);
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    const line = text.length > width ? text.slice(0, width - 1) + '…' : text;
    this.stream.write(`\r\x1b[K${line}`);
    this.shown = true;
  }

  /** Clears a terminal's line, so what is printed next starts on a clean one. */
  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

/** 3m05s, 42s. */
export function minutesSeconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
