#!/usr/bin/env bash
# Checks deploy/ without a Docker engine (none runs on our machines; `make docker` builds for real):
#
#  1. the Dockerfile's policy: multi-stage on a pinned debian:bookworm-slim, a non-root USER,
#     HEALTHCHECK through `fwpcast healthcheck`, VOLUME /var/lib/fwpcast, EXPOSE 8080,
#     STOPSIGNAL SIGTERM, FWPCAST_* configuration, COPY not ADD, apt hygiene, no baked-in token;
#  2. its runtime packages against the binary: every library build/fwpcast needs directly
#     (its DT_NEEDED entries, resolved by ldd, owned per `dpkg -S`) must be installed by name in
#     the runtime stage's apt-get line, and every library `ldd` lists must belong to a package
#     those bring in through their Depends (closure computed from this machine's dpkg database);
#  3. docker-compose.yml and the systemd unit (restart policy, volume, env file, hardening;
#     `systemd-analyze verify` when it is installed);
#  4. the same binary run as the image runs it: the image's FWPCAST_* environment (paths mapped
#     into this checkout, loopback instead of 0.0.0.0), `fwpcast healthcheck` as the HEALTHCHECK
#     runs it, the dashboard served from FWPCAST_STATIC, a clean exit on SIGTERM.
#
# Usage: tests/deploy/test_docker_policy.sh [build/fwpcast]
# Prints "ok - ..." / "not ok - ..." lines, then "docker-policy: N passed, M failed".
# shellcheck disable=SC2016,SC2013,SC2015,SC2001 # `bash -c '...'` checks expand their own arguments
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BIN=${1:-build/fwpcast}
DOCKERFILE=${DOCKERFILE:-deploy/Dockerfile} # overridable, to try the checks on a variant
COMPOSE=deploy/docker-compose.yml
UNIT=deploy/fwpcast.service

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
notok() { echo "not ok - $1"; failed=$((failed + 1)); }
check() { # check "description" command...
    local what=$1
    shift
    if "$@"; then ok "$what"; else notok "$what"; fi
}

[ -f "$DOCKERFILE" ] || { echo "not ok - $DOCKERFILE is missing"; echo "docker-policy: 0 passed, 1 failed"; exit 1; }
[ -x "$BIN" ] || { echo "not ok - $BIN is missing: build it first (make)"; echo "docker-policy: 0 passed, 1 failed"; exit 1; }

# --- the Dockerfile as logical lines (continuations joined, comments dropped) --------------------
logical=$(awk '
    /^[[:space:]]*#/ { next }
    { line = line $0 }
    /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, " ", line); next }
    { if (line ~ /[^[:space:]]/) print line; line = "" }
' "$DOCKERFILE")
froms=$(grep -nE '^[[:space:]]*FROM[[:space:]]' <<<"$logical")
nfrom=$(grep -c . <<<"$froms")
last_from_line=$(tail -n 1 <<<"$froms" | cut -d: -f1)
final=$(tail -n +"$last_from_line" <<<"$logical") # the runtime stage
instr() { grep -iE "^[[:space:]]*$1([[:space:]]|$)" <<<"$2"; }

check "multi-stage build ($nfrom FROM lines)" test "$nfrom" -ge 2

pinned=1
while IFS= read -r f; do
    image=$(awk '{ for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; exit } }' <<<"${f#*:}")
    case "$image" in
    debian:bookworm-slim@sha256:* | debian:bookworm-slim | debian:bookworm-[0-9]*-slim | debian:12*-slim*) ;;
    *) pinned=0; echo "#   base '$image' is not a pinned debian:bookworm-slim" ;;
    esac
    case "$image" in *:latest | *:latest@*) pinned=0 ;; esac
done <<<"$froms"
check "every stage is based on debian:bookworm-slim, pinned by tag or digest" test "$pinned" = 1
if ! grep -q '@sha256:' <<<"$froms"; then
    echo "#   note: the base is pinned by tag only; add @sha256:<digest> for byte-reproducible builds"
fi

build_stage=$(head -n $((last_from_line - 1)) <<<"$logical")
check "the build stage installs the -dev packages and runs make" \
    bash -c 'grep -q -- "-dev" <<<"$1" && grep -qE "RUN .*make" <<<"$1"' _ "$build_stage"

user=$(instr USER "$final" | tail -n 1 | awk '{ print $2 }')
check "the runtime stage runs as a non-root USER ('${user:-none}')" \
    bash -c '[ -n "$1" ] && ! grep -qE "^(root|0)(:|$)" <<<"$1"' _ "$user"
check "HEALTHCHECK runs [\"fwpcast\", \"healthcheck\"] (exec form)" \
    bash -c 'instr=$(grep -iE "^[[:space:]]*HEALTHCHECK" <<<"$1" | tail -n 1); grep -qE "CMD[[:space:]]*\[[[:space:]]*\"fwpcast\"[[:space:]]*,[[:space:]]*\"healthcheck\"[[:space:]]*\]" <<<"$instr"' _ "$final"
