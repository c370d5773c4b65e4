//! The README stays true: its C example is the one the C suite compiles and
//! runs, and its test command is the one CI runs. (Its Rust block runs as a
//! doctest of `promlite`; its Python block runs in the Python suite.)

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The contents of every fenced block tagged `lang`.
fn blocks(markdown: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").expect("closed fence");
        out.push(body[..end].to_string());
        rest = &body[end..];
    }
    out
}

#[test]
fn readme_c_example_is_the_tested_one() {
    let readme = read("README.md");
    let c = blocks(&readme, "c");
    assert_eq!(c.len(), 1, "one C block");
    assert_eq!(c[0], read("tests/c/example.c"), "README's C block must equal tests/c/example.c");
}

#[test]
fn readme_commands_are_the_ones_ci_runs() {
    let readme = read("README.md");
    let sh = blocks(&readme, "sh");
    assert_eq!(sh[0].trim(), "cargo run --release -p promlite --features http -- serve");
    assert_eq!(sh[1].trim(), "./scripts/test-all.sh");
    assert!(read(".ci/run").contains("scripts/test-all.sh"), ".ci/run calls the README's test command");
}
