"""Full-width punctuation in Chinese text: ，：；（） instead of , : ; ( ) next to Chinese.

Only translatable text changes: string literals passed to gettext (`_`, `_l`, `gettext`,
`gettext_lazy`, `gettext_noop`, `ngettext`…) in Python, and `{% translate %}` /
`{% blocktranslate %}` text in templates (with a , : ; written right after a translate tag
whose text ends in Chinese). A , : ; becomes full-width when a Chinese character is right
before or after it (a space after it is dropped); a pair of parentheses becomes full-width
when either parenthesis touches a Chinese character. `%(name)s` placeholders are never touched.

    python tools/fullwidth_punct.py [--check] FILE...     (--check: list, change nothing)
"""

import io
import re
import sys
import tokenize

GETTEXT = {"_", "_l", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "npgettext"}
_SIMPLE = {",": "，", ":": "：", ";": "；"}


def is_cjk(ch: str) -> bool:
    return bool(ch) and ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ch in "，。、；：？！“”（）《》…")


def fix_text(text: str) -> str:
    """The Chinese-text rule on one piece of translatable text."""
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    chars = list(text)
    # Parentheses in pairs, skipping %(name) placeholders.
    stack, pairs = [], []
    i = 0
    while i < len(chars):
        ch = chars[i]
        if ch == "%" and i + 1 < len(chars) and chars[i + 1] == "(":
            end = text.find(")", i + 2)
            if end != -1 and re.fullmatch(r"\w+", text[i + 2 : end]):
                i = end + 1
                continue
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            pairs.append((stack.pop(), i))
        i += 1

    def touches(i):
        before = chars[i - 1] if i > 0 else ""
        after = chars[i + 1] if i + 1 < len(chars) else ""
        return is_cjk(before) or is_cjk(after)

    def chinese_inside(start, end):
        inner = text[start + 1 : end]
        placeholder = re.fullmatch(r"(?:#?%\(\w+\)[sd]|#?\x00+|\s)+", inner)
        return any(is_cjk(ch) for ch in inner) or bool(placeholder)

    for start, end in pairs:
        if touches(start) or touches(end) or chinese_inside(start, end):
            chars[start], chars[end] = "（", "）"
    drop = set()
    for i, ch in enumerate(chars):
        if ch in _SIMPLE and touches(i):
            # not the colon of a time or URL (digits or letters on both sides without CJK)
            chars[i] = _SIMPLE[ch]
            if i + 1 < len(chars) and chars[i + 1] == " ":
                drop.add(i + 1)
    return "".join(ch for i, ch in enumerate(chars) if i not in drop)


def fix_python(source: str) -> str:
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits = []  # (start, end, new text)
    for n, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string not in GETTEXT:
            continue
        if n + 1 >= len(tokens) or tokens[n + 1].string != "(":
            continue
        k = n + 2
        while k < len(tokens) and tokens[k].type in (tokenize.STRING, tokenize.NL, tokenize.COMMENT):
            t = tokens[k]
            if t.type == tokenize.STRING:
                new = fix_literal(t.string)
                if new != t.string:
                    edits.append((t.start, t.end, new))
            k += 1
    if not edits:
        return source
    lines = source.splitlines(keepends=True)
    for (sr, sc), (er, ec), new in sorted(edits, reverse=True):
        assert sr == er, "multi-line strings are not edited"
        line = lines[sr - 1]
        lines[sr - 1] = line[:sc] + new + line[ec:]
    return "".join(lines)


def fix_literal(literal: str) -> str:
    match = re.match(r"([rbuRBUfF]*)('''|\"\"\"|'|\")(.*)\2$", literal, re.S)
    if not match or "b" in match.group(1).lower():
        return literal
    prefix, quote, body = match.groups()
    return prefix + quote + fix_text(body) + quote


_TRANSLATE = re.compile(r'(\{%\s*translate\s+)(["\'])(.*?)\2')
_BLOCK = re.compile(r"(\{%\s*blocktranslate\b[^%]*%\})(.*?)(\{%\s*endblocktranslate\s*%\})", re.S)
_AFTER_TAG = re.compile(r'(\{%\s*translate\s+(["\'])(.*?)\2[^%]*%\})([,:;])')


def fix_template(source: str) -> str:
    def after_tag(m):
        ends_cjk = is_cjk(m.group(3)[-1:]) if m.group(3) else False
        return m.group(1) + (_SIMPLE[m.group(4)] if ends_cjk else m.group(4))

    source = _AFTER_TAG.sub(after_tag, source)
    source = _TRANSLATE.sub(lambda m: m.group(1) + m.group(2) + fix_text(m.group(3)) + m.group(2), source)

    def block(m):
        parts = re.split(r"(\{\{.*?\}\}|\{%.*?%\})", m.group(2))
        # Tags and variables stay as written; the text around them is fixed as one piece.
        marker = "\x00"
        text = "".join(marker * len(p) if p.startswith(("{{", "{%")) else p for p in parts)
        fixed = fix_text_keep_length(text)
        out, pos = [], 0
        for p in parts:
            chunk = fixed[pos : pos + len(p)]
            out.append(p if p.startswith(("{{", "{%")) else chunk)
            pos += len(p)
        return m.group(1) + "".join(out) + m.group(3)

    return _BLOCK.sub(block, source)


def fix_text_keep_length(text: str) -> str:
    """fix_text without dropping spaces (the block's pieces must keep their places)."""
    result = fix_text(text.replace(" ", "\x01"))
    return result.replace("\x01", " ")


def main(argv):
    check = "--check" in argv
    changed = []
    for path in [a for a in argv if a != "--check"]:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        new = fix_python(source) if path.endswith(".py") else fix_template(source)
        if new != source:
            changed.append(path)
            if not check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(new)
    for path in changed:
        print(path)
    return 1 if (check and changed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
