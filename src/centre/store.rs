//! The receiver's storage: one SQLite file (the embedded default) or one PostgreSQL database
//! that several receiver processes share behind a load balancer (`[store] engine`).
//!
//! Every statement is written once, in SQL both engines read: `?N` parameters (rewritten to
//! `$N` for PostgreSQL), `ON CONFLICT` for upserts and dedup, `CASE` inside sums. The few
//! functions that differ (a JSON field of a text column, Vietnam's local day and hour of a
//! millisecond timestamp) come from `Engine`. Dedup by idempotency key is the engine's own
//! primary key with `ON CONFLICT DO NOTHING`, so it stays exact across receivers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgresql: {0}")]
    Postgres(String),
    #[error("column {index}: expected {wanted}, found {found}")]
    Column {
        index: usize,
        wanted: &'static str,
        found: String,
    },
    #[error("{0}")]
    Other(String),
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // The server's own message (with its detail) says more than the client's summary.
        match e.as_db_error() {
            Some(db) => StoreError::Postgres(format!(
                "{} ({}){}",
                db.message(),
                db.code().code(),
                db.detail().map(|d| format!(": {d}")).unwrap_or_default()
            )),
            None => StoreError::Postgres(match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            }),
        }
    }
}

/// `[store]` in the centre's config. Without it the receiver keeps its SQLite file `db_path`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub engine: EngineName,
    /// PostgreSQL: libpq-style `host=127.0.0.1 port=5432 user=centre dbname=centre` (or a
    /// `postgresql://` URL) without the password, which comes from `password_file`.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Connections this receiver holds (each request takes one for its statements).
    #[serde(default = "default_pool")]
    pub pool: usize,
    /// The key of the city-wide booking quota's citizen hashes. Every receiver sharing one
    /// database must read the same file; required with PostgreSQL.
    #[serde(default)]
    pub identity_key_file: Option<PathBuf>,
}

fn default_pool() -> usize {
    8
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EngineName {
    Sqlite,
    Postgres,
}

impl StoreConfig {
    /// Checks that need no server; `file` names the config in the messages.
    pub fn check(&self, file: &Path) -> Result<(), String> {
        if self.engine == EngineName::Postgres {
            if self.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
                return Err(format!(
                    "{}: store.url: engine = \"postgres\" needs the server, e.g. \
                     \"host=127.0.0.1 port=5432 user=centre dbname=centre\"",
                    file.display()
                ));
            }
            if self.identity_key_file.is_none() {
                return Err(format!(
                    "{}: store.identity_key_file: engine = \"postgres\" needs the booking quota's \
                     key file, the same file on every receiver",
                    file.display()
                ));
            }
        }
        if !(1..=256).contains(&self.pool) {
            return Err(format!(
                "{}: store.pool: {} connections; between 1 and 256",
                file.display(),
                self.pool
            ));
        }
        Ok(())
    }
}

