//! Kiosk firmware for public administrative service points (Hanoi one-stop shops).
//!
//! A map of the crate, top to bottom; dependencies point down only:
//!
//! - [`cli`]: the `kiosk` command: parse arguments, dispatch; one file per command family.
//! - [`ui`]: the Slint touchscreen (`ui/*.slint`) and its adapters; callbacks hand work to the
//!   async runtime and never wait on the UI thread. [`board`]: the lobby board app.
//! - [`app`]: the one place a process starts and stops (store, hub thread, printer thread,
//!   runtime, LAN API, reporter, watchdog); SIGTERM drains them in order. [`supervise`]:
//!   sd_notify and the stop signals.
//! - [`api`]: the hub's HTTP server on the LAN; [`report`]: the outbox sender to the centre;
//!   [`centre`]: the reference receiver and city dashboard (`kiosk centre`).
//! - [`ticketing`]: the citizen's path, tap to paper: issue (hub) -> what the paper says ->
//!   print (printer thread) -> record the outcome. The only module that knows both ends.
//! - [`assistant`]: question -> procedure, offline; [`callout`]: the spoken call-out.
//! - [`catalogue`], [`guides`]: the procedures and digital-citizen guides the kiosk shows.
//! - [`hub`]: the application service. [`hub::QueueService`] applies one command at a time in
//!   one SQLite transaction; [`hub::Hub`] runs it on the thread that owns the write connection
//!   and broadcasts committed events to listeners.
//! - [`store`]: rusqlite with WAL and synchronous=FULL; migrations; tickets, counters, events.
//! - [`config`]: typed, validated site config; every problem reported with file, line, key.
//! - [`printer`]: ticket layout, ESC/POS encoding (raster, TCVN-3, ASCII), PNG preview, status,
//!   transports (serial, USB device, TCP, spool), the printer thread and its own settings. It
//!   knows nothing of queues, the hub or the site config.
//! - [`wire`], [`sse`]: the LAN's JSON messages, one type per message used by both ends; a
//!   server-sent events reader.
//! - [`domain`]: pure rules: numbering, lifecycle, call-next with the priority ratio, quotas,
//!   the service day, the wait estimate; the vocabulary ([`domain::EventKind`],
//!   [`domain::Reason`]) and the catalogue's [`domain::Procedure`]. No I/O; time is an argument.
//! - [`web`]: what both HTTP servers do to every request and answer (one JSON refusal shape,
//!   security headers, allowed hosts, JSON-only bodies). [`identity`]: citizens' ids,
//!   normalised and kept only as keyed hashes.
//! - [`clock`], [`text`]: time as a dependency; Vietnamese text (NFC, folding, ASCII).
//! - [`bench`]: measured figures (`kiosk bench`).
//!
//! See `docs/architecture.md` for the design and the rules that keep tickets safe.

pub mod api;
pub mod app;
pub mod assistant;
pub mod bench;
pub mod board;
pub mod bundle;
pub mod callout;
pub mod catalogue;
pub mod centre;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod dossier;
pub mod guides;
pub mod hub;
pub mod identity;
pub mod printer;
pub mod report;
pub mod scanner;
pub mod sim;
pub mod speech;
pub mod sse;
pub mod store;
pub mod supervise;
pub mod text;
pub mod ticketing;
pub mod ui;
pub mod updates;
pub mod web;
pub mod wire;
