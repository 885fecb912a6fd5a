/**
 * Package extraction for `agent-bom scan`: the packages an MCP server's launch command runs (npx, npm exec,
 * pnpm dlx, bunx, uvx, uv tool run, pipx run, docker/podman run) and the packages locked in a project
 * (package-lock, pnpm-lock, yarn.lock, requirements, poetry.lock, uv.lock), as purls with a version
 * confidence. Hostile lockfiles are refused with an `ExtractionError` code. No side effects on import.
 */
export { ECOSYSTEMS, VERSION_CONFIDENCES } from './types.js';
export type { Ecosystem, ExtractedPackage, PackageOrigin, VersionConfidence } from './types.js';
export { ExtractionError } from './errors.js';
export type { ExtractionErrorCode } from './errors.js';
export { LOCKFILE_LIMITS } from './limits.js';
export { extractFromCommand, parseImage, parseNpmSpec, parsePypiSpec } from './command.js';
export type { CommandExtraction } from './command.js';
export { dedupePackages, normalizePypiName, purlOf } from './package-names.js';
export { isLockfileName, LOCKFILE_NAMES, parseLockfile } from './lockfiles/index.js';
export { projectOfLocalPath, scanProjectDirectory } from './project.js';
export type { ProjectScan } from './project.js';
export { buildScanReport, findingId, rematchReport } from './report.js';
export type { BuildReportInput } from './report.js';
export { toSarif } from './formats/sarif.js';
export { toCycloneDx } from './formats/cyclonedx.js';
export { toSpdx } from './formats/spdx.js';
export { renderScanTable } from './formats/table.js';
export { dangerousTools, toolDrift, toolsOf } from './tool-findings.js';