/// Which SQL dialect a statement goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// A JSON object's field as text (NULL when absent or the text is not an object).
    pub fn json_text(self, col: &str, key: &str) -> String {
        match self {
            Engine::Sqlite => format!("json_extract({col}, '$.{key}')"),
            Engine::Postgres => format!("(CAST({col} AS jsonb) ->> '{key}')"),
        }
    }

    /// A JSON object's field as a number (NULL unless it is one: a point that sends a score
    /// as text does not move an average).
    pub fn json_num(self, col: &str, key: &str) -> String {
        match self {
            Engine::Sqlite => format!(
                "(CASE WHEN json_valid({col}) AND json_type({col}, '$.{key}') IN ('integer', 'real') \
                 THEN json_extract({col}, '$.{key}') END)"
            ),
            Engine::Postgres => format!(
                "(CASE WHEN jsonb_typeof(CAST({col} AS jsonb) -> '{key}') = 'number' \
                 THEN CAST(CAST({col} AS jsonb) ->> '{key}' AS DOUBLE PRECISION) END)"
            ),
        }
    }

    /// A JSON object's field as JSON text (arrays and objects as written).
    pub fn json_raw(self, col: &str, key: &str) -> String {
        match self {
            Engine::Sqlite => format!("json_extract({col}, '$.{key}')"),
            Engine::Postgres => format!("CAST(CAST({col} AS jsonb) -> '{key}' AS TEXT)"),
        }
    }

    /// The local day (`YYYY-MM-DD`) of a millisecond timestamp: Vietnam is UTC+7 all year.
    pub fn local_day(self, ms: &str) -> String {
        match self {
            Engine::Sqlite => format!("date({ms} / 1000 + 25200, 'unixepoch')"),
            Engine::Postgres => format!(
                "to_char(to_timestamp({ms} / 1000 + 25200) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            ),
        }
    }

    /// The local hour (`00`-`23`) of a millisecond timestamp.
    pub fn local_hour(self, ms: &str) -> String {
        match self {
            Engine::Sqlite => format!("strftime('%H', {ms} / 1000 + 25200, 'unixepoch')"),
            Engine::Postgres => {
                format!("to_char(to_timestamp({ms} / 1000 + 25200) AT TIME ZONE 'UTC', 'HH24')")
            }
        }
    }

    /// A schema written for SQLite, in this engine's types.
    fn ddl(self, sql: &str) -> String {
        match self {
            Engine::Sqlite => sql.to_string(),
            Engine::Postgres => sql
                .replace(" INTEGER", " BIGINT")
                .replace(" BLOB", " BYTEA"),
        }
    }
}

/// One value in or out of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Val {
    fn kind(&self) -> String {
        match self {
            Val::Null => "NULL".into(),
            Val::Int(i) => format!("integer {i}"),
            Val::Real(r) => format!("real {r}"),
            Val::Text(_) => "text".into(),
            Val::Bytes(_) => "bytes".into(),
        }
    }
}

