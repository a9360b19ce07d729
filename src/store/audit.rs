//! The audit log of signed-in reads (access.md, "Audit"): one row per `/v1/me` request, in the
//! one database every instance shares.

use diesel::prelude::*;

use super::schema::audit_log;
use super::{DbConnection, StoreError};

/// One request, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = audit_log)]
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
