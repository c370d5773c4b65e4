fn main() {
    // Platform link flags for a Node addon (e.g. `-undefined dynamic_lookup` on macOS).
    napi_build::setup();
}
