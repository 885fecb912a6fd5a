import { NestFactory } from '@nestjs/core';
import { GatewayModule } from './gateway.module.js';

/**
 * Boots the gateway as a Nest application context and closes it again. A placeholder that proves the app
 * builds and starts on its own, without importing the control plane.
 */
export async function bootGateway(): Promise<void> {
  const app = await NestFactory.createApplicationContext(GatewayModule, { logger: false });
  await app.close();
}
