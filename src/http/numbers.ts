// Numbers in queries, paths and headers are plain decimal integers: `Number` (and so t.Numeric)
// would accept "0x2", "1e3", " " (as 0) and "Infinity", which the FastAPI original answers 422.
import { t } from "elysia";
import { invalidRequest } from "./errors";

const DECIMAL_INTEGER = /^-?[0-9]{1,15}$/;

/** The integer a string spells in decimal digits (optional leading minus), else null. */
export function parseDecimalInt(raw: string | null | undefined): number | null {
  if (raw == null || !DECIMAL_INTEGER.test(raw)) return null;
  return Number(raw);
}

/**
 * A `t` schema for a query or path parameter that is a decimal integer in [minimum, maximum].
 * Anything else is a 422 that names the parameter and the range.
 */
export function decimalInt(name: string, range: { minimum: number; maximum: number; description?: string }) {
  const expected = `expected a whole number from ${range.minimum} to ${range.maximum}`;
  return t
    .Transform(
      t.String({
        pattern: DECIMAL_INTEGER.source,
        description: range.description ?? expected,
        error: `${name}: ${expected}`,
      }),
    )
    .Decode((raw) => {
      const value = Number(raw);
      if (value < range.minimum || value > range.maximum) throw invalidRequest(`/${name}`, expected);
      return value;
    })
    .Encode((value) => String(value));
}
