import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ProxyModule, type ProxyModuleOptions } from './proxy.module.js';
import { ProxyRunner } from './runner.js';

/**
 * The Nest half of start-up, loaded while the light half verifies the policy and starts the server: builds the
 * application context (no HTTP server, Nest's own logger off: stdout is the protocol's), runs the session,
 * closes the context, and returns the server's exit status.
 */
export async function bootstrap(options: ProxyModuleOptions): Promise<number> {
  const app = await NestFactory.createApplicationContext(ProxyModule.forRoot(options), {
    logger: false,
    abortOnError: false,
  });
  try {
    return await app.get(ProxyRunner).run();
  } finally {
    await app.close();
  }
}
