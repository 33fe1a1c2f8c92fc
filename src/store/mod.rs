//! The durable store: SQLite (bundled) in WAL mode with synchronous=FULL, migrations tracked in
//! `user_version`, one SQL statement per method and row mapping in one place.
//! Every state change runs in one `BEGIN IMMEDIATE` transaction that also appends its event rows
//! (the audit log reporting reads). Depends on `domain` for the types it maps; no queue rules.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use thiserror::Error;

mod bookings;
pub use bookings::{BookingState, StoredBooking};

use crate::domain::{Candidate, Channel, EventKind, IssuedSoFar, Ticket, TicketState};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "database {path} has schema version {found}, newer than this program knows ({known}); upgrade the program"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database connection closed")]
    Closed,
    /// The identity key beside the database cannot be read or made (`crate::identity`).
    #[error("{0}")]
    Key(String),
    #[error("database row {table}#{id} is corrupt: {what}")]
    Corrupt {
        table: &'static str,
        id: i64,
        what: String,
    },
}

/// Schema migrations; `user_version` is the number applied. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: tickets, counters, the event log, meta.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE tickets (
        id             INTEGER PRIMARY KEY,
        service_day    TEXT    NOT NULL,
        issued_service TEXT    NOT NULL,
        seq            INTEGER NOT NULL,
        number         INTEGER NOT NULL,
        code           TEXT    NOT NULL,
        service_id     TEXT    NOT NULL,
        priority_group TEXT,
        channel        TEXT    NOT NULL,
        state          TEXT    NOT NULL,
        counter        INTEGER,
        recalls        INTEGER NOT NULL DEFAULT 0,
        arrived_at     INTEGER NOT NULL,
        issued_at      INTEGER NOT NULL,
        called_at      INTEGER,
        serving_at     INTEGER,
        finished_at    INTEGER,
        quota_bucket   TEXT    NOT NULL,
        citizen_hash   TEXT,
        UNIQUE (service_day, issued_service, seq)
    );
    CREATE INDEX tickets_by_state ON tickets (service_day, state, service_id, arrived_at);
    CREATE INDEX tickets_by_counter ON tickets (counter, state);
    CREATE INDEX tickets_by_citizen ON tickets (service_day, citizen_hash) WHERE citizen_hash IS NOT NULL;
    CREATE TABLE counter_state (
        counter       INTEGER PRIMARY KEY,
        normal_streak INTEGER NOT NULL DEFAULT 0,
        paused_reason TEXT
    );
    CREATE TABLE events (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        at             INTEGER NOT NULL,
        kind           TEXT    NOT NULL,
        ticket_id      INTEGER,
        code           TEXT,
        service_id     TEXT,
        counter        INTEGER,
        priority_group TEXT,
        detail         TEXT
    );
    "#,
    // 2: the procedure catalogue shown on the kiosk.
    r#"
    CREATE TABLE procedures (
        code      TEXT PRIMARY KEY,
        name      TEXT NOT NULL,
        field     TEXT NOT NULL,
        level     TEXT NOT NULL,
        documents TEXT NOT NULL,
        fee       TEXT NOT NULL,
        time      TEXT NOT NULL,
        steps     TEXT NOT NULL,
        online    TEXT NOT NULL,
        source    TEXT NOT NULL
    );
    CREATE INDEX procedures_by_field ON procedures (field);
    "#,
    // 3: the reporting outbox: the event log is the outbox; this row is the sender's cursor.
    r#"
    CREATE TABLE outbox_state (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        sent_up_to INTEGER NOT NULL DEFAULT 0,
        dropped    INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO outbox_state (id) VALUES (1);
    CREATE INDEX tickets_by_called ON tickets (service_day, called_at);
    "#,
    // 4: the national catalogue: channels as rows, legal basis, portal page, content hash.
    r#"
    ALTER TABLE procedures ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE procedures ADD COLUMN url TEXT NOT NULL DEFAULT '';
    ALTER TABLE procedures ADD COLUMN hash TEXT NOT NULL DEFAULT '';
    CREATE TABLE procedure_channels (
        code        TEXT    NOT NULL REFERENCES procedures (code) ON DELETE CASCADE,
        ord         INTEGER NOT NULL,
        form        TEXT    NOT NULL,
        time        TEXT    NOT NULL,
        fee         TEXT    NOT NULL,
        description TEXT    NOT NULL,
        PRIMARY KEY (code, ord)
    );
    "#,
    // 5: citizens' ratings, one per ticket (the primary key keeps it so across processes);
    // no identity: the ticket, counter, service and field only.
    r#"
    CREATE TABLE ratings (
        ticket_id  INTEGER PRIMARY KEY REFERENCES tickets (id),
        at         INTEGER NOT NULL,
        service_day TEXT   NOT NULL,
        score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
        reasons    TEXT    NOT NULL DEFAULT '[]',
        counter    INTEGER NOT NULL,
        service_id TEXT    NOT NULL,
        field      TEXT    NOT NULL
    );
    CREATE INDEX ratings_by_day ON ratings (service_day, counter);
    "#,
    // 6: numbers booked online, pulled from the centre (see `store::bookings`); a booked
    // ticket names its booking and slot.
    r#"
    CREATE TABLE bookings (
        code         TEXT    PRIMARY KEY,
        service_day  TEXT    NOT NULL,
        service_id   TEXT    NOT NULL,
        field        TEXT,
        slot_start   INTEGER NOT NULL,
        slot_end     INTEGER NOT NULL,
        booked_at    INTEGER NOT NULL,
        citizen_hash TEXT,
        state        TEXT    NOT NULL
                     CHECK (state IN ('booked', 'checked_in', 'late', 'released', 'cancelled')),
        ticket_id    INTEGER REFERENCES tickets (id),
        pulled_at    INTEGER NOT NULL
    );
    CREATE INDEX bookings_by_day ON bookings (service_day, state);
    CREATE INDEX bookings_by_citizen ON bookings (service_day, citizen_hash)
        WHERE citizen_hash IS NOT NULL;
    ALTER TABLE tickets ADD COLUMN booking_code TEXT;
    ALTER TABLE tickets ADD COLUMN slot_start INTEGER;
    ALTER TABLE tickets ADD COLUMN slot_end INTEGER;
    "#,
    // 7: the wait estimate the citizen was shown at issue (minutes), to judge it by.
    r#"
    ALTER TABLE tickets ADD COLUMN est_low_min INTEGER;
    ALTER TABLE tickets ADD COLUMN est_high_min INTEGER;
    "#,
];

