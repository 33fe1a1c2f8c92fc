//! The point's copy of its online bookings (pulled from the centre by `report::bookings`),
//! and what became of each: checked in (with its ticket), checked in late (a walk-in ticket),
//! released (nobody came in the window), cancelled (gone from the centre).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{StoreError, Tx, day_key, from_ms, ms};

/// What became of a booking at the point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    Booked,
    CheckedIn,
    Late,
    Released,
    Cancelled,
}

impl BookingState {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Booked => "booked",
            BookingState::CheckedIn => "checked_in",
            BookingState::Late => "late",
            BookingState::Released => "released",
            BookingState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<BookingState> {
        Some(match s {
            "booked" => BookingState::Booked,
            "checked_in" => BookingState::CheckedIn,
            "late" => BookingState::Late,
            "released" => BookingState::Released,
            "cancelled" => BookingState::Cancelled,
            _ => return None,
        })
    }
}

/// One booking as the point keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBooking {
    pub code: String,
    pub service_day: NaiveDate,
    pub service_id: String,
    pub field: Option<String>,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub booked_at: DateTime<Utc>,
    /// The citizen's id as the centre keyed it for this point (`identity::booking_key`).
    pub citizen_hash: Option<String>,
    pub state: BookingState,
    pub ticket_id: Option<i64>,
}

const COLUMNS: &str = "code, service_day, service_id, field, slot_start, slot_end, booked_at, \
     citizen_hash, state, ticket_id";

fn map(row: &Row) -> rusqlite::Result<Result<StoredBooking, StoreError>> {
    let code: String = row.get(0)?;
    let corrupt = |what: String| StoreError::Corrupt {
        table: "bookings",
        id: 0,
        what: format!("{code}: {what}"),
    };
    let day: String = row.get(1)?;
    let Ok(service_day) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
        return Ok(Err(corrupt(format!("service_day {day:?}"))));
    };
    let state: String = row.get(8)?;
    let Some(state) = BookingState::parse(&state) else {
        return Ok(Err(corrupt(format!("state {state:?}"))));
    };
    Ok(Ok(StoredBooking {
        service_day,
        service_id: row.get(2)?,
        field: row.get(3)?,
        slot_start: from_ms(row.get(4)?),
        slot_end: from_ms(row.get(5)?),
        booked_at: from_ms(row.get(6)?),
        citizen_hash: row.get(7)?,
        state,
        ticket_id: row.get(9)?,
        code,
    }))
}

impl Tx<'_> {
    fn bookings_where(
        &self,
        sql_where: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<StoredBooking>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM bookings WHERE {sql_where} ORDER BY slot_start, code");
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(args, map)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// Add a booking pulled from the centre; one the point already has keeps its own state
    /// (a check-in here is not undone by a pull). Returns whether it was new.
    pub fn add_booking(&self, b: &StoredBooking, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = self.tx.execute(
            "INSERT INTO bookings (code, service_day, service_id, field, slot_start, slot_end, \
             booked_at, citizen_hash, state, ticket_id, pulled_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (code) DO NOTHING",
            params![
                b.code,
                day_key(b.service_day),
                b.service_id,
                b.field,
                ms(b.slot_start),
                ms(b.slot_end),
                ms(b.booked_at),
                b.citizen_hash,
                b.state.as_str(),
                b.ticket_id,
                ms(now),
            ],
        )?;
        Ok(n == 1)
    }

    pub fn booking(&self, code: &str) -> Result<Option<StoredBooking>, StoreError> {
        Ok(self.bookings_where("code = ?1", [code])?.into_iter().next())
    }

    /// Bookings still open (`booked`) on the days `from..=to`.
    pub fn open_bookings(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredBooking>, StoreError> {
        self.bookings_where(
            "state = 'booked' AND service_day BETWEEN ?1 AND ?2",
            params![day_key(from), day_key(to)],
        )
    }

    /// A citizen's bookings on `day` that count for the quota (not cancelled or released).
    pub fn citizen_bookings(
        &self,
        day: NaiveDate,
        citizen_hash: &str,
    ) -> Result<Vec<StoredBooking>, StoreError> {
        self.bookings_where(
            "service_day = ?1 AND citizen_hash = ?2 AND state IN ('booked', 'checked_in', 'late')",
            params![day_key(day), citizen_hash],
        )
    }

    /// Open bookings whose slot started before `started_before` (their window has lapsed).
    pub fn bookings_started_before(
        &self,
        started_before: DateTime<Utc>,
    ) -> Result<Vec<StoredBooking>, StoreError> {
        self.bookings_where("state = 'booked' AND slot_start < ?1", [ms(started_before)])
    }

    pub fn set_booking_state(
        &self,
        code: &str,
        state: BookingState,
        ticket_id: Option<i64>,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE bookings SET state = ?2, ticket_id = COALESCE(?3, ticket_id) WHERE code = ?1",
            params![code, state.as_str(), ticket_id],
        )?;
        Ok(())
    }

    /// How many bookings are in each state on `day` (status, metrics).
    pub fn booking_counts(&self, day: NaiveDate) -> Result<Vec<(BookingState, u32)>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT state, COUNT(*) FROM bookings WHERE service_day = ?1 GROUP BY state ORDER BY state",
        )?;
        let rows = stmt.query_map([day_key(day)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (s, n) = r?;
            if let Some(s) = BookingState::parse(&s) {
                out.push((s, n));
            }
        }
        Ok(out)
    }

    /// The booking a ticket was checked in from, if any.
    pub fn booking_of_ticket(&self, ticket_id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT code FROM bookings WHERE ticket_id = ?1")?
            .query_row([ticket_id], |r| r.get(0))
            .optional()?)
    }
}
