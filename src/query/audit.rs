//! The audit log of signed-in reads (access.md, "Audit"): written for every `/v1/me`
//! request, read back by `boligsocial audit` and `GET /v1/admin/audit`, pruned after
//! `audit.retention_days`.

use time::OffsetDateTime;

use crate::error::ApiError;
use crate::store::audit::{self, AuditRecord, stamp};
use crate::store::{DbConnection, Pool, StoreError};

/// The most records one read returns; a reader pages on with the last one's time.
pub const MAX_READ: i64 = 10_000;

/// Writes one record, stamped now.
pub fn record(pool: &Pool, record: AuditRecord) -> Result<(), StoreError> {
    record_all(pool, vec![record])
}

/// Writes records of requests answered together in one transaction, each stamped now.
pub fn record_all(pool: &Pool, records: Vec<AuditRecord>) -> Result<(), StoreError> {
    record_all_on(&mut *pool.get()?, records)
}

/// The same on a connection the caller keeps (the audit's writer: no check-out per batch).
pub fn record_all_on(conn: &mut DbConnection, mut records: Vec<AuditRecord>) -> Result<(), StoreError> {
    let at = stamp(OffsetDateTime::now_utc());
    for r in &mut records {
        r.at.clone_from(&at);
    }
    audit::insert_all(conn, &records)
}

/// The records at or after `since`, oldest first, at most [`MAX_READ`].
pub fn read(conn: &mut DbConnection, since: &Since) -> Result<Vec<AuditRecord>, StoreError> {
    audit::since(conn, &since.0, MAX_READ)
}

/// The same from the pool, for a request.
pub fn read_pooled(pool: &Pool, since: &Since) -> Result<Vec<AuditRecord>, ApiError> {
    let mut conn = pool.get().map_err(|e| unavailable(e.into()))?;
    read(&mut conn, since).map_err(unavailable)
}

/// The records as CSV (a header, then one line each) or as a JSON array.
pub fn write(records: &[AuditRecord], json: bool) -> Result<String, String> {
    if json {
        return serde_json::to_string_pretty(records).map_err(|e| e.to_string());
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    if records.is_empty() {
        w.write_record(["at", "sub", "cvr", "client_id", "jti", "route", "departments", "dataset_version", "status"])
            .map_err(|e| e.to_string())?;
    }
    for r in records {
        w.serialize(r).map_err(|e| e.to_string())?;
    }
    String::from_utf8(w.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

/// Deletes the records older than `retention_days`; how many went.
pub fn prune(pool: &Pool, retention_days: u32) -> Result<usize, StoreError> {
    let before = stamp(OffsetDateTime::now_utc() - time::Duration::days(retention_days.into()));
    let mut conn = pool.get()?;
    audit::delete_before(&mut conn, &before)
}

fn unavailable(e: StoreError) -> ApiError {
    ApiError::Unavailable(format!("the audit log cannot be read: {e}"))
}

/// A time to read records from: a date (`2026-12-01`, its midnight in UTC) or an RFC 3339
/// time with its offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since(String);

impl Since {
    /// The beginning of time: every record kept.
    pub fn all() -> Since {
        Since(String::new())
    }
}

impl std::str::FromStr for Since {
    type Err = String;
    fn from_str(text: &str) -> Result<Since, String> {
        use time::format_description::well_known::Rfc3339;
        let text = text.trim();
        if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(Since(stamp(t)));
        }
        let date = time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| format!("{text:?} is neither a date (2026-12-01) nor an RFC 3339 time (2026-12-01T08:00:00Z)"))?;
        Ok(Since(stamp(date.midnight().assume_utc())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_dates_and_times() {
        assert_eq!("2026-12-01".parse::<Since>().unwrap().0, "2026-12-01T00:00:00.000000Z");
        assert_eq!("2026-12-01T08:00:00+01:00".parse::<Since>().unwrap().0, "2026-12-01T07:00:00.000000Z");
        assert!("yesterday".parse::<Since>().is_err());
        assert!("2026-13-01".parse::<Since>().is_err());
    }
}
