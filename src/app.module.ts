import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from './core/config/config.js';
import { Transactions } from './core/database/transactions.js';
import { MetricsModule } from './core/metrics/metrics.js';
import { SigningModule } from './core/signing/signing.module.js';
import { AdvisoriesModule } from './modules/advisories/advisories.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { DiscoveryModule } from './modules/discovery/discovery.module.js';
import { FleetModule } from './modules/fleet/fleet.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { PolicyModule } from './modules/policy/policy.module.js';
import { ScansModule } from './modules/scans/scans.module.js';
import { SsoModule } from './modules/sso/sso.module.js';
import { TenantsModule } from './modules/tenants/tenants.module.js';

/** Config and the open data source, created before Nest boots, provided to every module. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig, dataSource: DataSource): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: DataSource, useValue: dataSource },
        Transactions,
      ],
      exports: [APP_CONFIG, DataSource, Transactions],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, dataSource: DataSource): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, dataSource),
        MetricsModule,
        HealthModule,
        AuthModule,
        TenantsModule,
        FleetModule,
        DiscoveryModule,
        SigningModule,
        AuditModule,
        PolicyModule,
        AdvisoriesModule,
        ScansModule,
        SsoModule,
      ],
    };
  }
}
