import { catalogueEntry } from '../core/error-catalogue';
import type { Refusal, Rejection } from './family-profile';

/**
 * The error catalogue's wording: its status, the code as it is, and the refuser's message
 * (or the catalogue's default text). Every family words a refusal this way unless its profile
 * says otherwise, so a code it does not name still answers with its catalogued status.
 */
export function catalogueWording(refusal: Refusal): Rejection {
  const { status, text } = catalogueEntry(refusal.code);
  return { status, code: refusal.code, message: refusal.message ?? text };
}

/** A family's own texts, by code: `[status, text]`. */
export type WordingTable = Readonly<Partial<Record<string, readonly [number, string]>>>;

/**
 * A wording from a table of the family's own texts; `detail` adds the refuser's message to
 * the family's text for the codes where the family shows it. Codes not in the table are
 * worded by the catalogue.
 */
export function tableWording(table: WordingTable, detail: (code: string, text: string, message: string) => string = (_code, text) => text) {
  return (refusal: Refusal): Rejection => {
    const own = Object.hasOwn(table, refusal.code) ? table[refusal.code] : undefined;
    if (own === undefined) return catalogueWording(refusal);
    const [status, text] = own;
    return { status, code: refusal.code, message: refusal.message === undefined ? text : detail(refusal.code, text, refusal.message) };
  };
}