/// One stored rating, as the hub and its reports read it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRating {
    pub ticket_id: i64,
    pub at: DateTime<Utc>,
    pub score: u8,
    pub reasons: Vec<String>,
    pub counter: u32,
    pub service_id: String,
    pub field: String,
}

/// What one counter did on a day (the supervisor's page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterDayStats {
    pub counter: u32,
    pub served: u32,
    pub no_shows: u32,
    pub mean_service_seconds: Option<f64>,
}

/// Ratings of one counter (or all) on one day: how many, and their mean.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RatingSummary {
    pub count: u32,
    pub average: Option<f64>,
}

/// An entry of the audit log, as stored and as broadcast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Row id: a total order of everything that happened at this point.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub ticket_id: Option<i64>,
    pub code: Option<String>,
    pub service_id: Option<String>,
    pub counter: Option<u32>,
    pub priority_group: Option<String>,
    /// Kind-specific facts, as JSON (e.g. the service a ticket was transferred from).
    pub detail: Option<serde_json::Value>,
}

impl Event {
    /// An event about a ticket, not yet stored (id 0).
    pub fn for_ticket(kind: EventKind, ticket: &Ticket, at: DateTime<Utc>) -> Event {
        Event {
            id: 0,
            at,
            kind,
            ticket_id: Some(ticket.id),
            code: Some(ticket.code.clone()),
            service_id: Some(ticket.service_id.clone()),
            counter: ticket.counter,
            priority_group: ticket.priority_group.clone(),
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Event {
        self.detail = Some(detail);
        self
    }
}

/// A ticket about to be inserted: everything but the row id.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub ticket: Ticket,
    pub quota_bucket: String,
    pub citizen_hash: Option<String>,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

const TICKET_COLUMNS: &str = "id, service_day, issued_service, seq, number, code, service_id, \
     priority_group, channel, state, counter, recalls, arrived_at, issued_at, called_at, \
     serving_at, finished_at, booking_code, slot_start, slot_end";

/// Row -> Ticket, the one place that knows the column order of `TICKET_COLUMNS`.
fn map_ticket(row: &Row) -> rusqlite::Result<Result<Ticket, StoreError>> {
    let id: i64 = row.get(0)?;
    let corrupt = |what: String| StoreError::Corrupt {
        table: "tickets",
        id,
        what,
    };
    let day: String = row.get(1)?;
    let Ok(service_day) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
        return Ok(Err(corrupt(format!("service_day {day:?}"))));
    };
    let channel: String = row.get(8)?;
    let Some(channel) = Channel::parse(&channel) else {
        return Ok(Err(corrupt(format!("channel {channel:?}"))));
    };
    let state: String = row.get(9)?;
    let Some(state) = TicketState::parse(&state) else {
        return Ok(Err(corrupt(format!("state {state:?}"))));
    };
    Ok(Ok(Ticket {
        id,
        service_day,
        issued_service: row.get(2)?,
        seq: row.get(3)?,
        number: row.get(4)?,
        code: row.get(5)?,
        service_id: row.get(6)?,
        priority_group: row.get(7)?,
        channel,
        state,
        counter: row.get(10)?,
        recalls: row.get(11)?,
        arrived_at: from_ms(row.get(12)?),
        issued_at: from_ms(row.get(13)?),
        called_at: row.get::<_, Option<i64>>(14)?.map(from_ms),
        serving_at: row.get::<_, Option<i64>>(15)?.map(from_ms),
        finished_at: row.get::<_, Option<i64>>(16)?.map(from_ms),
        booked: match (
            row.get::<_, Option<String>>(17)?,
            row.get::<_, Option<i64>>(18)?,
            row.get::<_, Option<i64>>(19)?,
        ) {
            (Some(code), Some(start), Some(end)) => Some(crate::domain::Booked {
                code,
                slot_start: from_ms(start),
                slot_end: from_ms(end),
            }),
            _ => None,
        },
    }))
}

fn map_event(row: &Row) -> rusqlite::Result<Event> {
    let detail: Option<String> = row.get(8)?;
    let word: String = row.get(2)?;
    // The log is written only by this program; a word it does not know is a corrupt row (or a
    // newer program's), refused rather than guessed.
    let kind = EventKind::from_word(&word).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            format!("unknown event kind \"{word}\"").into(),
        )
    })?;
    Ok(Event {
        id: row.get(0)?,
        at: from_ms(row.get(1)?),
        kind,
        ticket_id: row.get(3)?,
        code: row.get(4)?,
        service_id: row.get(5)?,
        counter: row.get(6)?,
        priority_group: row.get(7)?,
        detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
    })
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open (creating folder and file if needed), set the durability pragmas, migrate.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        // WAL lets readers (status, reporting) run beside the one writer; synchronous=FULL makes
        // every commit durable before it returns, so a printed ticket is never lost to a power cut.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let known = MIGRATIONS.len() as i64;
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Start a write transaction. `BEGIN IMMEDIATE` takes the write lock at once, so two
    /// processes on one database (a kiosk and a CLI) serialise instead of failing mid-way.
    pub fn write(&mut self) -> Result<Tx<'_>, StoreError> {
        Ok(Tx {
            tx: self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?,
        })
    }

    /// Read-only queries share the transaction type; dropping it without commit rolls back.
    pub fn read(&mut self) -> Result<Tx<'_>, StoreError> {
        Ok(Tx {
            tx: self
                .conn
                .transaction_with_behavior(TransactionBehavior::Deferred)?,
        })
    }

    /// SQLite's `PRAGMA data_version`: it changes when another connection (another process,
    /// `kiosk issue` in a second terminal) commits to the file, never for this connection's
    /// own writes.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "integrity_check", |r| r.get(0))?)
    }

    /// A value from the meta table, created with `init` when missing.
    pub fn meta_or_init(
        &mut self,
        key: &str,
        init: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        let tx = self.write()?;
        let existing: Option<String> = tx
            .tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        let value = match existing {
            Some(v) => v,
            None => {
                let v = init();
                tx.tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![key, v],
                )?;
                v
            }
        };
        tx.commit()?;
        Ok(value)
    }

    /// A value from the meta table, if set.
    pub fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let tx = self.read()?;
        Ok(tx
            .tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Set (or with None, remove) a meta value.
    pub fn set_meta(&mut self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        let tx = self.write()?;
        match value {
            Some(v) => tx.tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => tx.tx.execute("DELETE FROM meta WHERE key = ?1", [key])?,
        };
        tx.commit()?;
        Ok(())
    }
}

