import { describe, expect, it } from '@jest/globals';
import { bootProxy } from './main.js';

describe('proxy app', () => {
  it('boots and closes cleanly', async () => {
    await expect(bootProxy()).resolves.toBeUndefined();
  });
});
