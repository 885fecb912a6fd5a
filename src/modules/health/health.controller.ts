import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '../../core/auth/decorators.js';
import { DatabaseHealth } from './database.health.js';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: DatabaseHealth,
  ) {}

  /** Liveness: the process answers. Never touches the database, so a DB outage does not restart pods. */
  @Get('healthz')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness' })
  liveness() {
    return this.health.check([() => this.indicators.check('process').up({ pid: process.pid })]);
  }

  /** Readiness: the database answers and every migration is applied. 503 otherwise. */
  @Get('readyz')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: database reachable and migrations applied' })
  readiness() {
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(() => this.database.ping())
          .withTimeout(2000),
      () =>
        this.indicators
          .check('migrations')
          .attempt(() => this.database.migrationsApplied())
          .withTimeout(2000),
    ]);
  }
}
