//! The audit trail: who did what to which record, when, from where, and how
//! it ended. Append-only (database triggers refuse UPDATE and DELETE) and
//! tamper-evident: each entry's hash covers the previous entry's hash and all
//! of its own fields, so changing or removing a row breaks the chain.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::{from_millis, to_millis, Engine, Store, StoreResult};

/// The hash the first entry chains from.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Refused by the access rules.
    Denied,
    /// The input was refused (4xx other than denial).
    Invalid,
    /// The server failed.
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Invalid => "invalid",
            Outcome::Error => "error",
        }
    }
}

/// An entry to append.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// The staff user's e-mail, `anonymous`, or `system`.
    pub actor: String,
    pub actor_role: String,
    /// e.g. `read`, `create`, `update`, `sign-in`.
    pub action: String,
    /// e.g. `Patient`, `Inquiry`, `AuditEvent`.
    pub resource_type: String,
    /// The record's id, or `*` for a list or search.
    pub resource_id: String,
    pub source_address: String,
    pub outcome: Outcome,
}

/// A stored entry.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub source_address: String,
    pub outcome: String,
    pub hash: String,
}

/// Filters for the admin's audit page. Empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub resource_type: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub limit: i64,
}

/// The result of walking the whole chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditChainStatus {
    Intact {
        entries: i64,
    },
    /// The first entry whose stored hash does not match its contents or
    /// whose previous hash does not match the entry before it.
    BrokenAt {
        seq: i64,
    },
}

type AuditRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

impl Store {
    /// Appends one entry to the chain.
    pub async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let _in_process = self.audit_lock.lock().await;
        match self.engine {
            Engine::Postgres => {
                let mut tx = self.pool.begin().await?;
                // One chain across every server sharing this database.
                sqlx::query("SELECT pg_advisory_xact_lock(727465)")
                    .execute(&mut *tx)
                    .await?;
                append_after_last(&mut tx, entry).await?;
                tx.commit().await?;
            }
            Engine::Sqlite => {
                // SQLite has one writing process (the server), whose appends
                // the mutex above already serialises. A deferred transaction
                // here would fail with SQLITE_BUSY_SNAPSHOT whenever another
                // write lands between its read and its insert.
                let mut conn = self.pool.acquire().await?;
                append_after_last(&mut conn, entry).await?;
            }
        }
        Ok(())
    }

    /// Entries matching `filter`, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        // Each filter is `($n = '' OR column = $n)` so one statement serves
        // every combination without building SQL from input.
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, at, actor, actor_role, action, resource_type, resource_id, \
             source_address, outcome, prev_hash, hash FROM audit_log \
             WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR resource_type = $2) \
             AND ($3 = '' OR outcome = $3) AND at >= $4 AND at <= $5 \
             ORDER BY seq DESC LIMIT $6",
        )
        .bind(filter.actor.clone().unwrap_or_default())
        .bind(filter.resource_type.clone().unwrap_or_default())
        .bind(filter.outcome.clone().unwrap_or_default())
        .bind(filter.since.map_or(i64::MIN, to_millis))
        .bind(filter.until.map_or(i64::MAX, to_millis))
        .bind(if filter.limit > 0 { filter.limit } else { 200 })
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(
                    seq,
                    at,
                    actor,
                    actor_role,
                    action,
                    resource_type,
                    resource_id,
                    source_address,
                    outcome,
                    _prev,
                    hash,
                )| {
                    Ok(AuditRecord {
                        seq,
                        at: from_millis(at)?,
                        actor,
                        actor_role,
                        action,
                        resource_type,
                        resource_id,
                        source_address,
                        outcome,
                        hash,
                    })
                },
            )
            .collect()
    }

    /// Walks the whole chain and recomputes every hash.
    pub async fn verify_audit_chain(&self) -> StoreResult<AuditChainStatus> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, at, actor, actor_role, action, resource_type, resource_id, \
             source_address, outcome, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut expected_prev = GENESIS.to_owned();
        let entries = rows.len() as i64;
        for (seq, at, actor, role, action, rtype, rid, source, outcome, prev, hash) in rows {
            let recomputed = entry_hash(
                &prev,
                at,
                [&actor, &role, &action, &rtype, &rid, &source, &outcome],
            );
            if prev != expected_prev || recomputed != hash {
                return Ok(AuditChainStatus::BrokenAt { seq });
            }
            expected_prev = hash;
        }
        Ok(AuditChainStatus::Intact { entries })
    }
}

/// Reads the last hash and inserts the entry chained to it.
async fn append_after_last(conn: &mut sqlx::AnyConnection, entry: &AuditEntry) -> StoreResult<()> {
    let prev: Option<(String,)> =
        sqlx::query_as("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let prev_hash = prev.map_or_else(|| GENESIS.to_owned(), |(h,)| h);
    let at = to_millis(entry.at);
    let hash = entry_hash(
        &prev_hash,
        at,
        [
            &entry.actor,
            &entry.actor_role,
            &entry.action,
            &entry.resource_type,
            &entry.resource_id,
            &entry.source_address,
            entry.outcome.as_str(),
        ],
    );
    sqlx::query(
        "INSERT INTO audit_log (at, actor, actor_role, action, resource_type, resource_id, \
         source_address, outcome, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(at)
    .bind(&entry.actor)
    .bind(&entry.actor_role)
    .bind(&entry.action)
    .bind(&entry.resource_type)
    .bind(&entry.resource_id)
    .bind(&entry.source_address)
    .bind(entry.outcome.as_str())
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// SHA-256 over the previous hash and every field, each length-prefixed so
/// that no two different entries serialise alike.
fn entry_hash(prev_hash: &str, at: i64, fields: [&str; 7]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(at.to_be_bytes());
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}
