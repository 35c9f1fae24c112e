//! Lists that page: keyset pagination, one way for every staff list.
//!
//! A page is "the first `size` rows after (or before) this row, in the
//! list's order". The order is a key of columns that ends in the row's id,
//! so it is total, and each list has an index on exactly that key
//! (migration 0010): a page is one index range, whatever its depth, and a
//! row inserted while someone pages falls before or after their cursor —
//! it never shifts a later page, so nothing is skipped or shown twice, as
//! an `OFFSET` would. The cursor is the boundary row's id: its key is read
//! back inside the query, so no name or other health data goes in a URL.
//!
//! Counting is separate: the total of matching rows and the number before
//! the page (to say "26–50 of 240") are two `COUNT(*)`s of the same filter.

use sqlx::any::AnyRow;
use sqlx::FromRow;

use crate::{Store, StoreResult};

/// Where a page of a list starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PageAt {
    /// The list's first rows.
    #[default]
    First,
    /// The rows that follow the row with this id, in the list's order.
    After(i64),
    /// The rows that precede it.
    Before(i64),
}

/// One page of a list and where it stands in the whole.
#[derive(Clone, Debug, PartialEq)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    /// How many matching rows come before this page's first row.
    pub offset: i64,
    /// How many rows match, on every page.
    pub total: i64,
    pub has_previous: bool,
    pub has_next: bool,
}

impl<T> Paged<T> {
    /// An empty first page.
    pub fn empty() -> Paged<T> {
        Paged {
            rows: Vec::new(),
            offset: 0,
            total: 0,
            has_previous: false,
            has_next: false,
        }
    }
}

/// A bound value of a list's filter.
#[derive(Clone, Debug)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// A list's query, from which each page and count is made.
pub(crate) struct Keyset<'a> {
    /// `SELECT columns FROM table alias [JOIN …]`.
    pub select: &'a str,
    /// `FROM table alias [JOIN …]`, for the counts.
    pub from: &'a str,
    /// The filter's SQL with `$1 … $n` for `params`; `1 = 1` for none.
    pub filter: String,
    pub params: Vec<Param>,
    /// The order's columns, e.g. `p.family_name, p.given_name, p.id`.
    pub key: &'a str,
    /// Reads those columns of the row whose id is `$n`, e.g.
    /// `SELECT family_name, given_name, id FROM patients WHERE id = `.
    pub key_of: &'a str,
    pub descending: bool,
}

impl Keyset<'_> {
    /// `key op (key of row $n)`, where `op` puts the row later (`later`)
    /// or earlier in the list's order.
    fn beyond(&self, later: bool, param: usize) -> String {
        let op = if later != self.descending { ">" } else { "<" };
        format!("({}) {op} ({}${param})", self.key, self.key_of)
    }

    fn order(&self, forwards: bool) -> String {
        let descending = self.descending == forwards;
        self.key
            .split(',')
            .map(|column| {
                if descending {
                    format!("{} DESC", column.trim())
                } else {
                    column.trim().to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    params: &'q [Param],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for param in params {
        query = match param {
            Param::Text(text) => query.bind(text.as_str()),
            Param::Int(n) => query.bind(*n),
        };
    }
    query
}

impl Store {
    /// One page of `list`: `size` rows from `at`, with the total and the
    /// page's place. `id` names a row's id (the cursor of the pages around it).
    pub(crate) async fn keyset_page<T>(
        &self,
        list: &Keyset<'_>,
        at: PageAt,
        size: i64,
        id: impl Fn(&T) -> i64,
    ) -> StoreResult<Paged<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let size = size.clamp(1, 500);
        let next_param = list.params.len() + 1;
        let (cursor, forwards, cursor_param) = match at {
            PageAt::First => (None, true, None),
            PageAt::After(id) => (Some(id), true, Some(next_param)),
            PageAt::Before(id) => (Some(id), false, Some(next_param)),
        };
        let mut params = list.params.clone();
        let mut filter = list.filter.clone();
        if let (Some(cursor), Some(param)) = (cursor, cursor_param) {
            filter = format!("({filter}) AND {}", list.beyond(forwards, param));
            params.push(Param::Int(cursor));
        }
        let limit_param = params.len() + 1;
        params.push(Param::Int(size + 1));
        let sql = format!(
            "{} WHERE {filter} ORDER BY {} LIMIT ${limit_param}",
            list.select,
            list.order(forwards)
        );
        let mut rows: Vec<T> = bind_all(sqlx::query_as(&sql), &params)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        if !forwards {
            rows.reverse();
        }
        let (has_previous, has_next) = match at {
            PageAt::First => (false, more),
            PageAt::After(_) => (true, more),
            PageAt::Before(_) => (more, true),
        };

        let count_sql = format!("SELECT COUNT(*) {} WHERE {}", list.from, list.filter);
        let (total,): (i64,) = bind_all(sqlx::query_as(&count_sql), &list.params)
            .fetch_one(&self.pool)
            .await?;
        let offset = match rows.first() {
            Some(first) if has_previous => {
                let before = list.beyond(false, list.params.len() + 1);
                let sql = format!(
                    "SELECT COUNT(*) {} WHERE ({}) AND {before}",
                    list.from, list.filter
                );
                let mut params = list.params.clone();
                params.push(Param::Int(id(first)));
                let (n,): (i64,) = bind_all(sqlx::query_as(&sql), &params)
                    .fetch_one(&self.pool)
                    .await?;
                n
            }
            _ => 0,
        };
        Ok(Paged {
            rows,
            offset,
            total,
            has_previous,
            has_next,
        })
    }
}

/// The clauses (joined by AND) that find `text` in a person's contact data:
/// a phone number in any formatting by its digits (see
/// [`crate::phone_digits`]) in the E.164 column `phone`; otherwise every word
/// in the `name` or `email` column (case-blind), or, with three digits or
/// more, in the phone number. Values are bound into `params`.
pub(crate) fn contact_clauses(
    text: &str,
    name: &str,
    email: &str,
    phone: &str,
    params: &mut Vec<Param>,
) -> Vec<String> {
    let mut next = |value: String| {
        params.push(Param::Text(value));
        params.len()
    };
    let text = text.trim();
    if let Some(digits) = crate::phone_digits(text) {
        let a = next(format!("%{digits}%"));
        return vec![format!("COALESCE({phone}, '') LIKE ${a}")];
    }
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .take(6)
        .map(|word| {
            let a = next(contains(word));
            let digits: String = word.chars().filter(char::is_ascii_digit).collect();
            let b = next(if digits.len() >= 3 {
                format!("%{digits}%")
            } else {
                String::new()
            });
            format!(
                "(LOWER({name}) LIKE ${a} ESCAPE '\\' \
                 OR LOWER(COALESCE({email}, '')) LIKE ${a} ESCAPE '\\' \
                 OR (${b} <> '' AND COALESCE({phone}, '') LIKE ${b}))"
            )
        })
        .collect()
}

/// Escapes `%`, `_` and `\` so a search for "50%" means the text itself
/// (with `ESCAPE '\'`).
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `%text%`, escaped, lower-case: a contains-pattern for `LOWER(col) LIKE`.
pub(crate) fn contains(text: &str) -> String {
    format!("%{}%", escape_like(&text.to_lowercase()))
}
