// pretokens.js — where GPT-2's pre-tokenization rule ends each pre-token of
// a file of bytes, by V8's regular-expression engine: the reference for
// Memscope's hand-written rule, bytes that are not UTF-8 included.
//
//   node pretokens.js FILE   → a JSON array of byte offsets
//
// Bytes are decoded as Python's errors="surrogateescape" does: a sequence
// V8's strict decoder accepts is its character; any other byte b becomes
// the lone surrogate U+DC00 + b, which the rule's [^\s\p{L}\p{N}] matches.
// \s is written out as Unicode's White_Space (what Python's regex module
// means by it; JavaScript's own \s adds U+FEFF and lacks U+0085).
'use strict';
const fs = require('fs');

const bytes = fs.readFileSync(process.argv[2]);
const strict = new TextDecoder('utf-8', { fatal: true });
const chars = [];      // code points
const widths = [];     // bytes each stands for
for (let i = 0; i < bytes.length;) {
  const b = bytes[i];
  const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  let cp = -1;
  if (len > 0 && i + len <= bytes.length) {
    try {
      const s = strict.decode(bytes.subarray(i, i + len));
      if (Array.from(s).length === 1) cp = s.codePointAt(0);
    } catch (e) { cp = -1; }
  }
  if (cp < 0) {
    chars.push(0xdc00 + b);
    widths.push(1);
    i += 1;
  } else {
    chars.push(cp);
    widths.push(len);
    i += len;
  }
}
const text = chars.map(c => String.fromCodePoint(c)).join('');
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const rule = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`, 'gu');
// offsets: UTF-16 index → byte offset
const byteAt = new Map();
let u16 = 0, off = 0;
for (let k = 0; k < chars.length; k++) {
  byteAt.set(u16, off);
  u16 += chars[k] > 0xffff ? 2 : 1;
  off += widths[k];
}
byteAt.set(u16, off);
const ends = [];
let m;
while ((m = rule.exec(text)) !== null) ends.push(byteAt.get(m.index + m[0].length));
process.stdout.write(JSON.stringify(ends) + '\n');
