#!/usr/bin/env python3
"""term_check.py FILE...: fails (exit 1, naming the file, offset and
character) when a file meant for a terminal holds what report_escape_term
must replace: a C0 control other than LF, DEL, a C1 control (U+0080-U+009F,
encoded or as a raw byte), any byte outside well-formed UTF-8, a bidi
control (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) or a line or
paragraph separator (U+2028, U+2029)."""
import sys

BIDI = {0x061C, 0x200E, 0x200F, 0x2028, 0x2029} | set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))


def bad(ch):
    c = ord(ch)
    if 0xDC80 <= c <= 0xDCFF:
        return "byte 0x%02X outside UTF-8" % (c - 0xDC00)
    if (c < 0x20 and ch != "\n") or 0x7F <= c <= 0x9F:
        return "control U+%04X" % c
    if c in BIDI:
        return "bidi/line control U+%04X" % c
    return None


rc = 0
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="surrogateescape")
    for i, ch in enumerate(text):
        why = bad(ch)
        if why:
            print("FAIL: %s: character %d: %s" % (path, i, why), file=sys.stderr)
            rc = 1
            break
sys.exit(rc)
