//! Generates the prost types for the vendored `proto/onnx.proto` (ONNX IR schema, Apache-2.0,
//! copied unmodified from the `onnx` 1.23 Python package) with a vendored `protoc`, so building
//! needs neither a system protoc nor network access.
fn main() {
    let protoc = protoc_bin_vendored::protoc_bin_path().expect("vendored protoc is available");
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC from the environment.
    unsafe { std::env::set_var("PROTOC", protoc) };
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    prost_build::Config::new()
        .compile_protos(&["proto/onnx.proto"], &["proto"])
        .expect("compiling onnx.proto");
}
