//! The gRPC clients of the vendored API definitions (`proto/`), as any Rust user of them
//! would generate them: tonic-prost-build over a descriptor set that protox compiles, so no
//! system `protoc` is needed.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "google/cloud/workflows/executions/v1/executions.proto",
        "google/cloud/workflows/v1/workflows.proto",
    ];
    println!("cargo:rerun-if-changed={}", root.display());
    let descriptors = match protox::compile(files, [&root]) {
        Ok(d) => d,
        Err(e) => panic!("the API definitions in proto/ do not compile: {e:?}"),
    };
    if let Err(e) = tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(descriptors)
    {
        panic!("cannot generate the gRPC clients: {e}");
    }
}
