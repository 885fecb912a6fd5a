export { listRoutes, type RouteInfo } from '../../src/core/http/routes.js';
