#!/usr/bin/env python3
"""The Markdown drafts as CommonMark/GitHub render them.

Renders each draft (.md) given with cmark-gfm (Debian's cmark-gfm, the
GitHub Flavored Markdown reference implementation, with its table
extension, raw HTML passed through) and checks the HTML it makes: only
elements the template writes (no tag from event text), the four tables
are tables, the
"What the alerts said" list ends before the prompts that follow it, no
markup is left as literal text (** or a backslash before a bracket), every
prompt is bold, every link is http(s), and the gantt block is a mermaid
code block after a sentence that says what it is.
Usage: commonmark.py DRAFT.md|DIR... (a DIR: every .md in it)
"""
import glob
import os
import subprocess
import sys
from html.parser import HTMLParser


class Tree(HTMLParser):
    """A flat list of (depth, tag, attrs) starts and the text under each."""

    def __init__(self):
        super().__init__()
        self.stack, self.events, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, dict(attrs), len(self.stack)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack:
            top = self.stack.pop()
            self.events.append(("end", top, {}, len(self.stack)))
            if top == tag:
                break

    def handle_data(self, data):
        self.events.append(("text", data, {}, len(self.stack)))
        self.text.append((tuple(self.stack), data))


def check(path):
    errors = []
    src = open(path, encoding="utf-8").read()
    # --unsafe: raw HTML is passed through, so a tag that got past the
    # escaper shows up below instead of being dropped by the renderer.
    html = subprocess.run(["cmark-gfm", "--unsafe", "-e", "table", path], capture_output=True,
                          text=True, check=True).stdout
    t = Tree()
    t.feed(html)
    starts = [e for e in t.events if e[0] == "start"]
    allowed = {"h1", "h2", "h3", "p", "ul", "ol", "li", "strong", "em", "a", "table", "thead",
               "tbody", "tr", "th", "td", "pre", "code", "blockquote"}
    for e in starts:
        if e[1] not in allowed:
            errors.append("a <%s> element: markup from event text?" % e[1])
    tables = sum(1 for e in starts if e[1] == "table")
    if tables != 4:
        errors.append("%d tables rendered, expected 4 (summary, impact, lessons, actions)" % tables)
    for stack, data in t.text:
        if "code" in stack:
            continue
        if "**" in data or "\\[" in data or "\\]" in data:
            errors.append("markup left as text: %r" % data[:80])
        if "[to fill]" in data and "strong" not in stack and "blockquote" not in stack:
            errors.append("a prompt not in bold: %r" % data[:80])
    if "\\[to fill\\]" in src or "\\[to confirm\\]" in src:
        errors.append("escaped prompts in the Markdown source")
    for e in starts:
        if e[1] == "a" and not e[2].get("href", "").lower().startswith(("http://", "https://")):
            errors.append("a link that is not http(s): %r" % e[2].get("href"))
    # The alerts' list is followed by a paragraph, then the prompts' list:
    # two lists, each tight (no <p> inside an item).
    ev = t.events
    idx = [i for i, e in enumerate(ev) if e[0] == "text" and e[1] == "What the alerts said:"]
    if len(idx) != 1:
        errors.append("no 'What the alerts said:' paragraph")
    else:
        i = idx[0]
        seq = [e[1] for e in ev[i:] if e[0] == "start" and e[3] == 0][:3]
        if seq != ["ul", "p", "ul"]:
            errors.append("the alerts' list runs into what follows: %s" % seq)
        end = next(k for k in range(i, len(ev)) if ev[k][0] == "end" and ev[k][1] == "ul")
        items = [e for e in ev[i:end] if e[0] == "start" and e[1] == "li"]
        if any(e[0] == "start" and e[1] == "p" for e in ev[i + 1:end]):
            errors.append("the alerts' list is loose (a <p> in an item)")
        if any("[to fill]" in e[1] for e in ev[i:end] if e[0] == "text"):
            errors.append("a prompt inside the alerts' list")
        if not items:
            errors.append("the alerts' list has no item")
    code = [e for e in starts if e[1] == "code"]
    if not any(e[2].get("class") == "language-mermaid" for e in code):
        errors.append("no mermaid code block")
    if "as a Mermaid gantt chart" not in html:
        errors.append("the gantt block has no sentence saying what it is")
    return errors


def main():
    bad = 0
    paths = []
    for a in sys.argv[1:]:
        paths += sorted(glob.glob(os.path.join(a, "*.md"))) if os.path.isdir(a) else [a]
    for path in paths:
        for err in check(path):
            print("FAIL: %s: %s" % (path, err), file=sys.stderr)
            bad += 1
    if not paths:
        print("usage: commonmark.py DRAFT.md|DIR... (no draft found)", file=sys.stderr)
        return 2
    print("commonmark: %d drafts, %d problems" % (len(paths), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
