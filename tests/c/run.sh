#!/usr/bin/env bash
# The C suite: checks that include/promlite.h is what cbindgen generates,
# installs libpromlite.{so,a} with ffi/install.sh, compiles the C tests and
# the README example with gcc -std=c11 -Wall -Wextra -Werror, links each once
# against libpromlite.a and once against libpromlite.so, and runs every
# binary directly and under valgrind (no errors, no definite/indirect leaks).
# Installs gcc, valgrind, binutils and pkg-config itself if they are missing.
# Runs every step, then exits non-zero if any failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

failed=0
passed=0
step() {
    local name=$1
    shift
    echo "--- $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "--- FAILED: $name"
    fi
}

ensure_tools() {
    local missing=()
    command -v gcc >/dev/null || missing+=(gcc)
    command -v valgrind >/dev/null || missing+=(valgrind)
    command -v readelf >/dev/null || missing+=(binutils)
    command -v pkg-config >/dev/null || missing+=(pkgconf)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]}"
    apt-get update -qq -o DPkg::Lock::Timeout=600 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
}

ensure_tools || { echo "cannot install the C toolchain" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
bin="$work/bin"
mkdir -p "$bin"

CFLAGS=(-std=c11 -Wall -Wextra -Werror -pthread -g)
# What static linking needs besides libpromlite.a: the system libraries Rust's std uses.
STATIC_LIBS=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"

compile() { # name source
    local name=$1 src=$2
    # Dynamic, with the flags pkg-config gives (as a user of an installed library would).
    # shellcheck disable=SC2046
    gcc "${CFLAGS[@]}" $(pkg-config --cflags promlite) -Itests/c "$src" -o "$bin/$name-dynamic" \
        $(pkg-config --libs promlite) -Wl,-rpath,"$prefix/lib" -lm || return 1
    gcc "${CFLAGS[@]}" -I"$prefix/include" -Itests/c "$src" -o "$bin/$name-static" \
        -L"$prefix/lib" -Wl,-Bstatic -lpromlite -Wl,-Bdynamic "${STATIC_LIBS[@]}" || return 1
    # Each binary must really be linked the way its name says.
    readelf -d "$bin/$name-dynamic" | grep -q 'NEEDED.*\[libpromlite\.so\.' ||
        { echo "$name-dynamic does not load libpromlite.so" >&2; return 1; }
    if readelf -d "$bin/$name-static" | grep -q 'NEEDED.*libpromlite'; then
        echo "$name-static loads libpromlite.so" >&2
        return 1
    fi
}

VALGRIND=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect)

run_tests() { # binary [valgrind...]
    local exe=$1
    shift
    local dir
    dir="$(mktemp -d "$work/db.XXXXXX")"
    "$@" "$exe" "$dir"
}

# The README example must print exactly this.
EXAMPLE_OUTPUT='{job="api"} 42
{job="web"} 7'

run_example() { # binary [valgrind...]
    local exe=$1
    shift
    local dir out
    dir="$(mktemp -d "$work/example.XXXXXX")"
    out="$(cd "$dir" && "$@" "$exe")" || { echo "example exited non-zero" >&2; return 1; }
    [ -f "$dir/metrics.db" ] || { echo "example did not create metrics.db" >&2; return 1; }
    if [ "$out" != "$EXAMPLE_OUTPUT" ]; then
        printf 'example printed:\n%s\nwant:\n%s\n' "$out" "$EXAMPLE_OUTPUT" >&2
        return 1
    fi
}

step "include/promlite.h matches cbindgen" cargo test --release -q -p promlite-ffi --test header
step "install libpromlite into $prefix" bash ffi/install.sh "$prefix"
step "pkg-config finds promlite" test "$(pkg-config --modversion promlite)" = \
    "$(sed -n 's/^#define PROMLITE_VERSION "\(.*\)"$/\1/p' include/promlite.h)"
step "compile tests/c/test_promlite.c" compile test_promlite tests/c/test_promlite.c
step "compile tests/c/example.c" compile example tests/c/example.c
step "compile tests/c/test_remote_write.c" compile test_remote_write tests/c/test_remote_write.c
step "compile tests/c/test_histogram.c" compile test_histogram tests/c/test_histogram.c
for link in static dynamic; do
    step "test_promlite ($link)" run_tests "$bin/test_promlite-$link"
    step "test_promlite ($link, valgrind)" run_tests "$bin/test_promlite-$link" "${VALGRIND[@]}"
    step "test_remote_write ($link)" run_tests "$bin/test_remote_write-$link"
    step "test_remote_write ($link, valgrind)" run_tests "$bin/test_remote_write-$link" "${VALGRIND[@]}"
    step "test_histogram ($link)" run_tests "$bin/test_histogram-$link"
    step "test_histogram ($link, valgrind)" run_tests "$bin/test_histogram-$link" "${VALGRIND[@]}"
    step "example ($link)" run_example "$bin/example-$link"
    step "example ($link, valgrind)" run_example "$bin/example-$link" "${VALGRIND[@]}"
done

echo "c suite steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
