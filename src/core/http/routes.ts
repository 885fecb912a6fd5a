import { RequestMethod, type INestApplication } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import type { Permission } from '../../../libs/contracts/src/index.js';
import { IS_PUBLIC, REQUIRED_PERMISSION } from '../auth/decorators.js';

/** Routes served outside `/v1` (first path segments): probes, the Prometheus scrape and SCIM (`/scim/v2/…`). */
export const UNPREFIXED_ROUTES = ['healthz', 'readyz', 'metrics', 'scim'];

export interface RouteInfo {
  method: string;
  /** Full path as a client calls it, e.g. `/v1/auth/keys/:id`. */
  path: string;
  handler: string;
  isPublic: boolean;
  permission: Permission | undefined;
}

const UNPREFIXED = new Set(UNPREFIXED_ROUTES);

/** Every route of every controller the app registered, with its auth metadata, read from Nest's container. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      if (wrapper.metatype) routes.push(...controllerRoutes(wrapper.metatype));
    }
  }
  return routes;
}

/** The routes one controller class declares, with their auth metadata; needs no app (decorators ran on import). */
export function controllerRoutes(controller: object): RouteInfo[] {
  const { prototype, name: className } = controller as { prototype: Record<string, unknown>; name: string };
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
  const classPublic = Reflect.getMetadata(IS_PUBLIC, controller) === true;
  const classPermission = Reflect.getMetadata(REQUIRED_PERMISSION, controller) as Permission | undefined;
  const routes: RouteInfo[] = [];
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const handler = prototype[name];
    if (name === 'constructor' || typeof handler !== 'function') continue;
    const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
    if (sub === undefined) continue;
    const segments = [base, sub].flatMap((s) => s.split('/')).filter(Boolean);
    const prefixed = !UNPREFIXED.has(segments[0] ?? '');
    routes.push({
      method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number],
      path: '/' + (prefixed ? ['v1', ...segments] : segments).join('/'),
      handler: `${className}.${name}`,
      isPublic: classPublic || Reflect.getMetadata(IS_PUBLIC, handler) === true,
      permission:
        (Reflect.getMetadata(REQUIRED_PERMISSION, handler) as Permission | undefined) ?? classPermission,
    });
  }
  return routes;
}
