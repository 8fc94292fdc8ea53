//! The gRPC clients generated from `proto/` by `build.rs` (tonic-prost-build): what a Rust
//! user of the Workflows and Executions APIs would write against, for the tests in
//! `tests/` to drive `wfsim serve` with.

#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    missing_debug_implementations
)]
pub mod proto {
    pub mod google {
        pub mod api {
            include!(concat!(env!("OUT_DIR"), "/google.api.rs"));
        }
        pub mod rpc {
            include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
        }
        pub mod longrunning {
            include!(concat!(env!("OUT_DIR"), "/google.longrunning.rs"));
        }
        pub mod cloud {
            pub mod workflows {
                pub mod v1 {
                    include!(concat!(env!("OUT_DIR"), "/google.cloud.workflows.v1.rs"));
                }
                pub mod executions {
                    pub mod v1 {
                        include!(concat!(
                            env!("OUT_DIR"),
                            "/google.cloud.workflows.executions.v1.rs"
                        ));
                    }
                }
            }
        }
    }
}
