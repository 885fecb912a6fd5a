/**
 * Look-alike characters mapped to the Latin letter they imitate. Applied after NFKC (which already folds
 * fullwidth and mathematical letters) and after combining marks are stripped. A curated subset of the Unicode
 * confusables data (UTS #39): the Cyrillic, Greek, Armenian and Latin small-capital letters that render like
 * ASCII letters in common fonts, plus dash and dot look-alikes. ASCII is never remapped (`0`/`o`, `1`/`l`
 * stay distinct), so ordinary names are untouched.
 *
 * Each entry is a pair: the look-alike, then its Latin skeleton.
 */
const GROUPS: readonly string[] = [
  // Cyrillic
  'аa вb ьb сc ԁd еe һh іi јj кk ӏl мm пn оo рp ԛq гr ѕs тt уy үy ԝw хx ѡw',
  'АA ВB СC ԀD ЕE НH ҺH ІI ӀI ЈJ КK МM ОO РP ԚQ ЅS ТT ҮY УY ԜW ХX',
  // Greek
  'αa βb εe ηn ιi ϳj κk νv οo ρp τt υu χx γy ωw ςc',
  'ΑA ΒB ΕE ΖZ ΗH ΙI ͿJ ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX',
  // Armenian
  'աw հh ոn սu ցg օo ՕO ՍU',
  // Latin letters outside ASCII that survive NFKC, including small capitals
  'ıi ȷj ɑa ɡg ɩi ʋu ɒa ᴀa ʙb ᴄc ᴅd ᴇe ɢg ʜh ɪi ᴊj ᴋk ʟl ᴍm ɴn ᴏo ᴘp ʀr ꜱs ᴛt ᴜu ᴠv ᴡw ʏy ᴢz',
  // Dashes and dots
  '\u2010- \u2012- \u2013- \u2014- \u2015- \u2212- \u2043- \u02d7- \u00b7. \u2027.',
];

/** Code point → Latin replacement. */
export const CONFUSABLES: ReadonlyMap<number, string> = new Map(
  GROUPS.flatMap((group) => group.split(' ')).map((pair) => [pair.codePointAt(0) as number, pair.slice(1)]),
);
