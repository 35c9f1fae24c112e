//! What every paged staff list shares: the cursor in the address
//! (`after=ID` or `before=ID`, the boundary row's id: keyset pagination,
//! `respite_store::lists`) and the "previous / next" links that keep the
//! list's search.

use respite_store::{PageAt, Paged};
use serde::Deserialize;

use crate::AppError;

/// The cursor fields of a list's query string.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct Cursor {
    pub after: String,
    pub before: String,
}

impl Cursor {
    /// Where the page starts; a cursor that is not a row id is refused,
    /// naming the field.
    pub fn page_at(&self) -> Result<PageAt, AppError> {
        let id = |field: &'static str, text: &str| {
            text.trim()
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or(AppError::BadRequest {
                    field,
                    message: "must be a row number from this list's links".into(),
                })
        };
        match (self.after.trim(), self.before.trim()) {
            ("", "") => Ok(PageAt::First),
            (after, "") => Ok(PageAt::After(id("after", after)?)),
            ("", before) => Ok(PageAt::Before(id("before", before)?)),
            _ => Err(AppError::BadRequest {
                field: "after",
                message: "give after or before, not both".into(),
            }),
        }
    }
}

/// The links around a page of a list.
pub struct Pager {
    /// "Patients 26–50 of 240."
    pub summary: String,
    pub first: Option<String>,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// The pager of `page`, whose rows' ids (or sequence numbers) are
    /// `first_id` and `last_id`; links go to `path` with `keep` (the list's
    /// search, filters) and the cursor. `one` and `what` name the rows.
    pub fn new<T>(
        page: &Paged<T>,
        ids: Option<(i64, i64)>,
        path: &str,
        keep: &[(&str, &str)],
        one: &str,
        what: &str,
    ) -> Pager {
        let link = |cursor: Option<(&str, String)>| {
            let mut pairs: Vec<(&str, String)> = keep
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (*k, (*v).to_owned()))
                .collect();
            if let Some(cursor) = cursor {
                pairs.push(cursor);
            }
            match serde_urlencoded::to_string(&pairs) {
                Ok(query) if !query.is_empty() => format!("{path}?{query}"),
                _ => path.to_owned(),
            }
        };
        let (previous, next) = match ids {
            Some((first, last)) => (
                page.has_previous
                    .then(|| link(Some(("before", first.to_string())))),
                page.has_next
                    .then(|| link(Some(("after", last.to_string())))),
            ),
            None => (None, None),
        };
        Pager {
            summary: crate::words::lists::page_summary(
                page.offset,
                page.rows.len(),
                page.total,
                one,
                what,
            ),
            first: page.has_previous.then(|| link(None)),
            previous,
            next,
        }
    }
}
