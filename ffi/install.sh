#!/usr/bin/env bash
# Builds the C library in release and installs what C programs need under
# PREFIX (default: target/c):
#   PREFIX/include/promlite.h
#   PREFIX/lib/libpromlite.so.0.<minor>  (soname), libpromlite.so -> it
#   PREFIX/lib/libpromlite.a
#   PREFIX/lib/pkgconfig/promlite.pc
# so C code compiles with -IPREFIX/include and links with -LPREFIX/lib -lpromlite.
# Cargo names the artifacts libpromlite_ffi.* (the crate `promlite` already
# owns the name), so this step gives them the name C expects.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${1:-$root/target/c}"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p promlite-ffi

version="$(sed -n 's/^#define PROMLITE_VERSION "\(.*\)"$/\1/p' "$root/include/promlite.h")"
soname="$(readelf -d "$target/release/libpromlite_ffi.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[ -n "$version" ] && [ -n "$soname" ] || { echo "install.sh: version or soname not found" >&2; exit 1; }

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 "$root/include/promlite.h" "$prefix/include/promlite.h"
install -m 644 "$target/release/libpromlite_ffi.a" "$prefix/lib/libpromlite.a"
install -m 755 "$target/release/libpromlite_ffi.so" "$prefix/lib/$soname"
ln -sfn "$soname" "$prefix/lib/libpromlite.so"

# Static linking needs the system libraries Rust's std uses
# (`cargo rustc -p promlite-ffi --crate-type staticlib -- --print native-static-libs`).
cat > "$prefix/lib/pkgconfig/promlite.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: promlite
Description: The SQLite of metrics: Prometheus-style time series in one SQLite file, queried with PromQL
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lpromlite
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
PC
echo "installed promlite $version C library into $prefix"
