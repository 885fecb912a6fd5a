/**
 * Advisories for `agent-bom scan` and the control plane: OSV records parsed and bounded, exact version
 * matching (semver for npm, PEP 440 for PyPI), CVSS-derived severity, a source interface with an in-memory
 * implementation, and a zip/directory reader that refuses zip-slip and bombs. No side effects on import.
 */
export { ARCHIVE_LIMITS, ArchiveError, checkEntryName, readOsvArchive } from './archive.js';
export type { ArchiveDocument, ArchiveErrorCode } from './archive.js';
export { matchAdvisory, matchPackages, MemoryAdvisorySource, packageKey } from './match.js';
export type { AdvisoryMatch, AdvisorySource, PackageQuery } from './match.js';
export { OSV_LIMITS, parseOsv } from './osv.js';
export type { AffectedPackage, Advisory, OsvParse } from './osv.js';
export { advisorySeverity, scoreVector, SEVERITIES, severityOfScore, severityRank } from './severity.js';
export type { CvssScore, Severity } from './severity.js';
export {
  compareVersions,
  fixedVersionFor,
  inRange,
  inVersions,
  isValidVersion,
  OSV_ECOSYSTEMS,
} from './versions.js';
export type { AffectedRange, RangeEvent, VersionScheme } from './versions.js';
export { loadOsvSource } from './load.js';