check "VOLUME /var/lib/fwpcast (the directory, for SQLite's WAL files)" \
    bash -c 'grep -qE "^[[:space:]]*VOLUME[[:space:]]+(\[\"/var/lib/fwpcast/?\"\]|/var/lib/fwpcast/?)[[:space:]]*$" <<<"$1"' _ "$final"
check "EXPOSE 8080" bash -c 'grep -qE "^[[:space:]]*EXPOSE[[:space:]]+8080(/tcp)?[[:space:]]*$" <<<"$1"' _ "$final"
check "STOPSIGNAL SIGTERM" bash -c 'grep -qE "^[[:space:]]*STOPSIGNAL[[:space:]]+(SIGTERM|15)[[:space:]]*$" <<<"$1"' _ "$final"

envs=$(instr ENV "$final")
env_ok=1
for kv in FWPCAST_DB=/var/lib/fwpcast/ FWPCAST_BIND=0.0.0.0 FWPCAST_DATA=/ FWPCAST_STATIC=/; do
    grep -q "$kv" <<<"$envs" || { env_ok=0; echo "#   no ENV $kv..."; }
done
check "configuration by ENV (FWPCAST_DB under the volume, FWPCAST_BIND=0.0.0.0, FWPCAST_DATA, FWPCAST_STATIC)" test "$env_ok" = 1
data_dir=$(grep -oE 'FWPCAST_DATA=[^[:space:]]+' <<<"$envs" | head -n 1 | cut -d= -f2)
static_dir=$(grep -oE 'FWPCAST_STATIC=[^[:space:]]+' <<<"$envs" | head -n 1 | cut -d= -f2)
check "data/ is copied to FWPCAST_DATA ($data_dir) and static/ to FWPCAST_STATIC ($static_dir)" \
    bash -c 'grep -qE "^[[:space:]]*COPY[[:space:]]+data/?[[:space:]]+${2%/}/?[[:space:]]*$" <<<"$1" && grep -qE "^[[:space:]]*COPY[[:space:]]+static/?[[:space:]]+${3%/}/?[[:space:]]*$" <<<"$1"' \
    _ "$final" "$data_dir" "$static_dir"
check "the binary comes from the build stage into the PATH" \
    bash -c 'grep -qE "^[[:space:]]*COPY[[:space:]]+--from=[^[:space:]]+[[:space:]]+[^[:space:]]*fwpcast[[:space:]]+/usr/(local/)?bin/" <<<"$1"' _ "$final"
check "no ADD (COPY only)" bash -c '! grep -qiE "^[[:space:]]*ADD[[:space:]]" <<<"$1"' _ "$logical"
check "CMD and ENTRYPOINT in exec (JSON) form" \
    bash -c '! grep -iE "^[[:space:]]*(CMD|ENTRYPOINT)[[:space:]]" <<<"$1" | grep -vqE "^[[:space:]]*(CMD|ENTRYPOINT)[[:space:]]+\["' _ "$final"
check "no token or secret baked into the image" \
    bash -c '! grep -qiE "(FWPCAST_TOKEN|PASSWORD|SECRET|API_KEY)[[:space:]]*=" <<<"$1"' _ "$logical"
check "apt-get install uses --no-install-recommends and the lists are removed in the same RUN" \
    bash -c 'while IFS= read -r l; do grep -q -- "--no-install-recommends" <<<"$l" && grep -q "rm -rf /var/lib/apt/lists" <<<"$l" || exit 1; done < <(grep -E "apt-get[[:space:]]+install" <<<"$1")' _ "$logical"
check "a .dockerignore for this Dockerfile keeps build/, var/, .git and node_modules out" \
    bash -c 'f=deploy/Dockerfile.dockerignore; [ -f "$f" ] || f=.dockerignore; [ -f "$f" ] && for p in build var .git node_modules; do grep -qE "^(\*\*/)?$p/?$" "$f" || exit 1; done' _

# --- runtime packages against what the binary links ----------------------------------------------
install_line=$(grep -E 'apt-get[[:space:]]+install' <<<"$final" | head -n 1)
runtime_pkgs=$(sed -E 's/.*apt-get[[:space:]]+install//; s/(&&|;).*//' <<<"$install_line" | tr ' ' '\n' | grep -vE '^(-.*|)$' | sort -u)
echo "#   runtime packages: $(tr '\n' ' ' <<<"$runtime_pkgs")"
check "the runtime stage installs no compiler or -dev package" \
    bash -c '! grep -qE "(-dev$|^build-essential$|^gcc|^make$|^pkg-config$)" <<<"$1"' _ "$runtime_pkgs"

