import { join } from 'node:path';
import { z } from 'zod';
import { readCatalogueJson } from './read.ts';

export const TCM_INCOMPATIBILITY_FILE = 'tcm-incompatibility.json';

export const TcmIncompatibilityFile = z
  .strictObject({
    $comment: z.string(),
    /** Names a piece is billed under (processed forms included) → the piece. */
    pieces: z
      .array(
        z.strictObject({
          piece: z.string().min(1),
          names: z.array(z.string().min(1)).min(1),
          source: z.string().min(1),
        }),
      )
      .min(1),
    /** Every piece of `a` must not be prescribed with any piece of `b`. */
    pairs: z
      .array(
        z.strictObject({
          group: z.enum(['十八反', '十九畏']),
          a: z.array(z.string().min(1)).min(1),
          b: z.array(z.string().min(1)).min(1),
          source: z.string().min(1),
        }),
      )
      .min(1),
  })
  .superRefine((file, ctx) => {
    const known = new Set(file.pieces.map((p) => p.piece));
    const seen = new Map<string, string>();
    file.pieces.forEach((p, i) => {
      p.names.forEach((name, j) => {
        const other = seen.get(name);
        if (other !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['pieces', i, 'names', j],
            message: `"${name}" is already a name of ${other}`,
          });
        seen.set(name, p.piece);
      });
    });
    file.pairs.forEach((pair, i) => {
      for (const side of ['a', 'b'] as const)
        pair[side].forEach((piece, j) => {
          if (!known.has(piece))
            ctx.addIssue({
              code: 'custom',
              path: ['pairs', i, side, j],
              message: `"${piece}" has no pieces entry`,
            });
        });
    });
  });
export type TcmIncompatibilityFile = z.infer<typeof TcmIncompatibilityFile>;

/** Two pieces that must not be prescribed together, and where that is written. */
export interface TcmConflict {
  group: '十八反' | '十九畏';
  a: string;
  b: string;
  source: string;
}

/** Bracketed specifications a billed name may carry: 炙甘草(蜜炙), 法半夏（片）. */
const SPECIFICATION = /[(（[【].*?[)）\]】]/g;

/** The 十八反 / 十九畏 table: which billed names are which piece, and which pieces conflict. */
export class TcmIncompatibility {
  readonly #pieceByName = new Map<string, string>();
  readonly #conflicts = new Map<string, TcmConflict>();

  constructor(readonly file: TcmIncompatibilityFile) {
    for (const p of file.pieces) for (const name of p.names) this.#pieceByName.set(name, p.piece);
    for (const pair of file.pairs)
      for (const a of pair.a)
        for (const b of pair.b) {
          const conflict = { group: pair.group, a, b, source: pair.source };
          this.#conflicts.set(`${a}|${b}`, conflict);
          this.#conflicts.set(`${b}|${a}`, conflict);
        }
  }

  /** The piece a billed name is, or undefined for a piece the table does not name. */
  pieceOf(billedName: string): string | undefined {
    return this.#pieceByName.get(billedName.replace(SPECIFICATION, '').replace(/\s+/g, ''));
  }

  /** The conflict between two pieces, in the table's own order (a is the pair's first side). */
  conflict(pieceA: string, pieceB: string): TcmConflict | undefined {
    return this.#conflicts.get(`${pieceA}|${pieceB}`);
  }
}

/**
 * Read `tcm-incompatibility.json` from `dir` (normally `rules/reference`).
 *
 * @throws CatalogueLoadError naming the file when it is missing or invalid.
 */
export function loadTcmIncompatibility(dir: string): TcmIncompatibility {
  return new TcmIncompatibility(
    readCatalogueJson(join(dir, TCM_INCOMPATIBILITY_FILE), TcmIncompatibilityFile, 'reference'),
  );
}
