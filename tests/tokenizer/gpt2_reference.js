// gpt2_reference.js — GPT-2 token ids of a UTF-8 text by the independent
// JavaScript encoder of the npm package gpt-3-encoder (1.1.4).
//
//   node gpt2_reference.js NODE_MODULES TEXT OUT.json
//
// The encoder concatenates arrays as it goes (quadratic in the token count),
// so the text is encoded a piece at a time, cut only where that cannot
// change the result: after a "\n" whose neighbours are both non-whitespace
// (the "\n" is then a pre-token of its own whether or not the text goes on,
// and the rule has no lookbehind).  Writes {"ids": [...], "decoded_equal": b},
// where decoded_equal says whether the encoder's own decode gives the text back.
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, textPath, outPath] = process.argv.slice(2);
const encoder = require(path.join(path.resolve(modules), 'gpt-3-encoder'));
const text = fs.readFileSync(textPath, 'utf8');

const ids = [];
let start = 0;
let decodedEqual = true;
const cut = /\S\n(?=\S)/gu;
function encodePiece(piece) {
  const pieceIds = encoder.encode(piece);
  for (const id of pieceIds) ids.push(id);
  if (encoder.decode(pieceIds) !== piece) decodedEqual = false;
}
let m;
while ((m = cut.exec(text)) !== null) {
  const end = m.index + m[0].length;   // just after the "\n"
  if (end - start >= 4096) {
    encodePiece(text.slice(start, end));
    start = end;
  }
  cut.lastIndex = end;
}
if (start < text.length) encodePiece(text.slice(start));
fs.writeFileSync(outPath, JSON.stringify({ ids: ids, decoded_equal: decodedEqual }));
