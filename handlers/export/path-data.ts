/**
 * The subset of SVG path data a document may use: absolute M, L, H, V, C, Q and Z commands only. Relative commands and
 * arcs are left out so that every number in `d` is an absolute coordinate the schema can bound like any other
 * (a relative path can walk arbitrarily far from its start with bounded numbers).
 */

/** How many numbers each command takes per repetition. */
const ARITY: Readonly<Record<string, number>> = { M: 2, L: 2, H: 1, V: 1, C: 6, Q: 4, Z: 0 };

const NUMBER = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const SEPARATORS = /[\s,]*/y;

export interface PathDataLimits {
  /** Every number must lie within ±coordinateLimit. */
  readonly coordinateLimit: number;
}

/**
 * Checks path data against the subset. Returns `undefined` when it is valid, otherwise what is wrong and where
 * (character offset), so the document error can point at it.
 */
export function checkPathData(d: string, limits: PathDataLimits): string | undefined {
  let pos = 0;
  let command: string | undefined;
  let first = true;
  const skip = (): void => {
    SEPARATORS.lastIndex = pos;
    SEPARATORS.exec(d);
    pos = SEPARATORS.lastIndex;
  };
  skip();
  if (pos === d.length) return "expected path data, got an empty string";
  while (pos < d.length) {
    const c = d[pos];
    if (c in ARITY) {
      if (first && c !== "M") return `path data must start with M (at character ${pos})`;
      command = c;
      first = false;
      pos += 1;
      skip();
      if (command === "Z") continue;
    } else if (command === undefined || command === "Z" || !/[0-9.+-]/.test(c)) {
      return `unexpected ${JSON.stringify(c)} at character ${pos}: expected one of the commands M, L, H, V, C, Q, Z`;
    }
    // One repetition of the current command's numbers (repeating is allowed, as in SVG: `L 1 2 3 4`).
    for (let i = 0; i < ARITY[command]; i++) {
      NUMBER.lastIndex = pos;
      const match = NUMBER.exec(d);
      if (match === null) {
        return `expected a number for ${command} at character ${pos}` + (pos < d.length ? `, got ${JSON.stringify(d[pos])}` : "");
      }
      const value = Number(match[0]);
      if (!Number.isFinite(value) || Math.abs(value) > limits.coordinateLimit) {
        return `number ${match[0]} at character ${pos} is outside ±${limits.coordinateLimit}`;
      }
      pos = NUMBER.lastIndex;
      skip();
    }
  }
  return undefined;
}
