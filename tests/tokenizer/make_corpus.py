#!/usr/bin/env python3
"""Writes a deterministic corpus of varied UTF-8 text for the tokenizer tests.

    make_corpus.py OUT [--bytes N] [--seed S]

Sections, shuffled and repeated until N bytes (default 5 MiB): English-like
prose with contractions, source code, numbers and dates, runs of spaces, tabs
and newlines, text in many scripts (Latin with diacritics, Greek, Cyrillic,
Arabic, Hebrew, Devanagari, Thai, CJK, Hangul, kana), emoji with skin tones,
ZWJ sequences and flags, combining marks, digits of other scripts, and random
assigned code points from every plane.  U+FEFF and U+0085 are left out: the
JavaScript reference's \\s differs from Unicode's White_Space on exactly those
two (the C tests cover them).  Lines are cut so that a reference may encode
the text one line at a time: a line ends with "\\n" between two characters
that are not whitespace.  Standard library only; the same seed gives the same
bytes.
"""
import random
import sys
import unicodedata

WORDS = ("the of and to in is was he for it with as his on be at by had are but from or have an they "
         "which one you were all we when there can been has more if no out do so what up said about other "
         "into than its time only could new them man some these then two first may any like now my such "
         "make over our even most me state after also made many did must before back see through way "
         "where get much go well your know should down work year because come people just say each "
         "memory segment token attention transformer recurrent slot retention").split()
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ll", "’s", "'", "''", "'x"]

SCRIPTS = {
    "latin": "àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿāăąćčďđēėęěğīıłńňőœřśşšťūůűųźżžſ",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويىءآأؤإئ",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשתךםןףץ",
    "devanagari": "अआइईउऊऋएऐओऔकखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह" + "ािीुूृेैोौंः्",
    "thai": "กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรฤลฦวศษสหฬอฮะัาำิีึืุู่้๊๋",
    "cjk": "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从",
    "hangul": "가나다라마바사아자차카타파하한국어조선말글",
    "kana": "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソ",
}
EMOJI = ["😀", "😂", "🤖", "👍", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "✨", "🔥", "🧠", "🦀", "☕", "⚡️", "🫠"]
COMBINING = [chr(c) for c in range(0x300, 0x370)] + ["\u20dd", "\u0488", "\u1ab0", "\u0e31", "\u093c"]
DIGITS = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９", "ⅠⅡⅢⅣⅤⅥ", "¹²³⁴½¾", "①②③"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", " \n", "\n ", " \t ", "\r\n", "\u00a0", "\u3000", "\u2003",
          "\u2028", "\x0b", "\x0c", "    \n    ", "\n\n\n\n"]
CODE = ["def f(x):\n    return x ** 2 + 1  # square\n", "int main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
        "for (let i = 0; i < n; i++) { a[i] += b[i] * c; }", "<div class=\"x\">&nbsp;</div>", "SELECT * FROM t WHERE id=3;",
        "if x != None and y >= 0: pass", "#include <stdio.h>", "λx.x", "{'key': [1, 2.5e-3, None]}", "https://example.org/a?b=c&d=e",
        "    \"\"\"doc\"\"\"\n", "~/.config/$USER/*.{c,h}", "a->b->c", "x<<=2;", "@decorator\n", "``` code ```"]

_assigned = None


def assigned():
    global _assigned
    if _assigned is None:
        _assigned = [c for c in range(0x20, 0x110000)
                     if unicodedata.category(chr(c)) not in ("Cn", "Cs", "Co") and c not in (0xFEFF, 0x85)]
    return _assigned


def word(r):
    w = r.choice(WORDS)
    roll = r.random()
    if roll < 0.1:
        w = w.capitalize()
    elif roll < 0.13:
        w = w.upper()
    if r.random() < 0.08:
        w += r.choice(CONTRACTIONS)
    return w


def prose(r):
    out = []
    for _ in range(r.randint(5, 40)):
        out.append(word(r))
        if r.random() < 0.12:
            out.append(r.choice([",", ".", "!", "?", ";", ":", "...", " -", "—", "(", ")", "\"", "'"]))
    return " ".join(out) + r.choice([".", "!", "?", ""])


def code(r):
    return "".join(r.choice(CODE) for _ in range(r.randint(1, 4)))


def numbers(r):
    parts = []
    for _ in range(r.randint(3, 15)):
        k = r.random()
        if k < 0.3:
            parts.append(str(r.randint(0, 10 ** r.randint(1, 12))))
        elif k < 0.5:
            parts.append(f"{r.uniform(-1e6, 1e6):.{r.randint(0, 6)}f}")
        elif k < 0.6:
            parts.append(f"{r.randint(1900, 2100)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}")
        elif k < 0.8:
            ds = r.choice(DIGITS)
            parts.append("".join(r.choice(ds) for _ in range(r.randint(1, 8))))
        else:
            parts.append(f"{r.random():.3e}")
    return r.choice([" ", ", ", "  ", "\t"]).join(parts)


def whitespace(r):
    return "".join(r.choice([word(r), r.choice(SPACES), r.choice(SPACES) * r.randint(1, 5)]) for _ in range(r.randint(4, 20)))


def scripts(r):
    name = r.choice(list(SCRIPTS))
    alphabet = SCRIPTS[name]
    words = ["".join(r.choice(alphabet) for _ in range(r.randint(1, 9))) for _ in range(r.randint(3, 20))]
    return (" " if name not in ("cjk", "kana", "thai") or r.random() < 0.3 else "").join(words)


def emoji(r):
    return "".join(r.choice([r.choice(EMOJI), " ", word(r), r.choice(EMOJI) * 3, " " + r.choice(EMOJI)])
                   for _ in range(r.randint(3, 12)))


def combining(r):
    out = []
    for _ in range(r.randint(3, 15)):
        base = r.choice("aeiouAEIOU" + SCRIPTS["latin"] + SCRIPTS["greek"] + "1 !")
        out.append(base + "".join(r.choice(COMBINING) for _ in range(r.randint(1, 3))))
        out.append(r.choice(["", " ", "", word(r) + " "]))
    return "".join(out)


def random_code_points(r):
    cps = assigned()
    return "".join(chr(r.choice(cps)) if r.random() < 0.8 else r.choice(" \n\t") for _ in range(r.randint(5, 60)))


SECTIONS = [prose] * 6 + [code, numbers, whitespace, scripts, scripts, emoji, combining, random_code_points]


def corpus(n_bytes, seed):
    r = random.Random(seed)
    out, size = [], 0
    while size < n_bytes:
        text = r.choice(SECTIONS)(r)
        # a line ends with "\n" between two characters that are not whitespace
        text = text.strip(" \t\n\r\x0b\x0c\u00a0\u3000\u2003\u2028") or "x"
        line = text + "\n"
        out.append(line)
        size += len(line.encode())
    return "".join(out)


def main():
    args = sys.argv[1:]
    n_bytes, seed = 5 * 1024 * 1024, 22
    if "--bytes" in args:
        n_bytes = int(args[args.index("--bytes") + 1])
    if "--seed" in args:
        seed = int(args[args.index("--seed") + 1])
    with open(args[0], "wb") as f:
        f.write(corpus(n_bytes, seed).encode())


if __name__ == "__main__":
    main()
