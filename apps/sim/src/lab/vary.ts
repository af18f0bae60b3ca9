import { type LabConfig, VARY_PARAMS, type VaryParam } from './config.js';

/** A parsed `--vary param=v1,v2,...`. */
export interface Vary {
  param: VaryParam;
  values: number[];
}

/** The flag spelling of a parameter (resolveSteps -> resolve-steps). */
export function flagOf(param: VaryParam): string {
  return param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Parses `param=v1,v2,...`: the parameter by its flag name (or its config name), each value
 * with `parse` (the parser of that parameter's own flag). Throws with a one-line message.
 */
export function parseVary(
  text: string,
  parserOf: (param: VaryParam) => (v: string) => number,
): Vary {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text.trim() : text.slice(0, eq).trim();
  const param = VARY_PARAMS.find((p) => p === name || flagOf(p) === name);
  if (param === undefined) {
    throw new Error(
      `--vary takes param=v1,v2,... with param one of ${VARY_PARAMS.map(flagOf).join(', ')}, got "${text}"`,
    );
  }
  const list = eq < 0 ? '' : text.slice(eq + 1);
  if (list.trim() === '') throw new Error(`--vary ${flagOf(param)}= needs at least one value`);
  const parse = parserOf(param);
  return { param, values: list.split(',').map((v) => parse(v)) };
}

/** The config of one sweep point. */
export function configAt(base: LabConfig, vary: Vary, value: number): LabConfig {
  return { ...base, [vary.param]: value };
}