macro_rules! val_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Val {
            fn from(v: $t) -> Val {
                Val::Int(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
    )*};
}
val_from_int!(i64, i32, u32, u64, usize, u16, u8);

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::Real(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(i64::from(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<&[u8]> for Val {
    fn from(v: &[u8]) -> Val {
        Val::Bytes(v.to_vec())
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// `vals![a, b]`: a statement's parameters.
#[macro_export]
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::centre::store::Val::from($v)),*] };
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(Vec<Val>);

impl Row {
    fn at(&self, index: usize) -> &Val {
        self.0.get(index).unwrap_or(&Val::Null)
    }

    fn wrong<T>(&self, index: usize, wanted: &'static str) -> Result<T, StoreError> {
        Err(StoreError::Column {
            index,
            wanted,
            found: self.at(index).kind(),
        })
    }

    pub fn val(&self, index: usize) -> &Val {
        self.at(index)
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
        match self.at(index) {
            Val::Null => Ok(None),
            Val::Int(i) => Ok(Some(*i)),
            _ => self.wrong(index, "integer"),
        }
    }

    pub fn int(&self, index: usize) -> Result<i64, StoreError> {
        match self.opt_int(index)? {
            Some(i) => Ok(i),
            None => self.wrong(index, "integer"),
        }
    }

    pub fn opt_real(&self, index: usize) -> Result<Option<f64>, StoreError> {
        match self.at(index) {
            Val::Null => Ok(None),
            Val::Int(i) => Ok(Some(*i as f64)),
            Val::Real(r) => Ok(Some(*r)),
            _ => self.wrong(index, "number"),
        }
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        match self.at(index) {
            Val::Null => Ok(None),
            Val::Text(t) => Ok(Some(t.clone())),
            _ => self.wrong(index, "text"),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, StoreError> {
        match self.opt_text(index)? {
            Some(t) => Ok(t),
            None => self.wrong(index, "text"),
        }
    }

    pub fn bytes(&self, index: usize) -> Result<Vec<u8>, StoreError> {
        match self.at(index) {
            Val::Bytes(b) => Ok(b.clone()),
            Val::Text(t) => Ok(t.clone().into_bytes()),
            _ => self.wrong(index, "bytes"),
        }
    }
}

/// A connection or transaction of either engine.
pub trait Sql {
    fn engine(&self) -> Engine;
    /// Run a statement; how many rows it changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError>;
    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError>;
    /// The first row, if any.
    fn row(&mut self, sql: &str, params: &[Val]) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }
}

// ---- SQLite ----

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Real(r) => ValueRef::Real(*r),
            Val::Text(t) => ValueRef::Text(t.as_bytes()),
            Val::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

struct Lite<'a>(&'a rusqlite::Connection);

impl Sql for Lite<'_> {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.0.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(v) => Val::Real(v),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }
}

// ---- PostgreSQL ----

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Val {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let mismatch =
            || -> BoxError { format!("{} given for a {ty} parameter", self.kind()).into() };
        match (self, ty) {
            (Val::Null, _) => Ok(IsNull::Yes),
            (Val::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Val::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Val::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Val::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Val::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Val::Int(i), &Type::TEXT | &Type::VARCHAR) => i.to_string().to_sql(ty, out),
            (Val::Real(r), &Type::FLOAT8) => r.to_sql(ty, out),
            (Val::Real(r), &Type::FLOAT4) => (*r as f32).to_sql(ty, out),
            (Val::Text(t), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => {
                t.as_str().to_sql(ty, out)
            }
            (Val::Text(t), &Type::BYTEA) => t.as_bytes().to_sql(ty, out),
            (Val::Bytes(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Val {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Val, BoxError> {
        Ok(match *ty {
            Type::INT8 => Val::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Val::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Val::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Val::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Val::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Val::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Val::Bytes(raw.to_vec()),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Val::Text(<&str>::from_sql(ty, raw)?.to_string())
            }
            _ => return Err(format!("a {ty} column: cast it in the statement").into()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Val, BoxError> {
        Ok(Val::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `?N` parameters as `$N`, outside quoted text.
fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

struct PgConn {
    client: postgres::Client,
    /// Statements prepared on this connection, by their text as written.
    prepared: HashMap<String, postgres::Statement>,
}

struct Pg<'a, C: postgres::GenericClient> {
    client: &'a mut C,
    prepared: &'a mut HashMap<String, postgres::Statement>,
}

impl<C: postgres::GenericClient> Pg<'_, C> {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&dollar_params(sql))?;
        // Statements built with values inside (none here take user text) stay few.
        if self.prepared.len() < 512 {
            self.prepared.insert(sql.to_string(), s.clone());
        }
        Ok(s)
    }
}

fn pg_params(params: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl<C: postgres::GenericClient> Sql for Pg<'_, C> {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let s = self.statement(sql)?;
        Ok(self.client.execute(&s, &pg_params(params))?)
    }

    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        let s = self.statement(sql)?;
        let rows = self.client.query(&s, &pg_params(params))?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.try_get::<_, Val>(i).map_err(StoreError::from))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect()
    }
}

struct PgPool {
    idle: Mutex<Vec<PgConn>>,
    freed: Condvar,
    config: postgres::Config,
}

impl PgPool {
    fn connect(&self) -> Result<PgConn, StoreError> {
        Ok(PgConn {
            client: self.config.connect(postgres::NoTls)?,
            prepared: HashMap::new(),
        })
    }

    fn take(&self) -> Result<PgConn, StoreError> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(c) = idle.pop() {
                drop(idle);
                if !c.client.is_closed() {
                    return Ok(c);
                }
                // A connection the server closed (a restart, a failover) is opened again; while
                // the server is away the closed one goes back, so the pool never shrinks and
                // the next request tries again instead of waiting forever.
                return match self.connect() {
                    Ok(fresh) => Ok(fresh),
                    Err(e) => {
                        self.give(c);
                        Err(e)
                    }
                };
            }
            idle = self.freed.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn give(&self, c: PgConn) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(c);
        self.freed.notify_one();
    }

    /// Run `f` on a connection; a connection lost on the way is replaced for the next caller.
    fn with<T>(&self, f: impl FnOnce(&mut PgConn) -> T) -> Result<T, StoreError> {
        let mut c = self.take()?;
        let out = f(&mut c);
        if c.client.is_closed() {
            match self.connect() {
                Ok(fresh) => self.give(fresh),
                // Keep the closed one: the next `take` tries to connect again.
                Err(_) => self.give(c),
            }
        } else {
            self.give(c);
        }
        Ok(out)
    }
}

enum Inner {
    Sqlite(Mutex<rusqlite::Connection>),
    Postgres(Box<PgPool>),
}

/// The receiver's store.
pub struct Store {
    inner: Inner,
}

/// What a statement's transaction waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Serial {
    /// Nothing beyond the engine's own row locks.
    No,
    /// Every other transaction of the same lock number, on every receiver (a check then a
    /// write that must not interleave, like a booking quota).
    Lock(i64),
}

impl Store {
    /// The SQLite file (created with its folder).
    pub fn sqlite(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = rusqlite::Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // An acknowledged report must survive a crash: the point will not send it again.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Store {
            inner: Inner::Sqlite(Mutex::new(conn)),
        })
    }

    /// A pool of `pool` connections to the PostgreSQL server `url` (opened now, so a wrong
    /// address or password fails at start, not at the first report).
    pub fn postgres(url: &str, password: Option<&str>, pool: usize) -> Result<Store, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Postgres(format!("url: {e}")))?;
        if let Some(p) = password {
            config.password(p);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        config.application_name("kiosk centre");
        let p = PgPool {
            idle: Mutex::new(Vec::new()),
            freed: Condvar::new(),
            config,
        };
        for _ in 0..pool.max(1) {
            let c = p.connect()?;
            p.give(c);
        }
        Ok(Store {
            inner: Inner::Postgres(Box::new(p)),
        })
    }

    /// Open the store `config` names (`[store]`, else the SQLite file `db_path`).
    pub fn open(db_path: &Path, config: Option<&StoreConfig>) -> Result<Store, StoreError> {
        match config {
            Some(c) if c.engine == EngineName::Postgres => {
                let password = match &c.password_file {
                    Some(f) => Some(
                        std::fs::read_to_string(f)
                            .map_err(|e| {
                                StoreError::Other(format!(
                                    "store.password_file {}: {e}",
                                    f.display()
                                ))
                            })?
                            .trim()
                            .to_string(),
                    ),
                    None => None,
                };
                Store::postgres(c.url.as_deref().unwrap_or(""), password.as_deref(), c.pool)
            }
            _ => Store::sqlite(db_path),
        }
    }

    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Sqlite(_) => Engine::Sqlite,
            Inner::Postgres(_) => Engine::Postgres,
        }
    }

    /// Statements outside a transaction (reads, and single writes).
    pub fn run<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        match &self.inner {
            Inner::Sqlite(m) => {
                let conn = m.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut Lite(&conn))
            }
            Inner::Postgres(pool) => pool.with(|c| {
                f(&mut Pg {
                    client: &mut c.client,
                    prepared: &mut c.prepared,
                })
            })?,
        }
    }

    /// One transaction: committed when `f` returns Ok, rolled back when it returns an error.
    pub fn tx<T, E: From<StoreError>>(
        &self,
        serial: Serial,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        match &self.inner {
            Inner::Sqlite(m) => {
                let mut conn = m.lock().unwrap_or_else(|p| p.into_inner());
                // One connection behind a mutex: every transaction is serial already; IMMEDIATE
                // also holds off another process on the same file.
                let behaviour = match serial {
                    Serial::No => rusqlite::TransactionBehavior::Deferred,
                    Serial::Lock(_) => rusqlite::TransactionBehavior::Immediate,
                };
                let tx = conn
                    .transaction_with_behavior(behaviour)
                    .map_err(StoreError::from)?;
                let out = f(&mut Lite(&tx))?;
                tx.commit().map_err(StoreError::from)?;
                Ok(out)
            }
            Inner::Postgres(pool) => pool.with(|c| {
                let mut tx = c.client.transaction().map_err(StoreError::from)?;
                if let Serial::Lock(n) = serial {
                    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&n])
                        .map_err(StoreError::from)?;
                }
                let out = f(&mut Pg {
                    client: &mut tx,
                    prepared: &mut c.prepared,
                })?;
                tx.commit().map_err(StoreError::from)?;
                Ok(out)
            })?,
        }
    }

    /// Create the tables (a schema written for SQLite; PostgreSQL gets BIGINT and BYTEA).
    /// Receivers starting together take turns.
    pub fn migrate(&self, schemas: &[&str]) -> Result<(), StoreError> {
        match &self.inner {
            Inner::Sqlite(m) => {
                let conn = m.lock().unwrap_or_else(|p| p.into_inner());
                for s in schemas {
                    conn.execute_batch(s)?;
                }
                Ok(())
            }
            Inner::Postgres(pool) => pool.with(|c| {
                let mut tx = c.client.transaction()?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
                for s in schemas {
                    tx.batch_execute(&Engine::Postgres.ddl(s))?;
                }
                tx.commit()?;
                Ok(())
            })?,
        }
    }
}

