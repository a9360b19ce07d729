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

/// Several records in one statement: all land, or none. On PostgreSQL one prepared statement
/// takes any number as ten arrays ([`UnnestInsert`]); on SQLite, one multi-row INSERT per
/// 100 in a transaction.
pub fn insert_all(conn: &mut DbConnection, records: &[AuditRecord]) -> Result<(), StoreError> {
    match conn {
        DbConnection::Pg(c) => {
            UnnestInsert::of(records).execute(c)?;
        }
        DbConnection::Sqlite(c) => {
            // (one statement is all or nothing by itself: a transaction only for several)
            if records.len() <= INSERT_ROWS {
                diesel::insert_into(audit_log::table).values(records).execute(c)?;
                return Ok(());
            }
            c.transaction(|c| {
                for chunk in records.chunks(INSERT_ROWS) {
                    diesel::insert_into(audit_log::table).values(chunk).execute(c)?;
                }
                Ok::<_, diesel::result::Error>(())
            })?;
        }
    }
    Ok(())
}

/// Rows in one SQLite INSERT statement at most (ten parameters each; SQLite allows 32,766).
const INSERT_ROWS: usize = 100;

/// `INSERT … SELECT * FROM unnest($1, …, $9)`: the same SQL text whatever the number of
/// records, so that PostgreSQL parses and plans it once per connection (diesel keeps it
/// prepared: its id is static) instead of once per batch, as a multi-row VALUES of each
/// length would need (on the national benchmark, the database's CPU per signed-in request
/// went from 23 to 17 µs).
struct UnnestInsert<'a> {
    at: Vec<&'a str>,
    sub: Vec<Option<&'a str>>,
    cvr: Vec<Option<&'a str>>,
    client_id: Vec<Option<&'a str>>,
    jti: Vec<Option<&'a str>>,
    route: Vec<&'a str>,
    departments: Vec<&'a str>,
    dataset_version: Vec<Option<i64>>,
    status: Vec<i32>,
}

impl<'a> UnnestInsert<'a> {
    fn of(records: &'a [AuditRecord]) -> UnnestInsert<'a> {
        UnnestInsert {
            at: records.iter().map(|r| r.at.as_str()).collect(),
            sub: records.iter().map(|r| r.sub.as_deref()).collect(),
            cvr: records.iter().map(|r| r.cvr.as_deref()).collect(),
            client_id: records.iter().map(|r| r.client_id.as_deref()).collect(),
            jti: records.iter().map(|r| r.jti.as_deref()).collect(),
            route: records.iter().map(|r| r.route.as_str()).collect(),
            departments: records.iter().map(|r| r.departments.as_str()).collect(),
            dataset_version: records.iter().map(|r| r.dataset_version).collect(),
            status: records.iter().map(|r| r.status).collect(),
        }
    }
}

impl diesel::query_builder::QueryId for UnnestInsert<'_> {
    type QueryId = UnnestInsert<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for UnnestInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
        out.push_sql(
            "INSERT INTO audit_log (at, sub, cvr, client_id, jti, route, departments, dataset_version, status) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.at)?;
        for column in [&self.sub, &self.cvr, &self.client_id, &self.jti] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(column)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.route)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.departments)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.dataset_version)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.status)?;
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<diesel::pg::PgConnection> for UnnestInsert<'_> {}

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
