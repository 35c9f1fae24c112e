//! The two engines' migrations build the same schema: one portable query set
//! reads and writes both (ARCHITECTURE.md, "Storage"). A freshly migrated
//! SQLite and PostgreSQL database are read back from their catalogues and
//! compared as lines: tables and columns (type by family, nullability),
//! primary keys, indexes (unique or not, partial ones with their condition)
//! and foreign keys. Any difference fails the test unless it is in
//! [`ALLOWED`] with its reason.

use std::collections::BTreeSet;

use respite_store::{DatabaseUrl, PoolSettings, Store};
use sqlx::{Connection, Executor};

/// Differences the two schemas may have, each with its reason: the line as
/// printed below, the engine whose schema has it and the other's lacks.
const ALLOWED: &[(Side, &str, &str)] = &[
    (
        Side::Sqlite,
        "column clinic_holidays.day: text null",
        TEXT_KEY,
    ),
    (
        Side::Postgres,
        "column clinic_holidays.day: text not null",
        TEXT_KEY,
    ),
    (
        Side::Sqlite,
        "column clinic_settings.key: text null",
        TEXT_KEY,
    ),
    (
        Side::Postgres,
        "column clinic_settings.key: text not null",
        TEXT_KEY,
    ),
    (
        Side::Sqlite,
        "column sms_opt_outs.phone_e164: text null",
        TEXT_KEY,
    ),
    (
        Side::Postgres,
        "column sms_opt_outs.phone_e164: text not null",
        TEXT_KEY,
    ),
    (
        Side::Sqlite,
        "column staff_sessions.token_hash: text null",
        TEXT_KEY,
    ),
    (
        Side::Postgres,
        "column staff_sessions.token_hash: text not null",
        TEXT_KEY,
    ),
    (Side::Sqlite, "table course_refresh_clock", REFRESH_CLOCK),
    (
        Side::Sqlite,
        "column course_refresh_clock.id: integer not null",
        REFRESH_CLOCK,
    ),
    (
        Side::Sqlite,
        "column course_refresh_clock.seq: integer not null",
        REFRESH_CLOCK,
    ),
    (
        Side::Sqlite,
        "primary key course_refresh_clock(id)",
        REFRESH_CLOCK,
    ),
];

/// The stale marks' seq (migration 0021) comes from a sequence on
/// PostgreSQL; SQLite has no sequences, so a one-row counter stands in.
const REFRESH_CLOCK: &str = "SQLite's stand-in for PostgreSQL's course_refresh_seq";

/// SQLite lets a PRIMARY KEY column other than INTEGER hold NULL, "due to a
/// bug in some early versions" kept for compatibility
/// (sqlite.org/lang_createtable.html#the_primary_key); PostgreSQL's primary
/// key implies NOT NULL. The store always writes these keys; adding NOT NULL
/// on SQLite would need the tables rebuilt.
const TEXT_KEY: &str = "SQLite's non-INTEGER primary key admits NULL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Sqlite,
    Postgres,
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let Some(admin) = postgres_admin() else {
        return;
    };
    let folder = Folder::new();
    let sqlite_url = DatabaseUrl::sqlite_file(&folder.0.join("parity.sqlite"));
    let database = PostgresDatabase::create(&admin).await;
    let postgres_url: DatabaseUrl = database.url().parse().unwrap();
    for url in [&sqlite_url, &postgres_url] {
        let store = Store::connect(url, PoolSettings::default()).await.unwrap();
        store.migrate(jiff::Timestamp::now()).await.unwrap();
        store.close().await;
    }

    let mut sqlite = sqlx::SqliteConnection::connect(sqlite_url.connection_string())
        .await
        .unwrap();
    let sqlite = sqlite_schema(&mut sqlite).await;
    let mut postgres = sqlx::PgConnection::connect(&database.url()).await.unwrap();
    let postgres = postgres_schema(&mut postgres).await;
    assert!(
        sqlite.iter().any(|l| l.starts_with("unique ")) && sqlite.len() > 50,
        "the catalogue read found too little: {sqlite:#?}"
    );

    let mut unexplained = Vec::new();
    let mut unused: Vec<_> = ALLOWED.iter().collect();
    for (side, only, other) in [
        (Side::Sqlite, &sqlite, &postgres),
        (Side::Postgres, &postgres, &sqlite),
    ] {
        for line in only.difference(other) {
            match unused.iter().position(|(s, l, _)| *s == side && l == line) {
                Some(i) => {
                    unused.remove(i);
                }
                None => unexplained.push(format!("only on {side:?}: {line}")),
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "the SQLite and PostgreSQL schemas differ (fix a migration, or add the \
         difference to ALLOWED with its reason):\n  {}",
        unexplained.join("\n  ")
    );
    assert!(
        unused.is_empty(),
        "ALLOWED names differences that no longer exist: {unused:?}"
    );
}

/// `RESPITE_TEST_POSTGRES`, or `None` (with a note) when the PostgreSQL
/// half may be skipped; panics when the test command requires it.
pub(crate) fn postgres_admin() -> Option<String> {
    if let Ok(admin) = std::env::var("RESPITE_TEST_POSTGRES") {
        return Some(admin);
    }
    if std::env::var("RESPITE_REQUIRE_POSTGRES").is_ok() {
        panic!("RESPITE_REQUIRE_POSTGRES is set but RESPITE_TEST_POSTGRES is not");
    }
    eprintln!("note: RESPITE_TEST_POSTGRES not set: schema parity not checked");
    None
}

/// The family of a column type: what the portable queries can rely on.
fn family(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    let family = if t.contains("bool") {
        "boolean"
    } else if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") {
        "text"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
        "real"
    } else if t.contains("blob") || t.contains("bytea") {
        "blob"
    } else if t.contains("numeric") || t.contains("decimal") {
        "numeric"
    } else {
        return format!("other ({t})");
    };
    family.to_owned()
}

