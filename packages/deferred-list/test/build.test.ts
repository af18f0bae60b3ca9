import { describe, expect, it } from 'vitest';
import * as built from '../dist/index.js';

describe('the built package', () => {
  it('loads as ESM from dist and exports its API', () => {
    expect(built.PACKAGE_NAME).toBe('@mmukit/deferred-list');
  });
});
