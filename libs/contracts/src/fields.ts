import { Type, type TString } from '@sinclair/typebox';

/**
 * The one definition of every free-text field that crosses a process boundary (see docs/text-fields.md).
 * Each kind gives a pure `normalize` (what the value is turned into before it is checked and
 * stored; the only change ever made), a pure `problem` (why a normalized value is refused, or null) and
 * the JSON-schema fragment the event schemas use. The fragment's `format` is registered in the event
 * validator (validate-event.ts) with `isNormalizedValid` of the same kind, so a value the gateway and the
 * services accept is, by construction, a value the event contract accepts.
 */

/** Counts code points, as JSON schema `maxLength` (ajv) and class-validator's `Length` do. */
const length = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Lone (unpaired) UTF-16 surrogates: not text; JSON decoders elsewhere replace them with U+FFFD. */
const LONE_SURROGATE = /\p{Cs}/u;
/** C0 and C1 control characters (NUL, CR, LF and TAB included) and the Unicode line/paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** The same but the white space a description may hold (TAB, LF, CR). */
const CONTROL_BUT_LINE_BREAKS = /[^\P{Cc}\t\n\r]|[\u2028\u2029]/u;
/** Bidirectional formatting characters: LRM, RLM, ALM, embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069). */
const BIDI_CONTROL = /\p{Bidi_Control}/u;
/**
 * Invisible characters with no place in a name: zero-width space, word joiner and invisible operators
 * (U+2060–U+2064), byte-order mark, soft hyphen, Mongolian vowel separator, Hangul fillers. Zero-width
 * (non-)joiners (U+200C/U+200D) stay allowed in names: Persian, Indic scripts and emoji sequences need them.
 */
const INVISIBLE_IN_NAMES = /[\u00AD\u115F\u1160\u180E\u200B\u2060-\u2064\u3164\uFEFF\uFFA0]/u;
/** Everything Unicode ignores when rendering (zero-width characters, joiners, variation selectors, tags…). */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
const WHITE_SPACE = /\s/u;

