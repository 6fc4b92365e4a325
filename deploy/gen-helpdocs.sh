#!/bin/sh
# gen-helpdocs.sh - writes aftermath(1) or the bash completion from the
# binary's own --help texts, so neither can drift from the code. The build
# runs it (deploy/CMakeLists.txt); it needs only sh and awk.
#
# Usage: gen-helpdocs.sh man AFTERMATH OUT SYSCONFDIR DATADIR
#        gen-helpdocs.sh bash AFTERMATH OUT
#
# What it relies on in the help texts (cli/main.c, cli/cmd_*.c):
# - `aftermath --help` lists the commands under "Commands:", one per line
#   as "  NAME  summary", and its sections are lines ending in ':' at
#   column 0;
# - `aftermath CMD --help` starts with "usage: aftermath CMD ..." (more
#   usage forms follow on lines "       aftermath CMD SUB ..."); options
#   are lines "  [-x, ]--name [ARG]  text", and "--name a|b|c" anywhere
#   gives the values of --name.
# A help text that breaks these makes the script fail, not guess.
set -eu

mode=${1:-} bin=${2:-} out=${3:-}
case $mode in man | bash) ;; *)
    echo "usage: gen-helpdocs.sh man|bash AFTERMATH OUT [SYSCONFDIR DATADIR]" >&2
    exit 2
    ;;
esac
[ -x "$bin" ] || { echo "gen-helpdocs: $bin is not an executable" >&2; exit 1; }

main=$("$bin" --help)
version=$("$bin" --version | awk '{print $2}')
cmds=$(printf '%s\n' "$main" | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}')
if [ -z "$cmds" ] || [ -z "$version" ]; then
    echo "gen-helpdocs: no commands or no version in '$bin --help'" >&2
    exit 1
fi

# All help texts, each command's preceded by a line "@@CMD name".
all() {
    printf '@@MAIN\n%s\n' "$main"
    for c in $cmds; do
        h=$("$bin" "$c" --help)
        case $h in "usage: aftermath $c"*) ;; *)
            echo "gen-helpdocs: '$bin $c --help' does not start with 'usage: aftermath $c'" >&2
            return 1
            ;;
        esac
        printf '@@CMD %s\n%s\n' "$c" "$h"
    done
}

tmp=$out.tmp
trap 'rm -f "$tmp"' EXIT
texts=$(all)

if [ "$mode" = man ]; then
    etc=${4:?SYSCONFDIR} share=${5:?DATADIR}
    printf '%s\n' "$texts" | awk -v version="$version" -v etc="$etc" -v share="$share" '
    function esc(s) {
        gsub(/\\/, "\\e", s)
        gsub(/-/, "\\-", s)
        if (s ~ /^[.\047]/) s = "\\&" s
        return s
    }
    function pre_open() { if (!pre) { print ".nf"; pre = 1 } }
    function pre_close() { if (pre) { print ".fi"; pre = 0 } }
    /^@@MAIN/ { part = "main"; line = 0; next }
    /^@@CMD / {
        if (part == "main") {
            pre_close()
            print ".SH COMMAND REFERENCE"
            print "Each command takes \\fB\\-\\-help\\fR. Their full help texts follow."
        }
        pre_close()
        part = "cmd"
        print ".SS aftermath " $2
        pre_open()
        next
    }
    part == "main" {
        line++
        if (line == 1) {
            usage = $0; sub(/^usage: /, "", usage)
            next
        }
        if (!named && $0 != "") { desc = desc (desc ? " " : "") $0; next }
        if (!named && desc != "") {
            named = 1
            name = desc; sub(/^aftermath /, "", name); sub(/\.$/, "", name)
            print ".TH AFTERMATH 1 \"\" \"aftermath " version "\" \"User Commands\""
            print ".SH NAME"
            print "aftermath \\- " esc(name)
            print ".SH SYNOPSIS"
            print ".nf"; print esc(usage); print ".fi"
            print ".SH DESCRIPTION"
            print esc(desc)
            next
        }
        if ($0 ~ /^[A-Z][^:]*:$/) {
            pre_close()
            h = toupper(substr($0, 1, length($0) - 1))
            if (h == "GLOBAL OPTIONS") h = "OPTIONS"
            if (h == "EXIT CODES") h = "EXIT STATUS"
            print ".SH " h
            pre_open()
            next
        }
        if (pre) print esc($0)
        next
    }
    part == "cmd" { print esc($0) }
    END {
        pre_close()
        print ".SH FILES"
        print ".TP"
        print esc(etc "/aftermath/aftermath.yaml")
        print "The configuration of \\fBaftermath run\\fR as installed (\\fB\\-\\-config\\fR); the"
        print "systemd unit and the container image use it. The keys are those of"
        print esc(share "/doc/aftermath/aftermath.example.yaml") "."
        print ".TP"
        print esc(share "/aftermath/rules/default.yaml")
        print "A copy of the built\\-in correlation rules, for reference and as a starting"
        print "point: the binary embeds them and uses them when the configuration lists no"
        print "rule files. To change them, copy this file, edit it and list the copy under"
        print "\\fBrules:\\fR."
        print ".TP"
        print esc(share "/aftermath/examples/payments-latency.ndjson")
        print "The demo story (also compiled into \\fBaftermath demo\\fR)."
        print ".SH SEE ALSO"
        print "The deploy kit (container image, Compose stack, Kubernetes manifests, systemd"
        print "unit) is described in deploy/README.md of the source tree."
    }' >"$tmp"