# one dpkg-query for the whole database: status, Depends and Provides of every installed package
declare -A is_installed=() depends_of=() provider=()
while IFS=$'\t' read -r st pkg deps provides; do
    [ "$st" = ii ] || continue
    is_installed[$pkg]=1
    depends_of[$pkg]=$deps
    for v in $(sed -E 's/\([^)]*\)//g; s/,/ /g' <<<"$provides"); do provider[${v%%:*}]+=" $pkg"; done
done < <(dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Depends}, ${Pre-Depends}\t${Provides}\n' 2>/dev/null | sed -E 's/^(..)[^\t]*/\1/')
installed() { [ -n "${is_installed[$1]:-}" ]; }
known_pkgs=1
for p in $runtime_pkgs; do
    if ! installed "$p" && ! apt-cache show --no-all-versions "$p" >/dev/null 2>&1; then
        known_pkgs=0
        echo "#   '$p' is no Debian package known here"
    fi
done
check "every runtime package is a real Debian package" test "$known_pkgs" = 1

if ! command -v dpkg >/dev/null 2>&1; then
    notok "dpkg is needed to map libraries to packages"
else
    ldd_out=$(ldd "$BIN")
    # library path -> owning package, with one `dpkg -S` for all of them (as listed and resolved;
    # after usrmerge dpkg may know a file under /lib or under /usr/lib)
    declare -A owner_of=()
    paths=()
    while read -r _ arrow path _; do
        [ "$arrow" = "=>" ] && [ -e "$path" ] || continue
        real=$(readlink -f "$path")
        paths+=("$path" "$real" "${real#/usr}")
    done <<<"$ldd_out"
    while IFS= read -r line; do
        pkg=${line%%: *}
        owner_of[${line#*: }]=${pkg%%:*}
    done < <(dpkg -S "${paths[@]}" 2>/dev/null | grep -v ', ')
    owner() {
        local real
        real=$(readlink -f "$1")
        echo "${owner_of[$1]:-${owner_of[$real]:-${owner_of[${real#/usr}]:-}}}"
    }
    needed=$(objdump -p "$BIN" 2>/dev/null | awk '$1 == "NEEDED" { print $2 }')
    [ -n "$needed" ] || needed=$(readelf -d "$BIN" 2>/dev/null | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p')
    direct_ok=1
    direct_pkgs=""
    for lib in $needed; do
        path=$(awk -v l="$lib" '$1 == l && $2 == "=>" { print $3 }' <<<"$ldd_out")
        [ -n "$path" ] || { echo "#   $lib: not found by ldd"; direct_ok=0; continue; }
        pkg=$(owner "$path")
        [ -n "$pkg" ] || { echo "#   $lib ($path): no package owns it"; direct_ok=0; continue; }
        direct_pkgs="$direct_pkgs $pkg"
        if [ "$pkg" = libc6 ]; then continue; fi # glibc: in every Debian image
        if ! grep -qx "$pkg" <<<"$runtime_pkgs"; then
            echo "#   $lib is in package $pkg, which the runtime stage does not install"
            direct_ok=0
        fi
    done
    echo "#   linked directly: $(tr ' ' '\n' <<<"$direct_pkgs" | sort -u | tr '\n' ' ')"
    check "every library build/fwpcast links directly is installed by name in the runtime stage" test "$direct_ok" = 1

    # the Depends closure of the runtime packages (and libc6), from this machine's dpkg database
    declare -A closure=()
    mapfile -t queue < <(echo libc6; echo "$runtime_pkgs")
    while [ ${#queue[@]} -gt 0 ]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        [ -n "${closure[$p]:-}" ] && continue
        closure[$p]=1
        installed "$p" || continue
        for alt in $(sed -E 's/\([^)]*\)//g; s/:[a-z0-9]+//g; s/[,|]/ /g' <<<"${depends_of[$p]}"); do
            if installed "$alt"; then
                queue+=("$alt")
            elif [ -n "${provider[$alt]:-}" ]; then
                for q in ${provider[$alt]}; do queue+=("$q"); done
            fi
        done
    done
    trans_ok=1
    while read -r lib arrow path _; do
        [ "$arrow" = "=>" ] && [ -e "$path" ] || continue
        pkg=$(owner "$path")
        if [ -z "$pkg" ]; then
            echo "#   $lib ($path): no package owns it"
            trans_ok=0
        elif [ -z "${closure[$pkg]:-}" ]; then
            echo "#   $lib comes from $pkg, which no runtime package depends on"
            trans_ok=0
        fi
    done <<<"$ldd_out"
    check "every library ldd lists comes with the runtime packages ($(grep -c '=>' <<<"$ldd_out") libraries, ${#closure[@]} packages)" test "$trans_ok" = 1
fi

# --- compose and systemd -------------------------------------------------------------------------
if [ -f "$COMPOSE" ]; then
    check "compose: restart: unless-stopped" grep -qE '^[[:space:]]+restart:[[:space:]]*"?unless-stopped"?' "$COMPOSE"
    check "compose: a volume mounted at /var/lib/fwpcast" grep -qE '^[[:space:]]+-[[:space:]]*"?[A-Za-z0-9_.-]+:/var/lib/fwpcast"?' "$COMPOSE"
    check "compose: the token comes from an env file" \
        bash -c 'grep -qE "^[[:space:]]+env_file:" "$1" && grep -q "FWPCAST_TOKEN=" deploy/fwpcast.env.example && ! grep -q "FWPCAST_TOKEN:" "$1"' _ "$COMPOSE"
    check "compose: builds deploy/Dockerfile and maps a port to 8080" \
        bash -c 'grep -qE "dockerfile:[[:space:]]*deploy/Dockerfile" "$1" && grep -qE ":8080\"?[[:space:]]*$" "$1"' _ "$COMPOSE"
else
    notok "$COMPOSE is missing"
fi
if [ -f "$UNIT" ]; then
    missing=""
    for k in 'DynamicUser=yes|User=' 'StateDirectory=fwpcast' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/fwpcast' \
        'NoNewPrivileges=yes' 'PrivateTmp=yes' 'ProtectHome=yes' 'CapabilityBoundingSet=' 'KillSignal=SIGTERM' \
        'ExecStart=/[^ ]*fwpcast serve' 'FWPCAST_DB=/var/lib/fwpcast/'; do
        grep -qE "^($k)" "$UNIT" || grep -qE "^Environment=($k)" "$UNIT" || missing="$missing $k"
    done
    check "systemd unit: user, state directory and hardening${missing:+ (missing:$missing)}" test -z "$missing"
    if command -v systemd-analyze >/dev/null 2>&1; then
        tmpunit=$(mktemp -d)/fwpcast.service
        sed "s#^ExecStart=[^ ]*#ExecStart=$ROOT/$BIN#" "$UNIT" >"$tmpunit"
        out=$(systemd-analyze verify "$tmpunit" 2>&1)
        rc=$?
        [ -z "$out" ] || sed 's/^/#   /' <<<"$out"
        check "systemd-analyze verify: no error or warning" test "$rc" = 0 -a -z "$out"
        rm -rf "$(dirname "$tmpunit")"
    else
        echo "#   systemd-analyze not installed: the unit's syntax is not verified here"
    fi
else
    notok "$UNIT is missing"
fi

# --- the same binary, run as the image runs it ---------------------------------------------------
failed_before_smoke=$failed
tmp=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/state" # as the image's VOLUME directory exists before the first start
env -u FWPCAST_TOKEN -u FWPCAST_TOKEN_FILE \
    FWPCAST_DB="$tmp/state/fwpcast.db" FWPCAST_BIND=127.0.0.1 FWPCAST_PORT=0 \
    FWPCAST_DATA="$ROOT/data" FWPCAST_STATIC="$ROOT/static" \
    "$BIN" serve >"$tmp/log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 200); do
    port=$(sed -nE 's#.*listening on http://[0-9.]+:([0-9]+)/.*#\1#p' "$tmp/log" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$port" ]; then
    notok "the binary serves with the image's environment"
    sed 's/^/#   /' "$tmp/log"
else
    ok "the binary serves with the image's environment (FWPCAST_* only, no flags)"
    healthy=0
    for _ in $(seq 1 100); do
        if FWPCAST_PORT=$port "$BIN" healthcheck >/dev/null 2>&1; then healthy=1; break; fi
        sleep 0.1
    done
    check "fwpcast healthcheck (the HEALTHCHECK) passes against it (port $port)" test "$healthy" = 1
    check "the dashboard is served from FWPCAST_STATIC" \
        bash -c 'curl -fsS -o "$2/index.html" "http://127.0.0.1:$1/" && grep -q "<title>fwpcast" "$2/index.html"' _ "$port" "$tmp"
    check "the database was created under FWPCAST_DB's directory" test -f "$tmp/state/fwpcast.db"
    kill -TERM "$server_pid"
    rc=124
    for _ in $(seq 1 100); do
        if ! kill -0 "$server_pid" 2>/dev/null; then wait "$server_pid"; rc=$?; break; fi
        sleep 0.1
    done
    server_pid=""
    check "SIGTERM (the STOPSIGNAL) stops it cleanly (exit $rc)" test "$rc" = 0
    check "fwpcast healthcheck fails once it has stopped" bash -c '! FWPCAST_PORT=$1 "$2" healthcheck >/dev/null 2>&1' _ "$port" "$BIN"
    [ "$failed" -eq "$failed_before_smoke" ] || sed 's/^/#   server: /' "$tmp/log"
fi

echo "docker-policy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