const hex = (s: string): string => `U+${s.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
const found = (re: RegExp, s: string): string => hex(re.exec(s)![0]);

/** Problems every kind of text refuses, named after the first offending character. */
function commonProblem(field: string, value: string, controls: RegExp, invisible: RegExp): string | null {
  if (LONE_SURROGATE.test(value)) return `${field} contains a lone surrogate (${found(LONE_SURROGATE, value)}), which is not text`;
  if (controls.test(value)) return `${field} contains a control character (${found(controls, value)})`;
  if (BIDI_CONTROL.test(value)) return `${field} contains a bidirectional control character (${found(BIDI_CONTROL, value)})`;
  if (invisible.test(value)) return `${field} contains an invisible character (${found(invisible, value)})`;
  return null;
}

export interface TextField {
  /** format name registered with the event validator */
  format: string;
  maxLength: number;
  minLength: number;
  /** what is stored for `value` (the only alteration ever made) */
  normalize(value: string): string;
  /** why an already normalized value is refused, or null; `field` names it in the message */
  problem(value: unknown, field?: string): string | null;
  /** the JSON-schema fragment of the event schemas */
  schema: TString;
}

/** What is wrong with a value that is not a string: missing, or of which type (never the value itself). */
export function typeProblem(field: string, value: unknown): string {
  if (value === undefined) return `${field} is required`;
  return `${field} must be a string, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`;
}

function textField(
  format: string,
  label: string,
  minLength: number,
  maxLength: number,
  normalize: (s: string) => string,
  rules: (value: string, field: string) => string | null,
): TextField {
  return {
    format,
    minLength,
    maxLength,
    normalize,
    problem(value, field = label) {
      if (typeof value !== 'string') return typeProblem(field, value);
      const n = length(value);
      if (n < minLength) return minLength === 1 ? `${field} must not be empty` : `${field} must be at least ${minLength} characters (it has ${n})`;
      if (n > maxLength) return `${field} must be at most ${maxLength} characters (it has ${n})`;
      return rules(value, field);
    },
    schema: Type.String({ format, minLength, maxLength }),
  };
}

const trim = (s: string): string => s.trim();

/** Rules shared by the gateway's DTOs and identity's own checks (API.md "Accounts, login, profile"). */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{1,38}$/;
export const USERNAME_MAX = 39;
export const NAME_MAX = 200;
export const EMAIL_MAX = 320;

export const ENTITY_NAME_MAX = 100;
export const DESCRIPTION_MAX = 1000;

/** Usernames (handles): ASCII only, so they read the same everywhere; never altered. */
export const Username = textField(
  'username',
  'username',
  2,
  USERNAME_MAX,
  (s) => s,
  (v, field) => (USERNAME_PATTERN.test(v) ? null : `${field} must be 2 to 39 letters, digits, "-", "_" or ".", starting with a letter or digit`),
);

const ATEXT = "\\p{L}\\p{M}\\p{N}!#$%&'*+/=?^_`{|}~-";
const LOCAL_PART = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*$`, 'u');
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;

/**
 * Email addresses, internationalized ones included (RFC 6531: letters of any script in the local part and
 * the domain). Normalized to NFC and trimmed. Refused: controls, white space, invisible characters (all
 * default-ignorable code points: zero-width, joiners, BOM…), bidirectional controls, lone surrogates, and
 * compatibility characters such as fullwidth letters (a value that NFKC would change: `ｒｏｏｔ@` is a look-alike
 * of `root@`), so that what is stored is what is shown.
 */
export const Email = textField(
  'email-address',
  'email',
  3,
  EMAIL_MAX,
  (s) => s.normalize('NFC').trim(),
  (v, field) => {
    const common = commonProblem(field, v, CONTROL, INVISIBLE);
    if (common) return common;
    if (WHITE_SPACE.test(v)) return `${field} contains white space`;
    if (v.normalize('NFKC') !== v)
      return `${field} contains a compatibility character such as a fullwidth letter (${hex([...v].find((c) => c.normalize('NFKC') !== c) ?? v)}); write it plainly`;
    const at = v.lastIndexOf('@');
    if (at < 1 || at === v.length - 1) return `${field} must be an address like name@example.com`;
    const local = v.slice(0, at);
    const domain = v.slice(at + 1);
    if (!LOCAL_PART.test(local)) return `${field} has an invalid part before "@" (letters, digits, dots not at either end and !#$%&'*+/=?^_\`{|}~- only)`;
    const labels = domain.split('.');
    if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l)))
      return `${field} has an invalid domain (at least two dot-separated labels of letters, digits and "-")`;
    return null;
  },
);

const nameRules = (v: string, field: string): string | null => commonProblem(field, v, CONTROL, INVISIBLE_IN_NAMES);

/** A person's display name: trimmed; no controls (CR/LF included), bidirectional controls, invisible characters or lone surrogates. */
export const PersonName = textField('person-name', 'name', 1, NAME_MAX, trim, nameRules);

/** Names of organizations, groups, roles and projects: the same rules as a person's name, at most 100. */
export const EntityName = textField('entity-name', 'name', 1, ENTITY_NAME_MAX, trim, nameRules);

/** Descriptions (groups, roles): trimmed, may be empty and may hold line breaks and tabs; otherwise as names. */
export const Description = textField('description', 'description', 0, DESCRIPTION_MAX, trim, (v, field) =>
  commonProblem(field, v, CONTROL_BUT_LINE_BREAKS, INVISIBLE_IN_NAMES),
);

export const TEXT_FIELDS = [Username, Email, PersonName, EntityName, Description] as const;

/** What the event schemas' formats check: a value already in its normalized form that has no problem. */
export const isNormalizedValid = (kind: TextField, value: string): boolean => kind.normalize(value) === value && kind.problem(value) === null;

/**
 * Normalizes then checks `value` (as a service does with a message's field): the stored value, or the
 * problem. A non-string is a problem, never coerced.
 */
export function checkText(kind: TextField, value: unknown, field?: string): { value: string; problem: null } | { value: undefined; problem: string } {
  const normalized = typeof value === 'string' ? kind.normalize(value) : value;
  const problem = kind.problem(normalized, field);
  return problem === null ? { value: normalized as string, problem: null } : { value: undefined, problem };
}
