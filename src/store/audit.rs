//! The audit log of signed-in reads (access.md, "Audit"): one row per `/v1/me` request, in the
//! one database every instance shares.

use diesel::prelude::*;

use super::schema::audit_log;
use super::{DbConnection, StoreError};

/// One request, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditRecord {
    /// RFC 3339, UTC.
    pub at: String,
    pub sub: Option<String>,
    pub cvr: Option<String>,
    pub client_id: Option<String>,
    pub jti: Option<String>,
    /// The route's pattern, such as `/v1/me/departments/{department_id}/series`.
    pub route: String,
    /// The departments the request named or was answered with, comma-separated.
    pub departments: String,
    pub dataset_version: Option<i64>,
    pub status: i32,
}

pub fn insert(conn: &mut DbConnection, record: &AuditRecord) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table).values(record).execute(conn)?;
    Ok(())
}

/// Several records in one statement per 100 (one round trip each, one commit): all land,
/// or none. (Multi-row inserts are backend-specific in diesel.)
pub fn insert_all(conn: &mut DbConnection, records: &[AuditRecord]) -> Result<(), StoreError> {
    let insert = |conn: &mut DbConnection, chunk: &[AuditRecord]| match conn {
        DbConnection::Pg(c) => diesel::insert_into(audit_log::table).values(chunk).execute(c),
        DbConnection::Sqlite(c) => diesel::insert_into(audit_log::table).values(chunk).execute(c),
    };
    // (one statement is all or nothing by itself: a transaction only for several, saving the
    // round trips of BEGIN and COMMIT on the common batch)
    if records.len() <= INSERT_ROWS {
        insert(conn, records)?;
        return Ok(());
    }
    conn.transaction(|conn| {
        for chunk in records.chunks(INSERT_ROWS) {
            insert(conn, chunk)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// Rows in one INSERT statement at most (ten parameters each; SQLite allows 32,766).
const INSERT_ROWS: usize = 100;

/// The records at or after `since` (an RFC 3339 time or a date), oldest first, at most
/// `limit` of them.
pub fn since(conn: &mut DbConnection, since: &str, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
    Ok(audit_log::table
        .filter(audit_log::at.ge(since))
        .order((audit_log::at, audit_log::id))
        .limit(limit)
        .select(AuditRecord::as_select())
        .load(conn)?)
}

/// Deletes the records before `before`; how many went.
pub fn delete_before(conn: &mut DbConnection, before: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(audit_log::table.filter(audit_log::at.lt(before))).execute(conn)?)
}

/// How `at` is written: RFC 3339 in UTC with microseconds always, so that the text orders as
/// the time does (`…:02Z` would sort after `…:02.5Z`).
pub fn stamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_order_as_time_does() {
        let t = time::macros::datetime!(2026-12-07 15:01:02 UTC);
        let later = t + time::Duration::milliseconds(500);
        assert_eq!(stamp(t), "2026-12-07T15:01:02.000000Z");
        assert!(stamp(t) < stamp(later));
        assert_eq!(stamp(time::macros::datetime!(2026-12-07 16:01:02 +1)), "2026-12-07T15:01:02.000000Z");
    }
}
