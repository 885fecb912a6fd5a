/**
 * Hard limits of the policy language and of evaluation. They bound both what an operator may write
 * (compile time) and what a caller may send (evaluation time), so neither side can make the engine slow.
 */
export const LIMITS = {
  /** Rules per document. */
  maxRules: 10_000,
  /** Entries in any list of a rule (tools, methods, arguments, allow_hosts, each binding list). */
  maxListEntries: 1_000,
  /** Characters of a tool, method or binding pattern, of a regex source, of an allow-listed host. */
  maxPatternLength: 1_000,
  /** Characters of a rule id. */
  maxRuleIdLength: 128,
  /** Characters of a rule description. */
  maxDescriptionLength: 2_000,
  /** Absolute value of a rule priority. */
  maxPriority: 1_000_000,
  /** Nesting depth of a literal `value` in an argument condition. */
  maxValueDepth: 32,

  /** Characters of a call's method; longer calls are denied as malformed. */
  maxMethodLength: 256,
  /** Characters of a call's tool name or of a context value; longer calls are denied as malformed. */
  maxNameLength: 1_024,
  /** Nesting depth of call arguments the inspectors walk. */
  maxArgumentDepth: 64,
  /** JSON values (objects, arrays and scalars) of call arguments the inspectors walk. */
  maxArgumentNodes: 10_000,
  /** Characters of one argument string the inspectors (secret paths, egress, classes) read. */
  maxInspectedString: 100_000,
  /** Characters of all argument strings the inspectors read in one call. */
  maxInspectedTotal: 1_000_000,
  /** URLs and hosts collected from one call's arguments. */
  maxEgressTargets: 1_000,
  /** Characters of one string a regex is run against (tool name or argument). */
  maxRegexInput: 10_000,
} as const;