/// A partial index's condition, compared without casts, brackets, case or
/// spacing: PostgreSQL prints `(status <> 'cancelled'::text)` for SQLite's
/// `status <> 'cancelled'`.
fn condition(text: &str) -> String {
    let text = text.to_ascii_lowercase();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("::") {
        out.push_str(&rest[..at]);
        rest = rest[at + 2..].trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '_');
        for word in [" varying", " precision"] {
            rest = rest.strip_prefix(word).unwrap_or(rest);
        }
    }
    out.push_str(rest);
    out.replace(['(', ')'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn index_line(unique: bool, table: &str, columns: &str, predicate: Option<&str>) -> String {
    let kind = if unique { "unique" } else { "index" };
    match predicate.map(condition).filter(|c| !c.is_empty()) {
        Some(predicate) => format!("{kind} {table}({columns}) where {predicate}"),
        None => format!("{kind} {table}({columns})"),
    }
}

fn action(rule: &str) -> &'static str {
    match rule.to_ascii_lowercase().as_str() {
        "cascade" | "c" => "cascade",
        "set null" | "n" => "set null",
        "set default" | "d" => "set default",
        "restrict" | "r" => "restrict",
        _ => "no action",
    }
}

async fn sqlite_schema(conn: &mut sqlx::SqliteConnection) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for (table,) in tables {
        lines.insert(format!("table {table}"));
        let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
        )
        .bind(&table)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let mut key: Vec<(i64, &str)> = Vec::new();
        for (name, declared, not_null, pk) in &columns {
            // An INTEGER PRIMARY KEY is the rowid and never NULL, though
            // the pragma says nullable (sqlite.org/lang_createtable.html#rowid).
            let rowid = *pk == 1 && declared.eq_ignore_ascii_case("integer");
            let null = if *not_null == 1 || rowid {
                "not null"
            } else {
                "null"
            };
            lines.insert(format!(
                "column {table}.{name}: {} {null}",
                family(declared)
            ));
            if *pk > 0 {
                key.push((*pk, name));
            }
        }
        if !key.is_empty() {
            key.sort();
            let key: Vec<&str> = key.into_iter().map(|(_, n)| n).collect();
            lines.insert(format!("primary key {table}({})", key.join(",")));
        }

        let indexes: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT name, \"unique\", origin FROM pragma_index_list(?1) WHERE origin <> 'pk'",
        )
        .bind(&table)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        for (index, unique, _) in indexes {
            let columns: Vec<(Option<String>,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
            let columns: Vec<String> = columns
                .into_iter()
                .map(|(n,)| n.unwrap_or_else(|| "<expression>".to_owned()))
                .collect();
            let sql: Option<(Option<String>,)> =
                sqlx::query_as("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1")
                    .bind(&index)
                    .fetch_optional(&mut *conn)
                    .await
                    .unwrap();
            let predicate = sql.and_then(|(sql,)| sql).and_then(|sql| {
                let lower = sql.to_ascii_lowercase();
                let on = lower.find(" on ")?;
                let close = on + lower[on..].find(')')?;
                let rest = lower[close + 1..].trim();
                rest.strip_prefix("where").map(str::to_owned)
            });
            lines.insert(index_line(
                unique == 1,
                &table,
                &columns.join(","),
                predicate.as_deref(),
            ));
        }

        let keys: Vec<(i64, String, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )
        .bind(&table)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let mut ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        ids.dedup();
        for id in ids {
            let parts: Vec<_> = keys.iter().filter(|k| k.0 == id).collect();
            let target = &parts[0].1;
            let from: Vec<&str> = parts.iter().map(|k| k.2.as_str()).collect();
            let to: Vec<String> = match parts.iter().map(|k| k.3.clone()).collect() {
                Some(to) => to,
                // `REFERENCES t` without columns: the target's primary key.
                None => sqlx::query_as::<_, (String,)>(
                    "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
                )
                .bind(target)
                .fetch_all(&mut *conn)
                .await
                .unwrap()
                .into_iter()
                .map(|(n,)| n)
                .collect(),
            };
            lines.insert(format!(
                "foreign key {table}({}) -> {target}({}) on update {} on delete {}",
                from.join(","),
                to.join(","),
                action(&parts[0].4),
                action(&parts[0].5)
            ));
        }
    }
    lines
}

