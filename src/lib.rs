//! Kiosk firmware for public administrative service points (Hanoi one-stop shops).
//!
//! A map of the crate, top to bottom; dependencies point down only:
//!
//! - [`cli`]: the `kiosk` command: parse arguments, load config, start roles. Wiring only.
//! - [`ui`]: the Slint touchscreen (`ui/*.slint`) and its adapters; callbacks hand work to the
//!   async runtime and never wait on the UI thread. `ui::screenshot` draws pages headless.
//! - [`hub`]: the application service. [`hub::QueueService`] applies one command at a time in
//!   one SQLite transaction; [`hub::Hub`] runs it on the thread that owns the write connection
//!   and broadcasts committed events to listeners.
//! - [`printer`]: ticket layout, ESC/POS encoding (raster, TCVN-3, ASCII), PNG preview, status,
//!   transports (serial, USB device, TCP, spool), and the printer thread.
//! - [`report`]: the outbox sender and wire format to the centre; [`centre`]: the reference
//!   receiver and city dashboard (`kiosk centre`).
//! - [`catalogue`], [`guides`]: the procedures and digital-citizen guides the kiosk shows.
//! - [`store`]: rusqlite with WAL and synchronous=FULL; migrations; tickets, counters, events.
//! - [`config`]: typed, validated site config; every problem reported with file, line, key.
//! - [`domain`]: pure rules: numbering, lifecycle, call-next with the priority ratio, quotas,
//!   the service day, the wait estimate. No I/O; time is an argument.
//! - [`clock`], [`text`]: small shared helpers (time as a dependency, Unicode NFC).
//! - [`bench`]: measured figures (`kiosk bench`).
//!
//! See `docs/architecture.md` for the design and the rules that keep tickets safe.

pub mod api;
pub mod assistant;
pub mod bench;
pub mod board;
pub mod callout;
pub mod catalogue;
pub mod centre;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod guides;
pub mod hub;
pub mod printer;
pub mod report;
pub mod store;
pub mod text;
pub mod ui;