else
    printf '%s\n' "$texts" | awk '
    function add(list, w) { return index(" " list " ", " " w " ") ? list : (list ? list " " : "") w }
    # "--name a|b|c": the values of --name.
    function values(s,   rest, m, opt, v) {
        rest = s
        while (match(rest, /--[a-z][a-z-]* [a-z0-9]+(\|[a-z0-9]+)+/)) {
            m = substr(rest, RSTART, RLENGTH)
            opt = m; sub(/ .*/, "", opt)
            v = m; sub(/^[^ ]* /, "", v); gsub(/\|/, " ", v)
            vals[cur, opt] = v
            rest = substr(rest, RSTART + RLENGTH)
        }
    }
    /^@@MAIN/ { cur = ""; order = ""; next }
    /^@@CMD / { cur = $2; order = order " " cur; next }
    {
        values($0)
        if (cur != "" && ($0 ~ "^usage: aftermath " cur " [a-z]" || $0 ~ "^ +aftermath " cur " [a-z]")) {
            s = $0; sub(/^.*aftermath [a-z]+ /, "", s); sub(/ .*/, "", s)
            subs[cur] = add(subs[cur], s)
        }
        if ($0 ~ /^  +(-[A-Za-z], )?--[a-z]/) {
            s = $0; sub(/^ +(-[A-Za-z], )?/, "", s)
            opt = s; sub(/ .*/, "", opt)
            opts[cur] = add(opts[cur], opt)
            if (s ~ /^--[a-z-]+ [A-Z]/) {
                arg = s; sub(/^[^ ]+ /, "", arg); sub(/ .*/, "", arg)
                if (arg ~ /^(FILE|PATH|DIR)/) fileopts = add(fileopts, opt)
                else argopts = add(argopts, opt)
            }
        }
    }
    END {
        if (order == "") exit 1
        print "# bash completion for aftermath(1). Generated from the --help texts by"
        print "# deploy/gen-helpdocs.sh at build time: do not edit."
        print "_aftermath() {"
        print "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}"
        print "    local i cmd= nsub=0 words opts"
        print "    for ((i = 1; i < COMP_CWORD; i++)); do"
        print "        case ${COMP_WORDS[i]} in"
        print "        --log-level | --log-format) ((i++)) ;;"
        print "        -*) ;;"
        print "        *)"
        print "            if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; else ((nsub++)); fi"
        print "            ;;"
        print "        esac"
        print "    done"
        print "    case $prev in"
        print "    " (fileopts ? join(fileopts) : "--no-such-option") ")"
        print "        COMPREPLY=($(compgen -f -- \"$cur\"))"
        print "        return"
        print "        ;;"
        print "    esac"
        print "    case $cmd in"
        print "    \"\")"
        print "        words=\"" substr(order, 2) " help\""
        print "        opts=\"" opts[""] "\""
        valcase("")
        print "        ;;"
        n = split(substr(order, 2), cs, " ")
        for (i = 1; i <= n; i++) {
            c = cs[i]
            print "    " c ")"
            print "        words=\"" (subs[c] ? subs[c] : "") "\""
            print "        [[ $nsub -gt 0 ]] && words="
            print "        opts=\"" opts[c] "\""
            valcase(c)
            print "        ;;"
        }
        print "    help)"
        print "        words=\"" substr(order, 2) "\""
        print "        [[ $nsub -gt 0 ]] && words="
        print "        ;;"
        print "    esac"
        print "    case $prev in"
        print "    " (argopts ? join(argopts) : "--no-such-option") ")"
        print "        return"
        print "        ;;"
        print "    esac"
        print "    if [[ $cur == -* ]]; then"
        print "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))"
        print "    elif [[ -n $words ]]; then"
        print "        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))"
        print "    else"
        print "        COMPREPLY=($(compgen -f -- \"$cur\"))"
        print "    fi"
        print "}"
        print "complete -o filenames -F _aftermath aftermath"
    }
    function join(list) { gsub(/ /, " | ", list); return list }
    # Values of options of command c: complete them after the option.
    function valcase(c,   k, parts, o, body) {
        body = ""
        for (k in vals) {
            split(k, parts, SUBSEP)
            if (parts[1] != c) continue
            o = parts[2]
            body = body "        " o ") COMPREPLY=($(compgen -W \"" vals[k] "\" -- \"$cur\")); return ;;\n"
        }
        if (body == "") return
        print "        case $prev in"
        printf "%s", body
        print "        esac"
    }' >"$tmp"
fi
mv "$tmp" "$out"
trap - EXIT
