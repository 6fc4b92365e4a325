#!/usr/bin/env python3
"""check_sql_owners.py - every table has one owner (store/schema.sql), and
only its owner's code names it in SQL.

Reads the owners from the '-- Owner: DIR/' sections of store/schema.sql,
then every C file of the modules that uses SQLite (includes <sqlite3.h>
or names a statement of store/queries.h or correlate/queries.h). A run of
adjacent string literals (joined across macros, as C joins them) is one
statement; a statement that names only tables of other modules is refused:
those modules offer functions or named statements (their queries.h) for
it. A statement that joins the file's own tables with another module's
(incident links with events) is allowed, and so are the migrations'
CREATE/ALTER TABLE in store/, which build every owner's tables.

usage: check_sql_owners.py PROJECT_DIR    (exit 0 clean, 1 with the list)
"""
import os
import re
import sys

MODULES = ("common", "ingest", "correlate", "store", "report", "run", "cli")


def owners(schema_path):
    out, owner = {}, None
    with open(schema_path) as f:
        for line in f:
            m = re.match(r"--\s*Owner:\s*([a-z]+)/", line)
            if m:
                owner = m.group(1)
                continue
            m = re.match(r'CREATE TABLE\s+"?([a-z_]+)"?', line)
            if m:
                if owner is None:
                    sys.exit("%s: table %s before any '-- Owner:' line" % (schema_path, m.group(1)))
                out[m.group(1)] = owner
    return out


def statements(text):
    """Yields (line, statement text) for each run of adjacent literals."""
    text = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group(0)) if "\n" not in m.group(0)
                  else "\n" * m.group(0).count("\n"), text, flags=re.S)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        if c == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c != '"':
            i += 1
            continue
        line = text.count("\n", 0, i) + 1
        parts = []
        while True:
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            parts.append(text[i + 1:j])
            k = j + 1
            # whitespace and macro names (EVENT_COLS, LATEST) continue the run
            m = re.compile(r"(?:\s|[A-Z_][A-Z0-9_]*)*").match(text, k)
            k = m.end()
            if k < n and text[k] == '"':
                parts.append(" ")
                i = k
                continue
            i = j + 1
            break
        yield line, "".join(parts)


def main():
    root = sys.argv[1]
    table_owner = owners(os.path.join(root, "store", "schema.sql"))
    named = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+\"?([a-z_]+)", re.I)
    sql_start = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|WITH|REPLACE)\b")
    bad = []
    for mod in MODULES:
        for dirpath, _, files in os.walk(os.path.join(root, mod)):
            for name in sorted(files):
                if not name.endswith(".c"):
                    continue
                path = os.path.join(dirpath, name)
                text = open(path, encoding="utf-8", errors="replace").read()
                if "<sqlite3.h>" not in text and "queries.h" not in text:
                    continue
                for line, stmt in statements(text):
                    if not sql_start.match(stmt):
                        continue  # prose: a help text, a metric's description
                    if mod == "store" and re.search(r"\b(CREATE|ALTER|DROP) TABLE\b", stmt):
                        continue  # the migrations build every owner's tables
                    tables = {t for t in named.findall(stmt) if t in table_owner}
                    if not tables:
                        continue
                    who = {table_owner[t] for t in tables}
                    if mod not in who:
                        bad.append("%s:%d: names %s, owned by %s/: use its functions or "
                                   "its queries.h" % (os.path.relpath(path, root), line,
                                                      ", ".join(sorted(tables)),
                                                      "/, ".join(sorted(who))))
    if bad:
        print("\n".join(bad))
        return 1
    print("check_sql_owners: %d tables, each named in SQL by its owner only" % len(table_owner))
    return 0


if __name__ == "__main__":
    sys.exit(main())
