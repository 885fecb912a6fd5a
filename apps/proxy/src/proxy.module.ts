import { Module } from '@nestjs/common';

/** The proxy's root module. Empty for now: the proxy is built in its own issue. */
@Module({})
export class ProxyModule {}
