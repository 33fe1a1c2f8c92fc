//! Helpers shared by the integration tests: a demo config on a temp database, a hand-set clock.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use kiosk::clock::ManualClock;
use kiosk::config::Config;
use kiosk::hub::QueueService;
use kiosk::store::Store;

/// 09:00 on Monday 2 March 2026 in Hanoi (02:00 UTC): inside the demo's opening hours.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap()
}

/// The demo config pointed at a database in `dir`.
pub fn demo_config(dir: &Path) -> Config {
    let mut c = Config::demo().expect("demo config is valid");
    c.db_path = dir.join("kiosk.sqlite");
    c
}

pub fn open(config: &Config, clock: &Arc<ManualClock>) -> QueueService {
    let store = Store::open(&config.db_path).expect("open store");
    QueueService::new(Arc::new(config.clone()), store, clock.clone()).expect("queue service")
}

pub fn clock_at(t: DateTime<Utc>) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(t))
}

/// The path of the built `kiosk` binary.
pub fn kiosk_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kiosk")
}

/// A loopback port nobody listens on right now (for a server a test starts later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
