//! One integration-test binary, a module per area (one link, one place for helpers).

mod assistant;
mod board;
mod booking;
mod browser;
mod cli;
mod common;
mod config;
mod contract;
mod crash;
mod fake_printer;
mod fault_proxy;
mod hardening;
mod hub;
mod lan;
mod lifecycle;
mod postgres;
mod printer;
mod queue;
mod rating;
mod reporting;
mod theme;
mod translations;
mod updates;
