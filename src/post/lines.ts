import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * NDJSON as bytes, for the file audit: a million-claim file is 1.5 GB, and decoding every line to
 * a string only to find its patient id cost more than hashing it. Lines are read in large chunks
 * and handed out as views of the chunk; only the lines a worker parses are decoded.
 */

const CHUNK = 4 * 1024 * 1024;
const NL = 0x0a;
const CR = 0x0d;

/** Whether the bytes `start..end` are only JSON whitespace (a blank line, skipped as `screen` does). */
function blank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x09 && b !== CR) return false;
  }
  return true;
}

/**
 * Calls `onLine` with each non-blank line of the file (without its `\n` or `\r\n`) and its 1-based
 * line number, in order; returns the number of lines. The view is only valid during the call.
 */
export function forEachLine(
  path: string,
  onLine: (buf: Buffer, start: number, end: number, lineNo: number) => void,
): number {
  const fd = openSync(path, 'r');
  let buf = Buffer.allocUnsafe(CHUNK);
  let filled = 0;
  let lineNo = 0;
  try {
    for (;;) {
      if (filled === buf.length) {
        // One line longer than the chunk: grow, so a line is always whole in one view.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const read = readSync(fd, buf, filled, buf.length - filled, null);
      const end = filled + read;
      let start = 0;
      for (let nl = buf.indexOf(NL, start); nl !== -1 && nl < end; nl = buf.indexOf(NL, start)) {
        lineNo += 1;
        const stop = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
        if (!blank(buf, start, stop)) onLine(buf, start, stop, lineNo);
        start = nl + 1;
      }
      if (read === 0) {
        // The last line, without a newline.
        if (start < end) {
          lineNo += 1;
          const stop = buf[end - 1] === CR ? end - 1 : end;
          if (!blank(buf, start, stop)) onLine(buf, start, stop, lineNo);
        }
        return lineNo;
      }
      buf.copy(buf, 0, start, end);
      filled = end - start;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The string value of the first `"key": "…"` in a line's bytes, or undefined. Escapes are decoded,
 * so one patient written two ways still lands in one partition.
 */
export function stringField(buf: Buffer, start: number, end: number, key: Buffer): string | undefined {
  const at = buf.indexOf(key, start);
  if (at === -1 || at >= end) return undefined;
  let i = at + key.length;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  if (buf[i] !== 0x3a) return undefined;
  i++;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  if (buf[i] !== 0x22) return undefined;
  const open = i;
  let escaped = false;
  for (i = open + 1; i < end; i++) {
    const b = buf[i];
    if (b === 0x5c) {
      escaped = true;
      i++;
    } else if (b === 0x22) {
      const text = buf.toString('utf8', open + 1, i);
      if (!escaped) return text;
      try {
        return JSON.parse(buf.toString('utf8', open, i + 1)) as string;
      } catch {
        // Not a JSON string after all: the line's own parse reports it; it goes by its raw text.
        return text;
      }
    }
  }
  return undefined;
}

/** Appends to a file through one large buffer, written when full: few system calls per million lines. */
export class SpillWriter {
  readonly #fd: number;
  readonly #buf: Buffer;
  #used = 0;

  constructor(path: string, size = 1024 * 1024) {
    this.#fd = openSync(path, 'w');
    this.#buf = Buffer.allocUnsafe(size);
  }

  /** Appends `prefix`, the bytes `start..end` of `line` and a newline. */
  write(prefix: string, line: Buffer, start: number, end: number): void {
    const need = prefix.length * 3 + (end - start) + 1;
    if (this.#used + need > this.#buf.length) this.#flush();
    if (need > this.#buf.length) {
      writeSync(this.#fd, `${prefix}`);
      writeSync(this.#fd, line, start, end - start);
      writeSync(this.#fd, '\n');
      return;
    }
    this.#used += this.#buf.write(prefix, this.#used);
    this.#used += line.copy(this.#buf, this.#used, start, end);
    this.#buf[this.#used++] = NL;
  }

  close(): void {
    this.#flush();
    closeSync(this.#fd);
  }

  #flush(): void {
    let off = 0;
    while (off < this.#used) off += writeSync(this.#fd, this.#buf, off, this.#used - off);
    this.#used = 0;
  }
}
