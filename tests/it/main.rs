//! One integration-test binary, a module per area (one link, one place for helpers).

mod cli;
mod common;
mod config;
mod crash;
mod fake_printer;
mod hub;
mod printer;
mod queue;
