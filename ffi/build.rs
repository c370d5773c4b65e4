//! Gives the shared library the soname C programs record (`libpromlite.so.0.<minor>`
//! while the major version is 0, as cargo-c does), since C links it as `-lpromlite`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = env("CARGO_PKG_VERSION_MAJOR");
        let minor = env("CARGO_PKG_VERSION_MINOR");
        let abi = if major == "0" { format!("0.{minor}") } else { major };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpromlite.so.{abi}");
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"))
}
