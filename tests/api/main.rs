//! HTTP tests over real sockets against a server bound to port 0.
#[path = "../support/mod.rs"]
mod support;

mod smoke;
