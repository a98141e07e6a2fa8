// Distinguished names: checked when a certificate is parsed, shown as RFC 4514 text when asked.

import { DerReader, TAG, type Tlv } from './der.ts';
import { NAME_ATTRIBUTES } from './oids.ts';

/** Check a Name as readName reads it, without building its text: the text is made when asked for. */
export function checkName(parent: DerReader, tlv: Tlv, field: string): void {
  const seq = parent.enter(tlv, field);
  while (!seq.atEnd()) {
    seq.nested(TAG.SET, field, (set) => {
      while (!set.atEnd()) {
        set.nested(TAG.SEQUENCE, field, (atv) => {
          atv.oid(atv.next(field, TAG.OID), field);
          atv.checkNameValue(atv.next(field), field);
        });
      }
    });
  }
}

/** A Name as an RFC 4514 string (most specific first), for display and logs. */
export function readName(parent: DerReader, tlv: Tlv, field: string): string {
  const rdns: string[] = [];
  const seq = parent.enter(tlv, field);
  while (!seq.atEnd()) {
    const parts: string[] = [];
    seq.nested(TAG.SET, field, (set) => {
      while (!set.atEnd()) {
        set.nested(TAG.SEQUENCE, field, (atv) => {
          const type = atv.oid(atv.next(field, TAG.OID), field);
          const value = atv.nameValue(atv.next(field), field);
          parts.push(`${NAME_ATTRIBUTES[type] ?? type}=${escapeNameValue(value)}`);
        });
      }
    });
    rdns.push(parts.join('+'));
  }
  // Pushed then reversed: unshift would make a name of many RDNs quadratic.
  return rdns.reverse().join(',');
}

function escapeNameValue(v: string): string {
  return (
    v
      .replace(/[,+"\\<>;=]/g, (c) => `\\${c}`)
      .replace(/^[ #]|[ ]$/g, (c) => `\\${c}`)
      // Control characters (C0, DEL, C1) and the Unicode ones that disguise text (line
      // separators, bidirectional overrides) as RFC 4514 hex pairs of their UTF-8 bytes: a
      // subject is shown in logs, terminals and hook environments.
      // eslint-disable-next-line no-control-regex -- escaping control characters is the point
      .replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
        [...Buffer.from(c, 'utf8')].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join(''),
      )
  );
}

/** A DER Name (as in a responder ID) as an RFC 4514 string. Throws DerError if malformed. */
export function nameToString(der: Uint8Array): string {
  const { reader, tlv } = DerReader.whole(der, 'Name');
  return readName(reader, tlv, 'Name');
}
