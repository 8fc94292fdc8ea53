//! Generates the gRPC message types from the vendored API definitions (`proto/`, Apache-2.0,
//! provenance in its README) with protox, a protobuf compiler in Rust: no system `protoc`.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let files = [
        "google/cloud/workflows/executions/v1/executions.proto",
        "google/cloud/workflows/v1/workflows.proto",
        "google/longrunning/operations.proto",
        "google/rpc/status.proto",
    ];
    println!("cargo:rerun-if-changed={}", root.display());
    let descriptors = match protox::compile(files, [&root]) {
        Ok(d) => d,
        Err(e) => panic!("the API definitions in proto/ do not compile: {e:?}"),
    };
    // Maps as BTreeMap: ordered, as everything that can reach a trace must be.
    if let Err(e) = prost_build::Config::new()
        .btree_map(["."])
        // Their comments hold examples in other languages, which rustdoc would run as tests.
        .disable_comments([".google.api", ".google.longrunning"])
        .compile_fds(descriptors)
    {
        panic!("cannot generate the gRPC messages: {e}");
    }
}