/// One connection kept open beside the hub's writer for a long-lived reader (the board feed,
/// the metrics, the reporter), instead of opening the database on every read. Opened on first
/// use and again after an error. Use it from blocking code (`spawn_blocking`), not async tasks.
#[derive(Clone)]
pub struct SharedStore {
    path: PathBuf,
    conn: std::sync::Arc<std::sync::Mutex<Option<Store>>>,
}

impl SharedStore {
    pub fn new(path: &Path) -> SharedStore {
        SharedStore {
            path: path.to_path_buf(),
            conn: Default::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` on the kept connection; an error drops the connection so the next call reopens.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            *guard = Some(Store::open(&self.path)?);
        }
        let Some(store) = guard.as_mut() else {
            return Err(StoreError::Closed);
        };
        let result = f(store);
        if result.is_err() {
            *guard = None;
        }
        result
    }
}

/// Waiting, called and done counts of one service in one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCounts {
    pub waiting: u32,
    pub called: u32,
    pub serving: u32,
    pub done: u32,
    pub no_show: u32,
    pub cancelled: u32,
    pub issued: u32,
}

/// One open transaction.
pub struct Tx<'c> {
    tx: rusqlite::Transaction<'c>,
}

impl Tx<'_> {
    pub fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit()?)
    }

    /// How many tickets a service has numbered today, and the last printed number.
    pub fn issued_so_far(&self, day: NaiveDate, service: &str) -> Result<IssuedSoFar, StoreError> {
        let row: Option<(u32, u32)> = self
            .tx
            .prepare_cached(
                "SELECT seq, number FROM tickets WHERE service_day = ?1 AND issued_service = ?2 \
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![day_key(day), service], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(match row {
            Some((seq, number)) => IssuedSoFar {
                count: seq,
                last_number: Some(number),
            },
            None => IssuedSoFar::default(),
        })
    }

    /// Printed numbers of a service's tickets that are still active today.
    pub fn active_numbers(&self, day: NaiveDate, service: &str) -> Result<Vec<u32>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT number FROM tickets WHERE service_day = ?1 AND issued_service = ?2 \
             AND state IN ('waiting', 'called', 'serving')",
        )?;
        let rows = stmt.query_map(params![day_key(day), service], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Insert a ticket; returns it with its row id.
    pub fn insert_ticket(&self, new: &NewTicket) -> Result<Ticket, StoreError> {
        let t = &new.ticket;
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO tickets (service_day, issued_service, seq, number, code, service_id, \
             priority_group, channel, state, counter, recalls, arrived_at, issued_at, called_at, \
             serving_at, finished_at, quota_bucket, citizen_hash, booking_code, slot_start, \
             slot_end) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
             ?19, ?20, ?21)",
        )?;
        stmt.execute(params![
            day_key(t.service_day),
            t.issued_service,
            t.seq,
            t.number,
            t.code,
            t.service_id,
            t.priority_group,
            t.channel.as_str(),
            t.state.as_str(),
            t.counter,
            t.recalls,
            ms(t.arrived_at),
            ms(t.issued_at),
            t.called_at.map(ms),
            t.serving_at.map(ms),
            t.finished_at.map(ms),
            new.quota_bucket,
            new.citizen_hash,
            t.booked.as_ref().map(|b| b.code.as_str()),
            t.booked.as_ref().map(|b| ms(b.slot_start)),
            t.booked.as_ref().map(|b| ms(b.slot_end)),
        ])?;
        let mut stored = t.clone();
        stored.id = self.tx.last_insert_rowid();
        Ok(stored)
    }

    /// Write back a ticket's mutable fields after a lifecycle transition.
    pub fn update_ticket(&self, t: &Ticket) -> Result<(), StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "UPDATE tickets SET service_id = ?2, state = ?3, counter = ?4, recalls = ?5, \
             called_at = ?6, serving_at = ?7, finished_at = ?8 WHERE id = ?1",
        )?;
        stmt.execute(params![
            t.id,
            t.service_id,
            t.state.as_str(),
            t.counter,
            t.recalls,
            t.called_at.map(ms),
            t.serving_at.map(ms),
            t.finished_at.map(ms),
        ])?;
        Ok(())
    }

    fn one_ticket(
        &self,
        sql_where: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<Ticket>, StoreError> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE {sql_where} LIMIT 1");
        let mut stmt = self.tx.prepare_cached(&sql)?;
        match stmt.query_row(params, map_ticket).optional()? {
            Some(t) => Ok(Some(t?)),
            None => Ok(None),
        }
    }

    pub fn ticket(&self, id: i64) -> Result<Option<Ticket>, StoreError> {
        self.one_ticket("id = ?1", [id])
    }

    /// Today's ticket with this printed code: the active one if any (after a wrap an old,
    /// finished ticket may share the code), else the most recent.
    pub fn ticket_by_code(&self, day: NaiveDate, code: &str) -> Result<Option<Ticket>, StoreError> {
        self.one_ticket(
            "service_day = ?1 AND code = ?2 \
             ORDER BY state IN ('waiting', 'called', 'serving') DESC, id DESC",
            params![day_key(day), code],
        )
    }

    /// The ticket a counter is busy with (called or serving), if any.
    pub fn current_at_counter(&self, counter: u32) -> Result<Option<Ticket>, StoreError> {
        self.one_ticket(
            "counter = ?1 AND state IN ('called', 'serving') ORDER BY called_at DESC",
            [counter],
        )
    }

    /// Waiting tickets in any of `services`, as call-next sees them.
    pub fn waiting_candidates(
        &self,
        day: NaiveDate,
        services: &[String],
    ) -> Result<Vec<Candidate>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, arrived_at, priority_group IS NOT NULL FROM tickets \
             WHERE service_day = ?1 AND state = 'waiting' AND service_id = ?2",
        )?;
        let mut out = Vec::new();
        for s in services {
            let rows = stmt.query_map(params![day_key(day), s], |r| {
                Ok(Candidate {
                    ticket_id: r.get(0)?,
                    arrived_at: from_ms(r.get(1)?),
                    priority: r.get(2)?,
                })
            })?;
            for c in rows {
                out.push(c?);
            }
        }
        Ok(out)
    }

    /// Waiting tickets in a service that are ahead of `ticket` by arrival (then by id).
    pub fn waiting_ahead(&self, ticket: &Ticket) -> Result<u32, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT COUNT(*) FROM tickets WHERE service_day = ?1 AND state = 'waiting' \
             AND service_id = ?2 AND (arrived_at < ?3 OR (arrived_at = ?3 AND id < ?4))",
            )?
            .query_row(
                params![
                    day_key(ticket.service_day),
                    ticket.service_id,
                    ms(ticket.arrived_at),
                    ticket.id
                ],
                |r| r.get(0),
            )?)
    }

    /// Mean service time (seconds) of a service's last `n` finished tickets today.
    pub fn recent_service_secs(
        &self,
        day: NaiveDate,
        service: &str,
        n: u32,
    ) -> Result<Option<(f64, u32)>, StoreError> {
        let row: (Option<f64>, u32) = self
            .tx
            .prepare_cached(
                "SELECT AVG(d), COUNT(*) FROM (SELECT (finished_at - serving_at) / 1000.0 AS d \
             FROM tickets WHERE service_day = ?1 AND service_id = ?2 AND state = 'done' \
             AND serving_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?3)",
            )?
            .query_row(params![day_key(day), service, n], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(row.0.map(|avg| (avg, row.1)))
    }

    pub fn append_event(&self, e: &Event) -> Result<Event, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO events (at, kind, ticket_id, code, service_id, counter, priority_group, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        stmt.execute(params![
            ms(e.at),
            e.kind.as_str(),
            e.ticket_id,
            e.code,
            e.service_id,
            e.counter,
            e.priority_group,
            e.detail.as_ref().map(|d| d.to_string()),
        ])?;
        let mut stored = e.clone();
        stored.id = self.tx.last_insert_rowid();
        Ok(stored)
    }

    /// The last `limit` events of `kinds`, newest first.
    pub fn recent_events(&self, kinds: &[EventKind], limit: u32) -> Result<Vec<Event>, StoreError> {
        let placeholders = vec!["?"; kinds.len()].join(", ");
        let sql = format!(
            "SELECT id, at, kind, ticket_id, code, service_id, counter, priority_group, detail \
             FROM events WHERE kind IN ({placeholders}) ORDER BY id DESC LIMIT {limit}"
        );
        let mut stmt = self.tx.prepare(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params_from_iter(kinds.iter().map(|k| k.as_str())),
            map_event,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Events after `after_id` in order (the audit log, for reporting and tests).
    pub fn events_after(&self, after_id: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, at, kind, ticket_id, code, service_id, counter, priority_group, detail \
             FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_id, limit], map_event)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn normal_streak(&self, counter: u32) -> Result<u32, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT normal_streak FROM counter_state WHERE counter = ?1")?
            .query_row([counter], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    pub fn set_normal_streak(&self, counter: u32, streak: u32) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO counter_state (counter, normal_streak) VALUES (?1, ?2) \
             ON CONFLICT (counter) DO UPDATE SET normal_streak = excluded.normal_streak",
            params![counter, streak],
        )?;
        Ok(())
    }

    /// Why a counter is paused, or None when it is open.
    pub fn paused_reason(&self, counter: u32) -> Result<Option<String>, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT paused_reason FROM counter_state WHERE counter = ?1")?
            .query_row([counter], |r| r.get(0))
            .optional()?
            .flatten())
    }

    pub fn set_paused(&self, counter: u32, reason: Option<&str>) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO counter_state (counter, paused_reason) VALUES (?1, ?2) \
             ON CONFLICT (counter) DO UPDATE SET paused_reason = excluded.paused_reason",
            params![counter, reason],
        )?;
        Ok(())
    }

    /// The tickets a citizen holds today, as quota entries (cancelled ones do not count).
    /// Tickets checked in from a booking are counted with the booking
    /// (`Tx::citizen_bookings`), not twice.
    pub fn citizen_buckets(
        &self,
        day: NaiveDate,
        citizen_hash: &str,
    ) -> Result<Vec<crate::domain::Held>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT quota_bucket, code FROM tickets WHERE service_day = ?1 AND citizen_hash = ?2 \
             AND state != 'cancelled' \
             AND id NOT IN (SELECT ticket_id FROM bookings WHERE ticket_id IS NOT NULL)",
        )?;
        let rows = stmt.query_map(params![day_key(day), citizen_hash], |r| {
            let code: String = r.get(1)?;
            Ok(crate::domain::Held {
                bucket: r.get(0)?,
                what: code.clone(),
                what_vi: code,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Erase identity hashes of service days before `keep_from`. Returns how many were erased.
    pub fn purge_citizen_hashes(&self, keep_from: NaiveDate) -> Result<usize, StoreError> {
        let tickets = self.tx.execute(
            "UPDATE tickets SET citizen_hash = NULL WHERE citizen_hash IS NOT NULL AND service_day < ?1",
            [day_key(keep_from)],
        )?;
        let bookings = self.tx.execute(
            "UPDATE bookings SET citizen_hash = NULL WHERE citizen_hash IS NOT NULL AND service_day < ?1",
            [day_key(keep_from)],
        )?;
        Ok(tickets + bookings)
    }

    /// Per-service counts for one day, keyed by the service a ticket is in now.
    pub fn service_counts(
        &self,
        day: NaiveDate,
    ) -> Result<std::collections::BTreeMap<String, ServiceCounts>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT service_id, state, COUNT(*) FROM tickets WHERE service_day = ?1 \
             GROUP BY service_id, state",
        )?;
        let mut out: std::collections::BTreeMap<String, ServiceCounts> = Default::default();
        let rows = stmt.query_map([day_key(day)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        for row in rows {
            let (service, state, n) = row?;
            let c = out.entry(service).or_default();
            c.issued += n;
            match TicketState::parse(&state) {
                Some(TicketState::Waiting) => c.waiting += n,
                Some(TicketState::Called) => c.called += n,
                Some(TicketState::Serving) => c.serving += n,
                Some(TicketState::Done) => c.done += n,
                Some(TicketState::NoShow) => c.no_show += n,
                Some(TicketState::Cancelled) => c.cancelled += n,
                None => {}
            }
        }
        Ok(out)
    }

    pub fn procedure_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .tx
            .query_row("SELECT COUNT(*) FROM procedures", [], |r| r.get(0))?)
    }

    /// Insert or replace a procedure with its channels; `source` says where it came from
    /// (demo, national) and `hash` identifies its content, so a re-import can tell what changed.
    pub fn upsert_procedure(
        &self,
        p: &crate::domain::Procedure,
        source: &str,
        hash: &str,
    ) -> Result<(), StoreError> {
        let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        self.delete_procedure(&p.code)?;
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO procedures \
             (code, name, field, level, documents, fee, time, steps, online, source, \
              legal_basis, url, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        stmt.execute(params![
            p.code,
            p.name,
            p.field,
            p.level,
            json(&p.documents),
            p.fee,
            p.time,
            json(&p.steps),
            p.online,
            source,
            json(&p.legal_basis),
            p.url,
            hash
        ])?;
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO procedure_channels (code, ord, form, time, fee, description) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (i, c) in p.channels.iter().enumerate() {
            stmt.execute(params![
                p.code,
                i as i64,
                c.form,
                c.time,
                c.fee,
                c.description
            ])?;
        }
        Ok(())
    }

    /// Remove a procedure and its channels.
    pub fn delete_procedure(&self, code: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("DELETE FROM procedure_channels WHERE code = ?1")?
            .execute([code])?;
        self.tx
            .prepare_cached("DELETE FROM procedures WHERE code = ?1")?
            .execute([code])?;
        Ok(())
    }

    /// (code, source, hash) of every stored procedure.
    pub fn procedure_hashes(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT code, source, hash FROM procedures ORDER BY code")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every procedure with its channels, by field then name.
    pub fn procedures(&self) -> Result<Vec<crate::domain::Procedure>, StoreError> {
        let mut channels: std::collections::HashMap<String, Vec<crate::domain::SubmissionChannel>> =
            std::collections::HashMap::new();
        let mut stmt = self.tx.prepare_cached(
            "SELECT code, form, time, fee, description FROM procedure_channels \
             ORDER BY code, ord",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                crate::domain::SubmissionChannel {
                    form: r.get(1)?,
                    time: r.get(2)?,
                    fee: r.get(3)?,
                    description: r.get(4)?,
                },
            ))
        })?;
        for row in rows {
            let (code, c) = row?;
            channels.entry(code).or_default().push(c);
        }
        let mut stmt = self.tx.prepare_cached(
            "SELECT code, name, field, level, documents, fee, time, steps, online, \
                    legal_basis, url \
             FROM procedures ORDER BY field, name",
        )?;
        let rows = stmt.query_map([], |r| {
            let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
            let code: String = r.get(0)?;
            Ok(crate::domain::Procedure {
                channels: channels.remove(&code).unwrap_or_default(),
                code,
                name: r.get(1)?,
                field: r.get(2)?,
                level: r.get(3)?,
                documents: list(r.get(4)?),
                fee: r.get(5)?,
                time: r.get(6)?,
                steps: list(r.get(7)?),
                online: r.get(8)?,
                legal_basis: list(r.get(9)?),
                url: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The reporting cursor: every event up to this id has been accepted by the centre.
    pub fn outbox_sent_up_to(&self) -> Result<i64, StoreError> {
        Ok(self.tx.query_row(
            "SELECT sent_up_to FROM outbox_state WHERE id = 1",
            [],
            |r| r.get(0),
        )?)
    }

    /// Move the cursor forward (never back: an old acknowledgement arriving late is ignored).
    pub fn set_outbox_sent_up_to(&self, id: i64) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE outbox_state SET sent_up_to = MAX(sent_up_to, ?1) WHERE id = 1",
            [id],
        )?;
        Ok(())
    }

    /// How many events wait to be sent, and the time of the oldest.
    pub fn outbox_backlog(&self) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let (n, oldest): (u64, Option<i64>) = self.tx.query_row(
            "SELECT COUNT(*), MIN(at) FROM events \
             WHERE id > (SELECT sent_up_to FROM outbox_state WHERE id = 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((n, oldest.map(from_ms)))
    }

    /// Keep the event table within `max_events` rows: drop the oldest events the centre already
    /// has first; only if the unsent ones alone exceed the budget, drop the oldest unsent too.
    /// Returns how many unsent events were dropped (the caller records that in an event).
    pub fn enforce_event_budget(&self, max_events: u64) -> Result<u64, StoreError> {
        let total: u64 = self
            .tx
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        if total <= max_events {
            return Ok(0);
        }
        let excess = total - max_events;
        let sent_up_to = self.outbox_sent_up_to()?;
        let deleted_sent = self.tx.execute(
            "DELETE FROM events WHERE id IN \
             (SELECT id FROM events WHERE id <= ?1 ORDER BY id LIMIT ?2)",
            params![sent_up_to, excess],
        )? as u64;
        let still = excess - deleted_sent;
        if still == 0 {
            return Ok(0);
        }
        let last_dropped: Option<i64> = self.tx.query_row(
            "SELECT MAX(id) FROM (SELECT id FROM events WHERE id > ?1 ORDER BY id LIMIT ?2)",
            params![sent_up_to, still],
            |r| r.get(0),
        )?;
        let dropped = self.tx.execute(
            "DELETE FROM events WHERE id IN \
             (SELECT id FROM events WHERE id > ?1 ORDER BY id LIMIT ?2)",
            params![sent_up_to, still],
        )? as u64;
        if let Some(last) = last_dropped {
            self.set_outbox_sent_up_to(last)?;
        }
        self.tx.execute(
            "UPDATE outbox_state SET dropped = dropped + ?1 WHERE id = 1",
            [dropped],
        )?;
        Ok(dropped)
    }

    /// Waits (called - issued, seconds) of tickets of `service` called since `since`.
    pub fn waits_since(
        &self,
        day: NaiveDate,
        service: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<f64>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            // From issue, not from `arrived_at`: a booked ticket's place in the queue is its
            // registration time (maybe days ago), but the citizen waited from check-in.
            "SELECT (called_at - issued_at) / 1000.0 FROM tickets \
             WHERE service_day = ?1 AND service_id = ?2 AND called_at >= ?3",
        )?;
        let rows = stmt.query_map(params![day_key(day), service, ms(since)], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The most recent event of one of `kinds`, if any.
    /// The clerk's current session at a counter: the id of its last `counter_signed_in`.
    pub fn counter_session(&self, counter: u32) -> Result<Option<i64>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT id FROM events WHERE kind = 'counter_signed_in' \
                 AND json_extract(detail, '$.counter') = ?1 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([counter], |r| r.get(0))
            .optional()?)
    }

    /// Whether a ticket has its rating.
    pub fn is_rated(&self, ticket_id: i64) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM ratings WHERE ticket_id = ?1")?
            .query_row([ticket_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// A ticket's quota bucket (its procedure field, or its service).
    pub fn ticket_field(&self, ticket_id: i64) -> Result<String, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT quota_bucket FROM tickets WHERE id = ?1")?
            .query_row([ticket_id], |r| r.get(0))?)
    }

    pub fn insert_rating(&self, day: NaiveDate, r: &StoredRating) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO ratings (ticket_id, at, service_day, score, reasons, counter, \
                 service_id, field) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                r.ticket_id,
                ms(r.at),
                day_key(day),
                r.score,
                serde_json::to_string(&r.reasons).unwrap_or_else(|_| "[]".into()),
                r.counter,
                r.service_id,
                r.field
            ])?;
        Ok(())
    }

    /// How many ratings a day has, and their mean: one counter's, or every counter's.
    pub fn rating_summary(
        &self,
        day: NaiveDate,
        counter: Option<u32>,
    ) -> Result<RatingSummary, StoreError> {
        let (count, average): (u32, Option<f64>) = self
            .tx
            .prepare_cached(
                "SELECT COUNT(*), AVG(score) FROM ratings WHERE service_day = ?1 \
                 AND (?2 IS NULL OR counter = ?2)",
            )?
            .query_row(params![day_key(day), counter], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(RatingSummary { count, average })
    }

    /// Per counter on a day: tickets finished, no-shows, and the mean service time in seconds
    /// (start of service, or the call when it was skipped, to the end) of the finished ones.
    pub fn counter_day_stats(&self, day: NaiveDate) -> Result<Vec<CounterDayStats>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT counter, SUM(state = 'done'), SUM(state = 'no_show'), \
             AVG(CASE WHEN state = 'done' THEN finished_at - COALESCE(serving_at, called_at) END) \
             FROM tickets WHERE service_day = ?1 AND counter IS NOT NULL \
             GROUP BY counter ORDER BY counter",
        )?;
        let rows = stmt.query_map([day_key(day)], |r| {
            Ok(CounterDayStats {
                counter: r.get(0)?,
                served: r.get::<_, Option<u32>>(1)?.unwrap_or(0),
                no_shows: r.get::<_, Option<u32>>(2)?.unwrap_or(0),
                mean_service_seconds: r.get::<_, Option<f64>>(3)?.map(|ms| ms / 1000.0),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ratings of a day by score (index 0 is score 1): for the hub's metrics.
    pub fn rating_counts(&self, day: NaiveDate) -> Result<[u32; 5], StoreError> {
        let mut out = [0u32; 5];
        let mut stmt = self.tx.prepare_cached(
            "SELECT score, COUNT(*) FROM ratings WHERE service_day = ?1 GROUP BY score",
        )?;
        let rows = stmt.query_map([day_key(day)], |r| {
            Ok((r.get::<_, u8>(0)?, r.get::<_, u32>(1)?))
        })?;
        for row in rows {
            let (score, n) = row?;
            if (1..=5).contains(&score) {
                out[usize::from(score) - 1] = n;
            }
        }
        Ok(out)
    }

    /// The newest event's id, 0 for an empty log.
    pub fn max_event_id(&self) -> Result<i64, StoreError> {
        Ok(self
            .tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?)
    }

    pub fn last_event_of(&self, kinds: &[EventKind]) -> Result<Option<Event>, StoreError> {
        Ok(self.recent_events(kinds, 1)?.into_iter().next())
    }

    /// Every ticket of a day in issue order (for tests and exports).
    /// Keep the wait range a ticket's citizen was shown at issue.
    pub fn set_estimate(
        &self,
        ticket_id: i64,
        wait: Option<crate::domain::WaitRange>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE tickets SET est_low_min = ?2, est_high_min = ?3 WHERE id = ?1")?
            .execute(params![
                ticket_id,
                wait.map(|w| w.low_minutes),
                wait.map(|w| w.high_minutes)
            ])?;
        Ok(())
    }

    /// The estimates shown at issue on `day`, by ticket id (tickets shown none are absent).
    pub fn estimates_of_day(
        &self,
        day: NaiveDate,
    ) -> Result<std::collections::HashMap<i64, crate::domain::WaitRange>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, est_low_min, est_high_min FROM tickets \
             WHERE service_day = ?1 AND est_low_min IS NOT NULL AND est_high_min IS NOT NULL",
        )?;
        let rows = stmt.query_map([day_key(day)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                crate::domain::WaitRange {
                    low_minutes: r.get(1)?,
                    high_minutes: r.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn tickets_of_day(&self, day: NaiveDate) -> Result<Vec<Ticket>, StoreError> {
        let sql =
            format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE service_day = ?1 ORDER BY id");
        let mut stmt = self.tx.prepare(&sql)?;
        let rows = stmt.query_map([day_key(day)], map_ticket)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }
}