async fn postgres_schema(conn: &mut sqlx::PgConnection) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for (table,) in tables {
        lines.insert(format!("table {table}"));
    }

    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for (table, name, declared, nullable) in columns {
        let null = if nullable == "YES" {
            "null"
        } else {
            "not null"
        };
        lines.insert(format!(
            "column {table}.{name}: {} {null}",
            family(&declared)
        ));
    }

    // Every index, with its columns in order (`<expression>` for an
    // expression) and its condition.
    let indexes: Vec<PgIndex> = sqlx::query_as(
        "SELECT t.relname::text AS table_name, ix.indisprimary AS primary_key, \
                ix.indisunique AS is_unique, \
                pg_get_expr(ix.indpred, ix.indrelid) AS predicate, \
                (SELECT string_agg(COALESCE(a.attname::text, '<expression>'), ',' ORDER BY k.ord) \
                 FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                 LEFT JOIN pg_attribute a \
                   ON a.attrelid = ix.indrelid AND a.attnum = k.attnum AND k.attnum > 0) \
                AS columns \
         FROM pg_index ix \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for index in indexes {
        let (table, columns) = (index.table_name, index.columns.unwrap_or_default());
        if index.primary_key {
            lines.insert(format!("primary key {table}({columns})"));
        } else {
            let predicate = index.predicate.as_deref();
            lines.insert(index_line(index.is_unique, &table, &columns, predicate));
        }
    }

    let keys: Vec<PgForeignKey> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text AS table_name, \
                c.confrelid::regclass::text AS target, \
                (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                 FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) \
                AS from_columns, \
                (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                 FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) \
                AS to_columns, \
                c.confupdtype::text AS on_update, c.confdeltype::text AS on_delete \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE c.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for key in keys {
        lines.insert(format!(
            "foreign key {}({}) -> {}({}) on update {} on delete {}",
            key.table_name,
            key.from_columns.unwrap_or_default(),
            key.target,
            key.to_columns.unwrap_or_default(),
            action(&key.on_update),
            action(&key.on_delete)
        ));
    }
    lines
}

/// An index as `pg_index` describes it; `columns` in order, comma-separated.
#[derive(sqlx::FromRow)]
struct PgIndex {
    table_name: String,
    primary_key: bool,
    is_unique: bool,
    predicate: Option<String>,
    columns: Option<String>,
}

/// A foreign key as `pg_constraint` describes it; the actions as its codes.
#[derive(sqlx::FromRow)]
struct PgForeignKey {
    table_name: String,
    target: String,
    from_columns: Option<String>,
    to_columns: Option<String>,
    on_update: String,
    on_delete: String,
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// A throw-away folder, removed on drop.
pub(crate) struct Folder(pub(crate) std::path::PathBuf);

impl Folder {
    pub(crate) fn new() -> Folder {
        let dir = std::env::temp_dir().join(unique("respite_parity"));
        std::fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL database of its own, dropped when the test ends (also when
/// it panics), on a thread and runtime of its own since `Drop` cannot await.
pub(crate) struct PostgresDatabase {
    admin: String,
    name: String,
}

impl PostgresDatabase {
    pub(crate) async fn create(admin: &str) -> PostgresDatabase {
        let name = unique("respite_test_parity");
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .expect("connect to RESPITE_TEST_POSTGRES");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        PostgresDatabase {
            admin: admin.to_owned(),
            name,
        }
    }

    pub(crate) fn url(&self) -> String {
        let base = self
            .admin
            .rsplit_once('/')
            .map_or(self.admin.as_str(), |(b, _)| b);
        format!("{base}/{}", self.name)
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                conn.execute(sql.as_str()).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: test database {} was not dropped", self.name);
        }
    }
}
