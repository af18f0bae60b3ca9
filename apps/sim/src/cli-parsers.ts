import { InvalidArgumentError } from 'commander';

/** A parser of an integer option from `min` to `max` (decimal digits only: no '', 1e3, 0x10). */
export function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v: string): number => {
    const n = /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${name} must be an integer from ${min} to ${max}, got "${v}"`,
      );
    }
    return n;
  };
}

/** A parser of a probability from 0 to 1 (a decimal number). */
export function chanceOption(name: string): (v: string) => number {
  return (v: string): number => {
    const t = v.trim();
    const n = /^(0|1)?(\.\d+)?$/.test(t) && t !== '' ? Number(t) : Number.NaN;
    if (!(n >= 0 && n <= 1)) {
      throw new InvalidArgumentError(`${name} must be a number from 0 to 1, got "${v}"`);
    }
    return n;
  };
}
