import { CONFUSABLES } from './confusables.js';

/** A name in the form rules compare, and whether reaching it took more than case folding. */
export interface NormalizedName {
  /** NFKC, invisible characters removed, marks stripped, look-alikes mapped to Latin, lower case, trimmed. */
  readonly key: string;
  /**
   * True when the raw name used invisible characters, compatibility forms (fullwidth…), combining marks or
   * look-alike letters. Such names still hit deny and warn rules, but never earn an allow.
   */
  readonly disguised: boolean;
}

/** Printable ASCII without spaces: the overwhelmingly common case, normalised by lower-casing alone. */
const PLAIN_ASCII = /^[\x21-\x7e]*$/;
/**
 * Characters that render as nothing or steer rendering: default-ignorables (zero-width space/joiners,
 * U+2060–U+2064 invisible operators, BOM, soft hyphen, variation selectors, tag characters…), every other
 * format character (bidi controls…) and control characters.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}]/gu;
const MARKS = /\p{M}/gu;

/**
 * Normalises a tool name, binding value or name pattern so that visually identical spellings compare equal:
 * `rеad_file` (Cyrillic е), `READ_FILE`, `read\u200b_file` and `ｒｅａｄ_file` all become `read_file`.
 * The same function runs on rule patterns and on inputs, so both sides always agree.
 */
export function normalizeName(raw: string): NormalizedName {
  if (PLAIN_ASCII.test(raw)) return { key: raw.toLowerCase(), disguised: false };
  const stripped = raw.normalize('NFKC').replace(INVISIBLE, '').normalize('NFD').replace(MARKS, '');
  let mapped = '';
  for (const char of stripped) {
    const code = char.codePointAt(0) as number;
    mapped += code < 0x80 ? char : (CONFUSABLES.get(code) ?? char);
  }
  const key = mapped.toLowerCase().normalize('NFC').trim();
  return { key, disguised: key !== raw.toLowerCase() };
}

/** The comparison key alone; see `normalizeName`. */
export function nameKey(raw: string): string {
  return normalizeName(raw).key;
}
