import { describe, expect, it } from '@jest/globals';
import { bootGateway } from './main.js';

describe('gateway app', () => {
  it('boots and closes cleanly', async () => {
    await expect(bootGateway()).resolves.toBeUndefined();
  });
});
