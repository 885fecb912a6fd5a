import { Init1763683200000 } from './1763683200000-Init.js';
import { Fleet1763769600000 } from './1763769600000-Fleet.js';
import { Audit1763856000000 } from './1763856000000-Audit.js';
import { Policy1763942400000 } from './1763942400000-Policy.js';
import { Hardening1764028800000 } from './1764028800000-Hardening.js';
import { Advisories1764201600000 } from './1764201600000-Advisories.js';
import { Scans1764205200000 } from './1764205200000-Scans.js';
import { ScanJobs1764212800000 } from './1764212800000-ScanJobs.js';
import { Sessions1764115200000 } from './1764115200000-Sessions.js';
import { OidcIssuers1764115300000 } from './1764115300000-OidcIssuers.js';
import { LoginStates1764115400000 } from './1764115400000-LoginStates.js';
import { Scim1764115500000 } from './1764115500000-Scim.js';
import { ScimExternalIds1764400100000 } from './1764400100000-ScimExternalIds.js';
import { RoutableUpstreamNames1764300000000 } from './1764300000000-RoutableUpstreamNames.js';
import { ScimDeletedUsers1764300100000 } from './1764300100000-ScimDeletedUsers.js';
import { ScanUpstreams1764400200000 } from './1764400200000-ScanUpstreams.js';
import { AuditChainAggregate1764400600000 } from './1764400600000-AuditChainAggregate.js';
import { AuditDropEventIdIndex1764400800000 } from './1764400800000-AuditDropEventIdIndex.js';
import { DiscoveryGenerations1764401300000 } from './1764401300000-DiscoveryGenerations.js';

/** Every migration, oldest first. A new migration is added here and nowhere else. */
export const MIGRATIONS = [
  Init1763683200000,
  Fleet1763769600000,
  Audit1763856000000,
  Policy1763942400000,
  Hardening1764028800000,
  Sessions1764115200000,
  OidcIssuers1764115300000,
  LoginStates1764115400000,
  Scim1764115500000,
  Advisories1764201600000,
  Scans1764205200000,
  ScanJobs1764212800000,
  RoutableUpstreamNames1764300000000,
  ScimDeletedUsers1764300100000,
  ScimExternalIds1764400100000,
  ScanUpstreams1764400200000,
  AuditChainAggregate1764400600000,
  AuditDropEventIdIndex1764400800000,
  DiscoveryGenerations1764401300000,
];
