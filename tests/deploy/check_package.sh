#!/usr/bin/env bash
# check_package.sh - the install layout, the man page, the completion, the
# systemd unit and the Debian package, as an operator gets them.
#
# Usage: check_package.sh build   SRC WORK   configure and build SRC with
#                                             prefix /usr in WORK/build (the
#                                             package's configuration)
#        check_package.sh install SRC WORK   DESTDIR install: files, man -l,
#                                             completion, config, rules
#        check_package.sh systemd SRC WORK   systemd-analyze verify of the
#                                             installed unit
#        check_package.sh deb     SRC WORK   cpack -G DEB; dpkg-deb -I/-c
# ctest runs `build` once as a fixture for the three others.
set -euo pipefail

step=$1 src=$(realpath "$2") work=$(realpath -m "$3")
b=$work/build
root=$work/root
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

case $step in
build)
    # The Dockerfile's build-stage command itself (Release, prefix /usr,
    # am_produce), on a copy of the build context (.dockerignore applied),
    # with /src, /build and /out moved into WORK, so that the image's build
    # steps run here too; the package is made from the same build.
    rm -rf "$work"
    mkdir -p "$work"
    # The build context as docker build sends it (.dockerignore applied).
    python3 "$(dirname "$0")/docker_context.py" "$src" "$work/context" || fail "docker context"
    cmd=$(awk '/^FROM .* AS build$/ {on = 1; next} on && /^FROM / {exit} on' "$src/deploy/Dockerfile" |
        sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | sed -n 's/^RUN \(cmake .*\)/\1/p')
    [ -n "$cmd" ] || fail "no 'RUN cmake ...' in the Dockerfile's build stage"
    cmd=$(sed -E "s#(^|[ =])/src([/ ]|\$)#\1$work/context\2#g; s#(^|[ =])/build([/ ]|\$)#\1$b\2#g;
                  s#(^|[ =])/out([/ ]|\$)#\1$work/image\2#g" <<<"$cmd")
    echo "$cmd"
    CMAKE_BUILD_PARALLEL_LEVEL=2 bash -euo pipefail -c "$cmd" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "the Dockerfile's build"; }
    # The image's tree: what the runtime stage copies, and what the
    # Dockerfile, compose and the Kubernetes manifests name in it.
    for f in usr/bin/aftermath usr/bin/am_produce usr/bin/aftermath-healthcheck \
        etc/aftermath/aftermath.yaml usr/share/aftermath/examples/payments-latency.ndjson \
        usr/share/aftermath/rules/default.yaml; do
        [ -f "$work/image/$f" ] || fail "the image would lack /$f"
    done
    [ ! -e "$work/image/usr/lib/systemd" ] || fail "the image would hold a systemd unit"
    "$work/image/usr/bin/am_produce" --help 2>&1 | grep -q '^usage: am_produce' || fail "am_produce --help"
    echo "built $b, image tree in $work/image"
    ;;

install)
    rm -rf "$root"
    DESTDIR=$root cmake --install "$b" >"$work/install.log" || { cat "$work/install.log"; fail "install"; }
    expected=(
        usr/bin/aftermath
        usr/share/man/man1/aftermath.1
        usr/share/bash-completion/completions/aftermath
        etc/aftermath/aftermath.yaml
        usr/share/aftermath/rules/default.yaml
        usr/share/aftermath/examples/payments-latency.ndjson
        usr/share/doc/aftermath/README.md
        usr/share/doc/aftermath/aftermath.example.yaml
        usr/lib/systemd/system/aftermath.service
    )
    for f in "${expected[@]}"; do
        [ -f "$root/$f" ] || fail "cmake --install did not install /$f"
    done
    extra=$(cd "$root" && find . -type f | sed 's#^\./##' | sort | comm -23 - <(printf '%s\n' "${expected[@]}" | sort))
    [ -z "$extra" ] || fail "cmake --install installed unexpected files: $extra"
    [ -x "$root/usr/bin/aftermath" ] || fail "/usr/bin/aftermath is not executable"
    cmp -s "$root/usr/share/aftermath/rules/default.yaml" "$src/rules/default.yaml" ||
        fail "the installed rules differ from rules/default.yaml"
    am=$root/usr/bin/aftermath

    # The man page renders, holds every command and names the install paths.
    page=$(MANWIDTH=80 man -l "$root/usr/share/man/man1/aftermath.1" 2>"$work/man.err") ||
        { cat "$work/man.err"; fail "man -l aftermath.1"; }
    [ ! -s "$work/man.err" ] || { cat "$work/man.err"; fail "man -l printed warnings"; }
    grep -q '^NAME' <<<"$page" || fail "the man page has no NAME section"
    grep -q 'aftermath - turns alert and deploy events' <<<"$page" || fail "the man page's NAME line"
    for c in $("$am" --help | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}'); do
        grep -q "^   aftermath $c\$" <<<"$page" || fail "the man page has no section for '$c'"
        first=$("$am" "$c" --help | sed -n 1p)
        grep -qF -- "$first" <<<"$page" || fail "the man page lacks '$first'"
    done
    grep -qF -- "--print-config" <<<"$page" || fail "the man page lacks run's options"
    grep -qF "/etc/aftermath/aftermath.yaml" <<<"$page" || fail "the man page's FILES lacks the config"
    if command -v groff >/dev/null; then
        groff -man -Tutf8 -ww -z "$root/usr/share/man/man1/aftermath.1" 2>"$work/groff.err"
        [ ! -s "$work/groff.err" ] || { cat "$work/groff.err"; fail "groff warnings"; }
    fi

    # The completion: valid bash, and it completes commands, options, values.
    comp=$root/usr/share/bash-completion/completions/aftermath
    bash -n "$comp" || fail "the completion is not valid bash"
    got=$(bash -c '
        source "$1"
        t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _aftermath
              echo "${COMPREPLY[*]}"; }
        t aftermath re
        t aftermath --log-level info st
        t aftermath run --print
        t aftermath metrics --format ""
        t aftermath rules ""
        t aftermath help de
    ' _ "$comp")
    want=$'replay report recorrelate\nstatus\n--print-config\ntable json csv html\ncheck test\ndemo'
    [ "$got" = "$want" ] || fail "completion gave
