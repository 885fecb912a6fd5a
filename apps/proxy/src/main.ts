import { NestFactory } from '@nestjs/core';
import { ProxyModule } from './proxy.module.js';

/**
 * Boots the proxy as a Nest application context and closes it again. A placeholder that proves the app
 * builds and starts on its own, without importing the control plane.
 */
export async function bootProxy(): Promise<void> {
  const app = await NestFactory.createApplicationContext(ProxyModule, { logger: false });
  await app.close();
}
