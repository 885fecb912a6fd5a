import { Module } from '@nestjs/common';
import { GraphController } from './graph.controller.js';
import { GraphRepository } from './graph.repository.js';
import { GraphService } from './graph.service.js';

/** The inventory graph (endpoint → agent → server → package → vulnerability) and blast radius. */
@Module({
  controllers: [GraphController],
  providers: [GraphRepository, GraphService],
  exports: [GraphRepository],
})
export class GraphModule {}
