//! The administrator's view of the audit trail, with filters and the result
//! of verifying the keyed hash chain and its checkpoint.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use jiff::civil::Date;
use respite_store::{AuditChainStatus, AuditFilter, AuditRecord};
use serde::Deserialize;

use super::lists::{Cursor, Pager};
use super::{render, Nav, StaffPage};
use crate::{AppError, AppState};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    actor: String,
    resource_type: String,
    outcome: String,
    since: String,
    until: String,
    after: String,
    before: String,
}

pub struct AuditRow {
    pub record: AuditRecord,
    pub when: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    query: AuditQuery,
    rows: Vec<AuditRow>,
    pager: Pager,
    chain: String,
    chain_ok: bool,
}

/// Entries per page of the trail.
const AUDIT_PAGE_SIZE: i64 = 50;

const OUTCOMES: &[&str] = &["success", "denied", "invalid", "error"];

pub async fn audit_trail(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let tz = &page.zone;
    let day = |field: &'static str,
               text: &str,
               end_of_day: bool|
     -> Result<Option<jiff::Timestamp>, AppError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let bad = || AppError::BadRequest {
            field,
            message: "must be a date like 2026-11-25".into(),
        };
        let date: Date = text.parse().map_err(|_| bad())?;
        let start = date.to_zoned(tz.clone()).map_err(|_| bad())?;
        let at = if end_of_day {
            start.tomorrow().map_err(|_| bad())?.timestamp() - jiff::SignedDuration::from_millis(1)
        } else {
            start.timestamp()
        };
        Ok(Some(at))
    };
    let outcome = query.outcome.trim();
    if !outcome.is_empty() && !OUTCOMES.contains(&outcome) {
        return Err(AppError::BadRequest {
            field: "outcome",
            message: "must be one of success, denied, invalid, error".into(),
        });
    }
    let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        actor: nonempty(&query.actor),
        resource_type: nonempty(&query.resource_type),
        outcome: nonempty(outcome),
        since: day("since", &query.since, false)?,
        until: day("until", &query.until, true)?,
        limit: 500,
    };
    let at = Cursor {
        after: query.after.clone(),
        before: query.before.clone(),
    }
    .page_at()?;
    let found = state.store.audit_page(&filter, at, AUDIT_PAGE_SIZE).await?;
    let ids = found
        .rows
        .first()
        .zip(found.rows.last())
        .map(|(a, b)| (a.seq, b.seq));
    let pager = Pager::new(
        &found,
        ids,
        "/staff/audit",
        &[
            ("actor", &query.actor),
            ("resource_type", &query.resource_type),
            ("outcome", &query.outcome),
            ("since", &query.since),
            ("until", &query.until),
        ],
        "entry",
        "entries",
    );
    let rows = found
        .rows
        .into_iter()
        .map(|record| AuditRow {
            when: page.time(record.at),
            record,
        })
        .collect();
    // Incremental: the entries since the last view, the newest 1,000, and
    // the checkpoint; the whole chain at most an hour apart (see
    // `Store::verify_audit_chain_incrementally`).
    let status = state.store.verify_audit_chain_incrementally().await?;
    let chain_ok = status.is_intact();
    let chain = match status {
        AuditChainStatus::Intact { entries } => format!("Intact: all {entries} entries verify."),
        AuditChainStatus::BrokenAt { seq } | AuditChainStatus::UnknownKey { seq, .. } => {
            format!("BROKEN at entry {seq}: the trail was altered.")
        }
        AuditChainStatus::Truncated {
            checkpoint_seq,
            head_seq,
            ..
        } => format!(
            "TRUNCATED: the signed checkpoint names entry {checkpoint_seq}, but the trail ends at entry {head_seq}: entries were removed."
        ),
        AuditChainStatus::CheckpointInvalid { .. } => {
            "CHECKPOINT NOT VALID: the signed checkpoint outside the database does not verify.".to_owned()
        }
    };
    render(&AuditPage {
        nav: page.nav(),
        query,
        rows,
        pager,
        chain,
        chain_ok,
    })
}
