import { Module } from '@nestjs/common';

/** The gateway's root module. Empty for now: the gateway is built in its own issue. */
@Module({})
export class GatewayModule {}
