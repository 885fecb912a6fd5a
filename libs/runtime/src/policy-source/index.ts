/**
 * Policy sources shared by the proxy and the gateway: a policy file (size limit, regular files only, reload on
 * change keeping the last good policy) and the control plane's signed bundle (ETag, Ed25519 verification with the
 * control plane's or pinned keys, a rollback floor kept by a `BundleStore`: on disk, or in memory).
 */
export { compileSnapshot, MAX_POLICY_FILE_BYTES, PolicySourceError, readPolicyFile } from './policy-file.js';
export type { PolicySnapshot } from './policy-file.js';
export { FilePolicySource } from './file-source.js';
export type { FilePolicyEvents, FilePolicySourceOptions } from './file-source.js';
export { DiskBundleStore, MemoryBundleStore } from './bundle-store.js';
export type { BundleState, BundleStore, CachedBundle } from './bundle-store.js';
export { BundlePolicySource, FailClosedError } from './bundle-source.js';
export type { BundleFetcher, BundlePolicySourceOptions, VerifiedBundle } from './bundle-source.js';
export { keysFromDocument, loadPinnedKeys } from './trust.js';
export type { PolicySourceLogger } from './logger.js';
