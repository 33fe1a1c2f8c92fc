//! Logs like a service: `tracing` with levels and fields on stderr. On a terminal: colours and
//! local timestamps. Under systemd (`$JOURNAL_STREAM` set): no colours and no timestamps, since
//! journald adds its own. `RUST_LOG` (e.g. `kiosk=debug`) overrides the default `info` level.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(terminal)
        .with_target(false);
    let result = if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().try_init()
    } else {
        builder.try_init()
    };
    // Already initialised (a test harness did it): keep that one.
    let _ = result;
}