impl Store {
    /// Add `column` (an SQLite type; PostgreSQL gets its own) to `table` unless it is there: a
    /// receiver's database made by an older version gains it at start.
    pub fn add_column(&self, table: &str, column: &str, ty: &str) -> Result<(), StoreError> {
        match &self.inner {
            Inner::Sqlite(m) => {
                let conn = m.lock().unwrap_or_else(|p| p.into_inner());
                let has = conn
                    .prepare(&format!(
                        "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
                    ))?
                    .exists([column])?;
                if !has {
                    conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))?;
                }
                Ok(())
            }
            Inner::Postgres(pool) => pool.with(|c| {
                c.client.batch_execute(&Engine::Postgres.ddl(&format!(
                    "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {ty}"
                )))?;
                Ok(())
            })?,
        }
    }
}

/// The advisory lock receivers take while creating tables.
const MIGRATE_LOCK: i64 = 0x6b69_6f73_6b00;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_outside_quotes_only() {
        assert_eq!(
            dollar_params("SELECT ?1, '?x' FROM t WHERE a = ?2 AND b = 'it''s ?'"),
            "SELECT $1, '?x' FROM t WHERE a = $2 AND b = 'it''s ?'"
        );
    }

    #[test]
    fn sqlite_round_trips_every_kind_of_value() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::sqlite(&dir.path().join("s.sqlite")).unwrap();
        store
            .migrate(&["CREATE TABLE t (a INTEGER, b REAL, c TEXT, d BLOB);"])
            .unwrap();
        store
            .tx(Serial::No, |s| {
                s.exec(
                    "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
                    vals![7i64, 1.5f64, "chữ", &b"\x00\x01"[..]],
                )?;
                s.exec(
                    "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
                    vals![None::<i64>, None::<f64>, None::<String>, None::<&str>],
                )
            })
            .unwrap();
        let rows = store
            .run(|s| s.rows("SELECT a, b, c, d FROM t ORDER BY a IS NULL", &[]))
            .unwrap();
        assert_eq!(rows[0].int(0).unwrap(), 7);
        assert_eq!(rows[0].opt_real(1).unwrap(), Some(1.5));
        assert_eq!(rows[0].text(2).unwrap(), "chữ");
        assert_eq!(rows[0].bytes(3).unwrap(), vec![0, 1]);
        assert_eq!(rows[1].opt_int(0).unwrap(), None);
        // A wrong read names the column and what it found.
        let e = rows[0].int(2).unwrap_err().to_string();
        assert!(e.contains("column 2") && e.contains("text"), "{e}");
        // An error inside a transaction rolls it back.
        let r: Result<(), StoreError> = store.tx(Serial::No, |s| {
            s.exec("INSERT INTO t (a) VALUES (99)", &[])?;
            Err(StoreError::Other("no".into()))
        });
        assert!(r.is_err());
        let n = store
            .run(|s| s.row("SELECT COUNT(*) FROM t WHERE a = 99", &[]))
            .unwrap()
            .unwrap()
            .int(0)
            .unwrap();
        assert_eq!(n, 0);
    }
}
