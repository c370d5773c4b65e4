//! `include/promlite.h` must be exactly what cbindgen generates from
//! `ffi/src` with `ffi/cbindgen.toml`. Set `PROMLITE_BLESS=1` to rewrite it.

use std::path::Path;

fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("ffi/cbindgen.toml");
    // cbindgen follows the `mod` items from lib.rs, so the header keeps the
    // crate's order; parsing the source directly keeps cargo out of the test.
    let builder = cbindgen::Builder::new().with_config(config).with_src(crate_dir.join("src/lib.rs"));
    let mut out = Vec::new();
    builder.generate().expect("cbindgen generates the header").write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

#[test]
fn checked_in_header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/promlite.h");
    let generated = generate();
    if std::env::var_os("PROMLITE_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/promlite.h");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != generated {
        let line = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| checked_in.lines().count().min(generated.lines().count()) + 1, |i| i + 1);
        panic!(
            "include/promlite.h differs from cbindgen's output from ffi/src (first at line {line}); \
             regenerate with `PROMLITE_BLESS=1 cargo test -p promlite-ffi --test header` and commit it"
        );
    }
}

#[test]
fn version_macros_match_the_crate() {
    let header = generate();
    let define = |name: &str| {
        let prefix = format!("#define {name} ");
        let line = header.lines().find_map(|l| l.strip_prefix(&prefix).map(str::to_string));
        line.unwrap_or_else(|| panic!("the header defines {name}"))
    };
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(define("PROMLITE_VERSION"), format!("\"{version}\""), "update after_includes in ffi/cbindgen.toml");
    assert_eq!(define("PROMLITE_VERSION_NUMBER"), promlite_ffi::version_number(version).to_string());
}