$got
instead of
$want"

    # The installed config loads as installed, under the built-in rules.
    cfg=$("$am" run --config "$root/etc/aftermath/aftermath.yaml" --print-config) ||
        fail "the installed config does not load"
    grep -q '^store: "/var/lib/aftermath/aftermath.db"$' <<<"$cfg" || fail "config store: $cfg"
    grep -q '^rules: \[\]$' <<<"$cfg" || fail "the installed config lists rules"
    "$am" rules check "$root/usr/share/aftermath/rules/default.yaml" >/dev/null ||
        fail "the installed rules do not check"
    echo "install layout, man page, completion and config ok"
    ;;

systemd)
    command -v systemd-analyze >/dev/null ||
        fail "systemd-analyze is missing (deploy/install-deps.sh installs systemd)"
    unit=$root/usr/lib/systemd/system/aftermath.service
    [ -f "$unit" ] || fail "no installed unit (run the install step first)"
    exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
    bin=${exec_start%% *}
    config=$(sed 's/.*--config \([^ ]*\).*/\1/' <<<"$exec_start")
    [ "$bin" = /usr/bin/aftermath ] || fail "ExecStart runs $bin, not the installed /usr/bin/aftermath"
    [ -f "$root$config" ] || fail "ExecStart's --config $config is not installed"
    for k in DynamicUser=yes ProtectSystem=strict StateDirectory=aftermath Restart=on-failure \
        NoNewPrivileges=yes; do
        grep -qx "$k" "$unit" || fail "the unit lacks $k"
    done
    grep -q '^store: /var/lib/aftermath/' "$root$config" ||
        fail "the config's store is not in the unit's StateDirectory"
    # Verify the unit as installed, with the binary it names taken from
    # DESTDIR (verify checks it is executable) and man:aftermath(1) from
    # the installed man page.
    mkdir -p "$work/verify"
    sed "s#^ExecStart=/usr/bin/aftermath#ExecStart=$root/usr/bin/aftermath#" "$unit" \
        >"$work/verify/aftermath.service"
    MANPATH=$root/usr/share/man SYSTEMD_LOG_LEVEL=notice \
        systemd-analyze verify "$work/verify/aftermath.service" 2>&1 | tee "$work/verify.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || fail "systemd-analyze verify"
    [ ! -s "$work/verify.log" ] || fail "systemd-analyze verify printed warnings"
    exposure=$(systemd-analyze security --offline=yes "$work/verify/aftermath.service" 2>&1 |
        sed -n 's/.*Overall exposure level for aftermath.service: \([0-9.]*\).*/\1/p')
    echo "systemd-analyze security: exposure $exposure"
    awk -v e="$exposure" 'BEGIN {exit !(e != "" && e + 0 <= 2.0)}' ||
        fail "the unit's exposure level is '$exposure' (want at most 2.0, 'OK')"
    echo "systemd unit ok"
    ;;

deb)
    rm -rf "$b/packages"
    (cd "$b" && cpack -G DEB) >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
    deb=$(ls "$b"/packages/*.deb)
    [ "$(wc -l <<<"$deb")" -eq 1 ] || fail "expected one .deb, got: $deb"
    info=$(dpkg-deb -I "$deb")
    echo "$info"
    depends=$(sed -n 's/^ Depends: //p' <<<"$info")
    [ -n "$depends" ] || fail "the package has no Depends"
    # Every library the binary links, by owning package, must be a Depends.
    dpkg-deb -x "$deb" "$work/deb-root"
    for lib in $(objdump -p "$work/deb-root/usr/bin/aftermath" | awk '/NEEDED/ {print $2}'); do
        path=$(ldd "$work/deb-root/usr/bin/aftermath" | awk -v l="$lib" '$1 == l {print $3}')
        real=$(readlink -f "$path")
        pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$real" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null ||
            dpkg -S "/usr$real") || fail "no package owns $lib"
        pkg=${pkg%%:*}
        grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" || fail "Depends lacks $pkg (for $lib): $depends"
    done
    grep -q "^ Package: aftermath$" <<<"$info" || fail "package name"
    dpkg-deb -c "$deb" >"$work/deb-files"
    for f in ./usr/bin/aftermath ./etc/aftermath/aftermath.yaml ./usr/share/man/man1/aftermath.1 \
        ./usr/lib/systemd/system/aftermath.service ./usr/share/bash-completion/completions/aftermath \
        ./usr/share/aftermath/rules/default.yaml; do
        grep -q " $f\$" "$work/deb-files" || fail "the package lacks $f"
    done
    dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/aftermath/aftermath.yaml ||
        fail "/etc/aftermath/aftermath.yaml is not a conffile"
    echo "package $deb ok: Depends: $depends"
    ;;

*)
    echo "usage: check_package.sh build|install|systemd|deb SRC WORK" >&2
    exit 2
    ;;
esac
