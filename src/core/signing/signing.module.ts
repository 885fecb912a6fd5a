import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { loadSigningKeys, SigningKeys } from './signing-keys.js';

/**
 * Provides {@link SigningKeys} to every module. The key is loaded (or generated) once at boot; a bad key file
 * stops the process with a configuration error.
 */
@Global()
@Module({
  providers: [
    {
      provide: SigningKeys,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const loaded = await loadSigningKeys({
          keyFile: config.signingKeyFile,
          previousKeys: config.signingPreviousKeys,
          dataDir: config.dataDir,
        });
        if (loaded.origin !== 'file') {
          new Logger('Signing').warn(
            `${loaded.origin === 'generated' ? 'generated a new' : 'using the generated'} signing key ` +
              `${loaded.keys.currentKeyId} at ${loaded.path}; multi-replica deployments must set ` +
              'AGENT_BOM_SIGNING_KEY_FILE to one key shared by every replica and the CLI',
          );
        }
        return loaded.keys;
      },
    },
  ],
  exports: [SigningKeys],
})
export class SigningModule {}
