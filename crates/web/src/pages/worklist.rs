//! The clinical work list (nurses and clinicians): patients awaiting records,
//! awaiting a decision, decided on facts that changed since, and plans due
//! for review; one list at a time, paged, each entry a link to the chart.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use respite_store::{WorkListEntry, WorkListPage};
use serde::Deserialize;

use super::decisions::screening_today;
use super::{render, Nav, StaffPage};
use crate::words::decisions as words;
use crate::{AppError, AppState};

/// Entries on one page.
const PAGE_SIZE: usize = 25;
/// Plans are listed this many days before their review date.
const REVIEW_NOTICE_DAYS: i64 = 7;

#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Records,
    Decision,
    Outdated,
    Review,
}

impl List {
    const ALL: [List; 4] = [List::Records, List::Decision, List::Outdated, List::Review];

    fn code(self) -> &'static str {
        match self {
            List::Records => "records",
            List::Decision => "decision",
            List::Outdated => "outdated",
            List::Review => "review",
        }
    }

    fn title(self) -> &'static str {
        match self {
            List::Records => "Awaiting records",
            List::Decision => "Awaiting decision",
            List::Outdated => "Decided, out of date",
            List::Review => "Plans due for review",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WorkListQuery {
    list: String,
    page: String,
}

pub struct Tab {
    pub code: &'static str,
    pub title: &'static str,
    pub count: usize,
    pub selected: bool,
}

pub struct Row {
    pub patient_id: i64,
    pub name: String,
    pub mrn: String,
    pub since: String,
    /// What to do, and where.
    pub action: String,
    pub href: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorkListPageView {
    nav: Nav,
    tabs: Vec<Tab>,
    title: &'static str,
    list: &'static str,
    rows: Vec<Row>,
    page: usize,
    pages: usize,
    total: usize,
}

pub async fn worklist(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<WorkListQuery>,
) -> Result<Response, AppError> {
    let list = List::ALL
        .into_iter()
        .find(|l| l.code() == query.list.trim())
        .unwrap_or(List::Decision);
    let number = query
        .page
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= 1 && *n <= 10_000)
        .unwrap_or(1);
    let offset = (number - 1) * PAGE_SIZE;
    let review_by = page
        .today()
        .checked_add(jiff::ToSpan::days(REVIEW_NOTICE_DAYS))
        .unwrap_or(page.today());

    // The two lists kept in SQL count there; the two that need the chart's
    // facts are worked out here.
    let records = state
        .store
        .awaiting_records(PAGE_SIZE as i64, offset as i64)
        .await?;
    let review = state
        .store
        .plans_due_for_review(review_by, PAGE_SIZE as i64, offset as i64)
        .await?;
    let awaiting = state.store.patients_awaiting_decision().await?;
    let mut outdated = Vec::new();
    for entry in state.store.patients_with_final_decisions().await? {
        let current = state
            .store
            .current_screening_decision(entry.patient_id, page.today(), &page.zone)
            .await?;
        if current.is_some_and(|c| !c.current) {
            outdated.push(entry);
        }
    }
    let count = |l: List| match l {
        List::Records => records.total as usize,
        List::Decision => awaiting.len(),
        List::Outdated => outdated.len(),
        List::Review => review.total as usize,
    };
    let tabs = List::ALL
        .into_iter()
        .map(|l| Tab {
            code: l.code(),
            title: l.title(),
            count: count(l),
            selected: l == list,
        })
        .collect();
    let total = count(list);
    // Nurses read decisions; clinicians make them (SPEC §2).
    let signs = page.may(respite_domain::Permission::SignScreeningDecisions);
    let (decide, decide_again) = if signs {
        ("Decide", "Decide again")
    } else {
        ("See the screening", "See the decision")
    };
    let page_of = |entries: Vec<WorkListEntry>| -> Vec<WorkListEntry> {
        entries.into_iter().skip(offset).take(PAGE_SIZE).collect()
    };
    let rows = match list {
        List::Records => rows_of(records, |e| Row {
            action: "See the request".into(),
            href: format!("/staff/patients/{}/records-requests", e.patient_id),
            detail: format!(
                "asked {}",
                e.physician
                    .clone()
                    .unwrap_or_else(|| "the physician".into())
            ),
            ..row(&page, e)
        }),
        List::Review => rows_of(review, |e| Row {
            action: "Review the plan".into(),
            href: format!("/staff/patients/{}/plan", e.patient_id),
            detail: e
                .review_on
                .map(|d| format!("review by {}", words::date(d)))
                .unwrap_or_default(),
            ..row(&page, e)
        }),
        List::Outdated => page_of(outdated)
            .iter()
            .map(|e| Row {
                action: decide_again.into(),
                href: format!("/staff/patients/{}/decision", e.patient_id),
                detail: "the chart's facts changed since the decision".into(),
                ..row(&page, e)
            })
            .collect(),
        List::Decision => {
            let mut rows = Vec::new();
            for e in page_of(awaiting) {
                let today = screening_today(&state, &page, e.patient_id).await?;
                rows.push(Row {
                    action: decide.into(),
                    href: format!("/staff/patients/{}/decision", e.patient_id),
                    detail: format!(
                        "screening: {}",
                        crate::words::screening::decision(today.screening.decision)
                    ),
                    ..row(&page, &e)
                });
            }
            rows
        }
    };
    render(&WorkListPageView {
        nav: page.nav(),
        tabs,
        title: list.title(),
        list: list.code(),
        rows,
        page: number,
        pages: total.div_ceil(PAGE_SIZE).max(1),
        total,
    })
}

fn row(page: &StaffPage, e: &WorkListEntry) -> Row {
    Row {
        patient_id: e.patient_id,
        name: format!("{}, {}", e.family_name, e.given_name),
        mrn: e.mrn.clone(),
        since: page.time(e.since),
        action: String::new(),
        href: String::new(),
        detail: String::new(),
    }
}

fn rows_of(list: WorkListPage, make: impl Fn(&WorkListEntry) -> Row) -> Vec<Row> {
    list.entries.iter().map(make).collect()
}
