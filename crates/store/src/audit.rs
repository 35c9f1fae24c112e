//! The audit trail: who did what to which record, when, from where, and how
//! it ended (SPEC §1: health information audited; §2: the admin reviews it).
//!
//! Append-only (database triggers refuse UPDATE and DELETE) and
//! tamper-evident against a person who can write the database, triggers
//! included:
//! - each entry's hash is an HMAC-SHA256, under a key the database never
//!   holds (`audit_keys`), of the previous entry's hash, its own fields, its
//!   key's id and its position in the chain; so an edited row cannot be
//!   re-hashed, with plain SHA-256 or any key but the server's;
//! - after each append the server writes a signed checkpoint of the head
//!   (entry, hash, count) to a file outside the database, so that deleting
//!   the newest rows, which leaves a shorter chain that still links, shows
//!   as a head behind the checkpoint.
//!
//! Entries written before keyed hashing (`key_id` empty) keep their plain
//! SHA-256 and are verified as such, but only as a prefix: once a keyed
//! entry appears, a plain one after it is a break.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hmac::Mac;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::audit_keys::{AuditKey, AuditKeys};
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

/// The entry a request's write appends inside its own transaction (see
/// [`Store::stamped`]): who asked, from where, what the route does, and the
/// record its path names, with outcome success. Once the write committed
/// it is marked written, so that the request does not append a second.
#[derive(Clone, Debug)]
pub struct AuditStamp {
    entry: AuditEntry,
    written: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl AuditStamp {
    /// A stamp for `entry`, whose outcome it sets to success (a write that
    /// fails rolls back and leaves no entry for its stamp).
    pub fn new(mut entry: AuditEntry) -> AuditStamp {
        entry.outcome = Outcome::Success;
        AuditStamp {
            entry,
            written: Default::default(),
        }
    }

    /// The same stamp (written once for both) naming `record` instead of
    /// the path's id: for a write whose record the handler names, e.g. a
    /// weekday's opening hours.
    pub fn naming(&self, record: impl Into<String>) -> AuditStamp {
        let mut stamp = self.clone();
        stamp.entry.resource_id = record.into();
        stamp
    }

    /// Whether a write committed with this stamp's entry.
    pub fn is_written(&self) -> bool {
        self.written.load(std::sync::atomic::Ordering::Acquire)
    }
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

/// Where a server keeps the checkpoint of `database`'s chain: a file in
/// the data directory named after the database (its URL without password),
/// so that servers or tests pointing one data directory at several
/// databases never compare a chain with another database's checkpoint.
pub fn audit_checkpoint_path(data_dir: &Path, database: &crate::DatabaseUrl) -> PathBuf {
    let digest = Sha256::digest(database.redacted().as_bytes());
    data_dir.join(format!("audit-{}.checkpoint", hex::encode(&digest[..8])))
}

/// Incremental verification re-verifies, on every call, each entry appended
/// since the last call and at least this many of the newest entries; the
/// older ones are covered by the anchor checks (the anchor entry unchanged
/// and in its place) and by a full verification at least
/// `FULL_VERIFICATION_EVERY`. An incremental pass took 11 ms against 576 ms
/// for the full chain of 40,000 entries in `benches/audit_verify.rs`.
const REVERIFIED_TAIL: usize = 1000;
const FULL_VERIFICATION_EVERY: Duration = Duration::from_secs(3600);

/// Every checkpoint goes to the file; the log gets one at most this often,
/// to keep a copy off the host (shipped logs) without a line per request.
const CHECKPOINT_LOG_EVERY: Duration = Duration::from_secs(10);

/// The result of verifying the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditChainStatus {
    Intact {
        entries: i64,
    },
    /// The first entry whose stored hash does not match its contents, whose
    /// previous hash does not match the entry before it, or that is not at
    /// its place in the chain (an entry before it was removed).
    BrokenAt {
        seq: i64,
    },
    /// Entry `seq` names a key this server does not hold: its key was left
    /// out of the key list, or the id was forged.
    UnknownKey {
        seq: i64,
        key_id: String,
    },
    /// The chain ends before the signed checkpoint: its newest entries were
    /// removed.
    Truncated {
        checkpoint_seq: i64,
        checkpoint_entries: i64,
        head_seq: i64,
        entries: i64,
    },
    /// The checkpoint file is there but cannot be read or its signature
    /// does not verify with any key held.
    CheckpointInvalid {
        reason: String,
    },
}

impl AuditChainStatus {
    pub fn is_intact(&self) -> bool {
        matches!(self, AuditChainStatus::Intact { .. })
    }
}

impl std::fmt::Display for AuditChainStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditChainStatus::Intact { entries } => {
                write!(f, "intact: all {entries} entries verify")
            }
            AuditChainStatus::BrokenAt { seq } => write!(
                f,
                "broken at entry {seq}: its contents, its hash or its place in the chain were altered"
            ),
            AuditChainStatus::UnknownKey { seq, key_id } => write!(
                f,
                "broken at entry {seq}: it names audit key {key_id}, which is not among the keys held"
            ),
            AuditChainStatus::Truncated {
                checkpoint_seq,
                checkpoint_entries,
                head_seq,
                entries,
            } => write!(
                f,
                "truncated: the signed checkpoint names entry {checkpoint_seq} \
                 ({checkpoint_entries} entries) but the chain ends at entry {head_seq} \
                 ({entries} entries); the newest entries were removed"
            ),
            AuditChainStatus::CheckpointInvalid { reason } => {
                write!(f, "checkpoint not valid: {reason}")
            }
        }
    }
}

/// A signed record of the chain's head, kept outside the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheckpoint {
    /// The head entry, 0 for an empty chain.
    pub seq: i64,
    /// How many entries the chain holds up to and including `seq`.
    pub entries: i64,
    pub hash: String,
    pub key_id: String,
    mac: String,
}

/// What the data directory holds where the checkpoint belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditCheckpointFile {
    /// The store was given no data directory.
    NotConfigured,
    Missing {
        path: PathBuf,
    },
    Present(AuditCheckpoint),
    Unreadable {
        reason: String,
    },
}

/// The audit state a store carries: the keys (from the server's
/// environment or data directory, never from the database), where the
/// checkpoint goes, and how far verification got.
pub(crate) struct AuditSeal {
    keys: AuditKeys,
    /// Whether `keys` is the process's own throw-away key.
    ephemeral: bool,
    checkpoint: Option<PathBuf>,
    progress: std::sync::Mutex<VerifiedProgress>,
    last_logged: std::sync::Mutex<Option<Instant>>,
}

impl AuditSeal {
    pub(crate) fn unkeyed() -> AuditSeal {
        AuditSeal::new(AuditKeys::ephemeral(), true, None)
    }

    fn new(keys: AuditKeys, ephemeral: bool, checkpoint: Option<PathBuf>) -> AuditSeal {
        AuditSeal {
            keys,
            ephemeral,
            checkpoint,
            progress: std::sync::Mutex::new(VerifiedProgress::default()),
            last_logged: std::sync::Mutex::new(None),
        }
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, VerifiedProgress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How far this process has verified the chain.
#[derive(Default)]
struct VerifiedProgress {
    full_at: Option<Instant>,
    /// A verified entry at least `REVERIFIED_TAIL` behind the head.
    anchor: Option<Anchor>,
}

#[derive(Clone, Debug)]
struct Anchor {
    seq: i64,
    hash: String,
    entries: i64,
    /// Whether a keyed entry is at or before the anchor.
    keyed: bool,
}

/// The head an append left.
struct ChainHead {
    seq: i64,
    hash: String,
    entries: i64,
}

/// One stored entry, every column: what the trail shows and what the
/// chain covers.
#[derive(sqlx::FromRow)]
struct StoredEntry {
    seq: i64,
    at: i64,
    actor: String,
    actor_role: String,
    action: String,
    resource_type: String,
    resource_id: String,
    source_address: String,
    outcome: String,
    prev_hash: String,
    hash: String,
    key_id: String,
    entry_count: i64,
}

impl StoredEntry {
    fn record(self) -> StoreResult<AuditRecord> {
        Ok(AuditRecord {
            seq: self.seq,
            at: from_millis(self.at)?,
            actor: self.actor,
            actor_role: self.actor_role,
            action: self.action,
            resource_type: self.resource_type,
            resource_id: self.resource_id,
            source_address: self.source_address,
            outcome: self.outcome,
            hash: self.hash,
        })
    }
}

/// The columns of [`StoredEntry`], for every query that reads entries.
const ENTRY_COLUMNS: &str = "seq, at, actor, actor_role, action, resource_type, resource_id, \
     source_address, outcome, prev_hash, hash, key_id, entry_count";

impl Store {
    /// This store signs new audit entries with the last of `keys` and
    /// verifies with all of them. The keys stay in memory; the database
    /// never sees them.
    pub fn with_audit_key(mut self, keys: AuditKeys) -> Store {
        let checkpoint = self.audit.checkpoint.clone();
        self.audit = std::sync::Arc::new(AuditSeal::new(keys, false, checkpoint));
        self
    }

    /// This store writes a signed checkpoint of the chain's head to `file`
    /// (see [`audit_checkpoint_path`]) after each append, and verification
    /// checks the chain against it.
    pub fn with_audit_checkpoint(mut self, file: PathBuf) -> Store {
        let seal = AuditSeal::new(self.audit.keys.clone(), self.audit.ephemeral, Some(file));
        self.audit = std::sync::Arc::new(seal);
        self
    }

    /// Appends one entry to the chain in a transaction of its own, then
    /// writes the checkpoint. For an entry that records a write, use
    /// [`Store::stamped`] instead, so that the two commit together.
    pub async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let tx = self.begin_write().await?;
        self.commit_with_entry(tx, entry).await
    }

    /// This store, carrying `stamp`: the first write made through it appends
    /// the stamp's entry inside its own transaction, just before its commit
    /// (see [`Store::commit`]), and marks the stamp written. Writers
    /// without a request (the job worker, the mail poller) use the store
    /// unstamped and append their entries, if any, on their own.
    pub fn stamped(&self, stamp: &AuditStamp) -> Store {
        let mut store = self.clone();
        store.stamp = Some(std::sync::Arc::new(stamp.clone()));
        store
    }

    /// Begins a write transaction: on SQLite it takes the write lock before
    /// reading (a deferred transaction would fail with SQLITE_BUSY_SNAPSHOT
    /// when another write lands between its read and its first write, and
    /// holding the lock is what serialises the audit chain there).
    pub(crate) async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    /// Commits a write transaction. On a stamped store whose stamp is not yet
    /// written, the stamp's entry (naming `record`, the record the write
    /// created or changed, when given) is appended first, in `tx`, so that
    /// the change and its entry commit together or not at all.
    pub(crate) async fn commit(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Any>,
        record: Option<&str>,
    ) -> StoreResult<()> {
        let Some(stamp) = self.stamp.as_ref().filter(|s| !s.is_written()) else {
            tx.commit().await?;
            return Ok(());
        };
        let mut entry = stamp.entry.clone();
        if let Some(record) = record {
            entry.resource_id = record.to_owned();
        }
        self.commit_with_entry(tx, &entry).await?;
        stamp
            .written
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Appends `entry` in `tx`, commits, then writes the checkpoint.
    ///
    /// Lock order (every path takes them in this order, never back):
    /// 1. the transaction's own locks: SQLite's write lock (`BEGIN
    ///    IMMEDIATE`, see [`Store::begin_write`]); PostgreSQL's per-person,
    ///    schedule or row locks its statements took;
    /// 2. `audit_lock`, this process's mutex, held from the append to after
    ///    the checkpoint is written, so that checkpoints go out in order;
    /// 3. on PostgreSQL the chain's advisory lock (one chain across every
    ///    server sharing the database), released by the commit.
    async fn commit_with_entry(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        entry: &AuditEntry,
    ) -> StoreResult<()> {
        let _in_process = self.audit_lock.lock().await;
        if self.audit.ephemeral {
            warn_once_unkeyed();
        }
        if self.engine == Engine::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(727465)")
                .execute(&mut *tx)
                .await?;
        }
        let head = append_after_last(&mut tx, self.audit.keys.signing(), entry).await?;
        // Checked on this transaction's connection: after the commit the
        // pool may have none to spare (writers waiting for this lock hold
        // theirs).
        let extends = self.head_extends_checkpoint(&mut tx, &head).await;
        tx.commit().await?;
        // After the commit, so that the checkpoint is never ahead of a
        // durable head; under the lock, so that checkpoints go out in order.
        self.record_checkpoint(&head, extends, false).await;
        Ok(())
    }

    /// Writes a checkpoint of the chain's current head (a server does so at
    /// start, after the chain verified, so that it has one before its
    /// first append).
    pub async fn write_audit_checkpoint(&self) -> StoreResult<AuditCheckpoint> {
        let _in_process = self.audit_lock.lock().await;
        let last: Option<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT seq, hash, key_id, entry_count FROM audit_log ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let head = match last {
            None => ChainHead {
                seq: 0,
                hash: GENESIS.to_owned(),
                entries: 0,
            },
            Some((seq, hash, key_id, entries)) if !key_id.is_empty() => {
                ChainHead { seq, hash, entries }
            }
            Some((seq, hash, _, _)) => {
                let (entries,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
                    .fetch_one(&self.pool)
                    .await?;
                ChainHead { seq, hash, entries }
            }
        };
        let extends = match self.pool.acquire().await {
            Ok(mut conn) => self.head_extends_checkpoint(&mut conn, &head).await,
            Err(err) => Err(err.into()),
        };
        self.record_checkpoint(&head, extends, true).await;
        Ok(AuditCheckpoint::sign(self.audit.keys.signing(), &head))
    }

    /// The checkpoint file, as the data directory holds it now.
    pub async fn audit_checkpoint(&self) -> AuditCheckpointFile {
        let Some(path) = self.audit.checkpoint.clone() else {
            return AuditCheckpointFile::NotConfigured;
        };
        let read = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || std::fs::read_to_string(path)).await
        };
        match read {
            Ok(Ok(text)) => match AuditCheckpoint::parse(&text) {
                Some(checkpoint) => AuditCheckpointFile::Present(checkpoint),
                None => AuditCheckpointFile::Unreadable {
                    reason: format!("{}: is not an audit checkpoint", path.display()),
                },
            },
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::NotFound => {
                AuditCheckpointFile::Missing { path }
            }
            Ok(Err(err)) => AuditCheckpointFile::Unreadable {
                reason: format!("{}: {err}", path.display()),
            },
            Err(err) => AuditCheckpointFile::Unreadable {
                reason: format!("{}: {err}", path.display()),
            },
        }
    }

    /// One page of the entries matching `filter` (its `limit` unused), newest
    /// first, keyset on `seq` (see `lists`): new entries, which every view
    /// of the page adds, come before the first page and never shift a later
    /// one. Only the filters given become clauses, so that the indexes by
    /// actor and by resource (migration 0010) serve them.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        at: crate::PageAt,
        size: i64,
    ) -> StoreResult<crate::Paged<AuditRecord>> {
        use crate::lists::{Keyset, Param};
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        for (column, value) in [
            ("actor", &filter.actor),
            ("resource_type", &filter.resource_type),
            ("outcome", &filter.outcome),
        ] {
            if let Some(value) = value {
                params.push(Param::Text(value.clone()));
                clauses.push(format!("{column} = ${}", params.len()));
            }
        }
        if let Some(since) = filter.since {
            params.push(Param::Int(to_millis(since)));
            clauses.push(format!("at >= ${}", params.len()));
        }
        if let Some(until) = filter.until {
            params.push(Param::Int(to_millis(until)));
            clauses.push(format!("at <= ${}", params.len()));
        }
        if clauses.is_empty() {
            clauses.push("1 = 1".to_owned());
        }
        let select = format!("SELECT {ENTRY_COLUMNS} FROM audit_log");
        let list = Keyset {
            select: &select,
            from: "FROM audit_log",
            filter: clauses.join(" AND "),
            params,
            key: "seq",
            key_of: "SELECT seq FROM audit_log WHERE seq = ",
            descending: true,
        };
        let page = self
            .keyset_page(&list, at, size, |row: &StoredEntry| row.seq)
            .await?;
        Ok(crate::Paged {
            rows: page
                .rows
                .into_iter()
                .map(StoredEntry::record)
                .collect::<StoreResult<_>>()?,
            offset: page.offset,
            total: page.total,
            has_previous: page.has_previous,
            has_next: page.has_next,
        })
    }

    /// Entries matching `filter`, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        // Each filter is `($n = '' OR column = $n)` so one statement serves
        // every combination without building SQL from input.
        let rows: Vec<StoredEntry> = sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log \
             WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR resource_type = $2) \
             AND ($3 = '' OR outcome = $3) AND at >= $4 AND at <= $5 \
             ORDER BY seq DESC LIMIT $6"
        ))
        .bind(filter.actor.clone().unwrap_or_default())
        .bind(filter.resource_type.clone().unwrap_or_default())
        .bind(filter.outcome.clone().unwrap_or_default())
        .bind(filter.since.map_or(i64::MIN, to_millis))
        .bind(filter.until.map_or(i64::MAX, to_millis))
        .bind(if filter.limit > 0 { filter.limit } else { 200 })
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredEntry::record).collect()
    }

    /// Walks the whole chain, recomputes every hash, and checks it against
    /// the checkpoint.
    pub async fn verify_audit_chain(&self) -> StoreResult<AuditChainStatus> {
        let rows: Vec<StoredEntry> = sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY seq"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut walk = ChainWalk {
            keys: &self.audit.keys,
            expected_prev: GENESIS.to_owned(),
            entries: 0,
            keyed_seen: false,
        };
        let total = rows.len();
        let mut head_seq = 0;
        let mut anchor = None;
        for (index, row) in rows.into_iter().enumerate() {
            let row = ChainRow::from(row);
            if let Err(status) = walk.step(&row) {
                self.audit.progress().anchor = None;
                return Ok(status);
            }
            head_seq = row.seq;
            if index + 1 + REVERIFIED_TAIL == total {
                anchor = Some(walk.anchor_at(&row));
            }
        }
        let status = self
            .check_against_checkpoint(head_seq, walk.entries)
            .await?;
        let mut progress = self.audit.progress();
        if status.is_intact() {
            progress.full_at = Some(Instant::now());
            progress.anchor = anchor;
        } else {
            progress.anchor = None;
        }
        Ok(status)
    }

    /// Verifies what changed since the last verification in this process:
    /// the anchor entry (unchanged, in its place), every entry after it,
    /// and the checkpoint. The whole chain when there is no anchor yet or
    /// the last full verification is older than an hour.
    pub async fn verify_audit_chain_incrementally(&self) -> StoreResult<AuditChainStatus> {
        let anchor = {
            let progress = self.audit.progress();
            let recent = progress
                .full_at
                .is_some_and(|at| at.elapsed() < FULL_VERIFICATION_EVERY);
            progress.anchor.clone().filter(|_| recent)
        };
        let Some(anchor) = anchor else {
            return self.verify_audit_chain().await;
        };
        let status = self.verify_after(&anchor).await?;
        if !status.is_intact() {
            self.audit.progress().anchor = None;
        }
        Ok(status)
    }

    async fn verify_after(&self, anchor: &Anchor) -> StoreResult<AuditChainStatus> {
        let broken_anchor = AuditChainStatus::BrokenAt { seq: anchor.seq };
        let anchor_row: Option<StoredEntry> = sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq = $1"
        ))
        .bind(anchor.seq)
        .fetch_optional(&self.pool)
        .await?;
        let Some(anchor_row) = anchor_row.map(ChainRow::from) else {
            return Ok(broken_anchor);
        };
        let mut walk = ChainWalk {
            keys: &self.audit.keys,
            expected_prev: anchor_row.prev_hash.clone(),
            entries: anchor.entries - 1,
            keyed_seen: false,
        };
        if let Err(status) = walk.step(&anchor_row) {
            return Ok(status);
        }
        walk.keyed_seen |= anchor.keyed;
        let (before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE seq <= $1")
            .bind(anchor.seq)
            .fetch_one(&self.pool)
            .await?;
        if anchor_row.hash != anchor.hash || before != anchor.entries {
            return Ok(broken_anchor);
        }
        let rows: Vec<StoredEntry> = sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq"
        ))
        .bind(anchor.seq)
        .fetch_all(&self.pool)
        .await?;
        let total = rows.len();
        let mut head_seq = anchor.seq;
        let mut next_anchor = None;
        for (index, row) in rows.into_iter().enumerate() {
            let row = ChainRow::from(row);
            if let Err(status) = walk.step(&row) {
                return Ok(status);
            }
            head_seq = row.seq;
            if index + 1 + REVERIFIED_TAIL == total {
                next_anchor = Some(walk.anchor_at(&row));
            }
        }
        let status = self
            .check_against_checkpoint(head_seq, walk.entries)
            .await?;
        if let (true, Some(next)) = (status.is_intact(), next_anchor) {
            self.audit.progress().anchor = Some(next);
        }
        Ok(status)
    }

    /// A chain that verified up to `head_seq` with `entries` entries, held
    /// against the checkpoint: the checkpoint's signature verifies, the
    /// chain reaches it, and its entry still has its hash and its place.
    /// A checkpoint behind the head is fine (several servers share one
    /// PostgreSQL, each with its own checkpoint).
    async fn check_against_checkpoint(
        &self,
        head_seq: i64,
        entries: i64,
    ) -> StoreResult<AuditChainStatus> {
        let checkpoint = match self.audit_checkpoint().await {
            AuditCheckpointFile::Present(checkpoint) => checkpoint,
            AuditCheckpointFile::Unreadable { reason } => {
                return Ok(AuditChainStatus::CheckpointInvalid { reason })
            }
            AuditCheckpointFile::NotConfigured | AuditCheckpointFile::Missing { .. } => {
                return Ok(AuditChainStatus::Intact { entries })
            }
        };
        if !checkpoint.verifies(&self.audit.keys) {
            return Ok(AuditChainStatus::CheckpointInvalid {
                reason: format!(
                    "its signature does not verify with the audit keys held (it names key {})",
                    checkpoint.key_id
                ),
            });
        }
        if checkpoint.seq > head_seq || checkpoint.entries > entries {
            return Ok(AuditChainStatus::Truncated {
                checkpoint_seq: checkpoint.seq,
                checkpoint_entries: checkpoint.entries,
                head_seq,
                entries,
            });
        }
        if checkpoint.seq == 0 {
            return Ok(AuditChainStatus::Intact { entries });
        }
        let stored: Option<(String,)> = sqlx::query_as("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(checkpoint.seq)
            .fetch_optional(&self.pool)
            .await?;
        let (before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE seq <= $1")
            .bind(checkpoint.seq)
            .fetch_one(&self.pool)
            .await?;
        if stored.map(|(hash,)| hash).as_deref() != Some(checkpoint.hash.as_str())
            || before != checkpoint.entries
        {
            return Ok(AuditChainStatus::BrokenAt {
                seq: checkpoint.seq,
            });
        }
        Ok(AuditChainStatus::Intact { entries })
    }

    /// Writes `head`'s checkpoint to the file (temporary file, then
    /// rename: a reader sees the old checkpoint or the new, never half) and
    /// now and then to the log. A failed write is logged, not returned: the
    /// entry is committed, and the next append writes a newer checkpoint.
    async fn record_checkpoint(
        &self,
        head: &ChainHead,
        extends: StoreResult<bool>,
        always_log: bool,
    ) {
        let Some(path) = self.audit.checkpoint.clone() else {
            return;
        };
        match extends {
            Ok(true) => {}
            Ok(false) => {
                // Overwriting would erase the evidence: the chain no longer
                // reaches the checkpoint (entries removed), or the file is
                // not one this server signed. Verification keeps failing
                // until an operator has looked and moved the file away.
                tracing::error!(
                    path = %path.display(),
                    "audit checkpoint kept: the chain does not extend it; run `respite audit verify`"
                );
                return;
            }
            Err(err) => {
                tracing::error!(path = %path.display(), error = %err, "audit checkpoint: cannot check");
                return;
            }
        }
        let checkpoint = AuditCheckpoint::sign(self.audit.keys.signing(), head);
        let line = checkpoint.to_line();
        let written = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || write_atomically(&path, line.as_bytes())).await
        };
        match written {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::error!(path = %path.display(), error = %err, "audit checkpoint: cannot write");
                return;
            }
            Err(err) => {
                tracing::error!(path = %path.display(), error = %err, "audit checkpoint: cannot write");
                return;
            }
        }
        let due = {
            let mut last = self
                .audit
                .last_logged
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let due = always_log || last.is_none_or(|at| at.elapsed() >= CHECKPOINT_LOG_EVERY);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            tracing::info!(
                seq = checkpoint.seq,
                entries = checkpoint.entries,
                hash = %checkpoint.hash,
                key_id = %checkpoint.key_id,
                mac = %checkpoint.mac,
                "audit checkpoint"
            );
        }
    }
}

impl Store {
    /// Whether `head` is a later state of the chain the current checkpoint
    /// describes: beyond it, and the checkpointed entry still there with
    /// its hash. True when there is no checkpoint yet.
    async fn head_extends_checkpoint(
        &self,
        conn: &mut sqlx::AnyConnection,
        head: &ChainHead,
    ) -> StoreResult<bool> {
        let checkpoint = match self.audit_checkpoint().await {
            AuditCheckpointFile::Present(checkpoint) => checkpoint,
            AuditCheckpointFile::NotConfigured | AuditCheckpointFile::Missing { .. } => {
                return Ok(true)
            }
            AuditCheckpointFile::Unreadable { .. } => return Ok(false),
        };
        if !checkpoint.verifies(&self.audit.keys) {
            return Ok(false);
        }
        if checkpoint.seq == 0 {
            return Ok(true);
        }
        if head.seq < checkpoint.seq || head.entries < checkpoint.entries {
            return Ok(false);
        }
        let stored: Option<(String,)> = sqlx::query_as("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(checkpoint.seq)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(stored.is_some_and(|(hash,)| hash == checkpoint.hash))
    }
}

impl AuditCheckpoint {
    fn sign(key: &AuditKey, head: &ChainHead) -> AuditCheckpoint {
        AuditCheckpoint {
            seq: head.seq,
            entries: head.entries,
            hash: head.hash.clone(),
            key_id: key.id().to_owned(),
            mac: checkpoint_mac(key, head.seq, head.entries, &head.hash),
        }
    }

    /// Whether a key held signed this checkpoint as it reads.
    pub fn verifies(&self, keys: &AuditKeys) -> bool {
        keys.get(&self.key_id)
            .is_some_and(|key| checkpoint_mac(key, self.seq, self.entries, &self.hash) == self.mac)
    }

    fn to_line(&self) -> String {
        format!(
            "respite-audit-checkpoint v1 seq={} entries={} hash={} key={} mac={}\n",
            self.seq, self.entries, self.hash, self.key_id, self.mac
        )
    }

    fn parse(text: &str) -> Option<AuditCheckpoint> {
        let mut words = text.split_whitespace();
        if words.next()? != "respite-audit-checkpoint" || words.next()? != "v1" {
            return None;
        }
        let (mut seq, mut entries, mut hash, mut key_id, mut mac) = (None, None, None, None, None);
        for word in words {
            match word.split_once('=')? {
                ("seq", value) => seq = value.parse().ok(),
                ("entries", value) => entries = value.parse().ok(),
                ("hash", value) => hash = Some(value.to_owned()),
                ("key", value) => key_id = Some(value.to_owned()),
                ("mac", value) => mac = Some(value.to_owned()),
                _ => return None,
            }
        }
        Some(AuditCheckpoint {
            seq: seq?,
            entries: entries?,
            hash: hash?,
            key_id: key_id?,
            mac: mac?,
        })
    }
}

/// One stored entry with the columns the chain covers.
struct ChainRow {
    seq: i64,
    at: i64,
    fields: [String; 7],
    prev_hash: String,
    hash: String,
    key_id: String,
    entry_count: i64,
}

impl From<StoredEntry> for ChainRow {
    fn from(row: StoredEntry) -> ChainRow {
        ChainRow {
            seq: row.seq,
            at: row.at,
            fields: [
                row.actor,
                row.actor_role,
                row.action,
                row.resource_type,
                row.resource_id,
                row.source_address,
                row.outcome,
            ],
            prev_hash: row.prev_hash,
            hash: row.hash,
            key_id: row.key_id,
            entry_count: row.entry_count,
        }
    }
}

impl ChainRow {
    fn fields(&self) -> [&str; 7] {
        [
            &self.fields[0],
            &self.fields[1],
            &self.fields[2],
            &self.fields[3],
            &self.fields[4],
            &self.fields[5],
            &self.fields[6],
        ]
    }
}

/// Verification in order, one entry at a time.
struct ChainWalk<'a> {
    keys: &'a AuditKeys,
    expected_prev: String,
    /// Entries verified so far, the last one included.
    entries: i64,
    keyed_seen: bool,
}

impl ChainWalk<'_> {
    fn step(&mut self, row: &ChainRow) -> Result<(), AuditChainStatus> {
        let broken = AuditChainStatus::BrokenAt { seq: row.seq };
        self.entries += 1;
        if row.prev_hash != self.expected_prev {
            return Err(broken);
        }
        let recomputed = if row.key_id.is_empty() {
            // Plain SHA-256 only before the first keyed entry: anyone can
            // compute it, so one after it would be a forgery.
            if self.keyed_seen {
                return Err(broken);
            }
            legacy_hash(&row.prev_hash, row.at, row.fields())
        } else {
            let Some(key) = self.keys.get(&row.key_id) else {
                return Err(AuditChainStatus::UnknownKey {
                    seq: row.seq,
                    key_id: row.key_id.clone(),
                });
            };
            if row.entry_count != self.entries {
                return Err(broken);
            }
            self.keyed_seen = true;
            keyed_hash(key, &row.prev_hash, row.entry_count, row.at, row.fields())
        };
        if recomputed != row.hash {
            return Err(broken);
        }
        self.expected_prev.clone_from(&row.hash);
        Ok(())
    }

    fn anchor_at(&self, row: &ChainRow) -> Anchor {
        Anchor {
            seq: row.seq,
            hash: row.hash.clone(),
            entries: self.entries,
            keyed: self.keyed_seen,
        }
    }
}

/// Reads the last entry and inserts the new one chained to it.
async fn append_after_last(
    conn: &mut sqlx::AnyConnection,
    key: &AuditKey,
    entry: &AuditEntry,
) -> StoreResult<ChainHead> {
    let last: Option<(String, String, i64)> =
        sqlx::query_as("SELECT hash, key_id, entry_count FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (prev_hash, entries) = match last {
        None => (GENESIS.to_owned(), 1),
        Some((hash, key_id, count)) if !key_id.is_empty() => (hash, count + 1),
        Some((hash, _, _)) => {
            // The first keyed entry after plain ones counts them, once.
            let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
                .fetch_one(&mut *conn)
                .await?;
            (hash, count + 1)
        }
    };
    let at = to_millis(entry.at);
    let hash = keyed_hash(
        key,
        &prev_hash,
        entries,
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
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (at, actor, actor_role, action, resource_type, resource_id, \
         source_address, outcome, prev_hash, hash, key_id, entry_count) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
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
    .bind(key.id())
    .bind(entries)
    .fetch_one(&mut *conn)
    .await?;
    Ok(ChainHead { seq, hash, entries })
}

/// HMAC-SHA256 under `key` over a label, the key's id, the previous hash,
/// the entry's place in the chain and every field, each variable-length
/// part length-prefixed so that no two different entries serialise alike.
fn keyed_hash(key: &AuditKey, prev_hash: &str, entries: i64, at: i64, fields: [&str; 7]) -> String {
    let mut mac = key.mac();
    mac.update(b"respite audit entry v2\0");
    for part in [key.id(), prev_hash] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(&entries.to_be_bytes());
    mac.update(&at.to_be_bytes());
    for field in fields {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// The hash of entries written before keyed hashing: SHA-256 over the
/// previous hash and every field, each length-prefixed.
fn legacy_hash(prev_hash: &str, at: i64, fields: [&str; 7]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(at.to_be_bytes());
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

fn checkpoint_mac(key: &AuditKey, seq: i64, entries: i64, hash: &str) -> String {
    let mut mac = key.mac();
    mac.update(b"respite audit checkpoint v1\0");
    mac.update(&seq.to_be_bytes());
    mac.update(&entries.to_be_bytes());
    mac.update(&(hash.len() as u64).to_be_bytes());
    mac.update(hash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Writes `bytes` to a temporary file beside `path` and renames it over
/// `path`. Not synced: after a power cut the file may hold an older
/// checkpoint, which verification accepts (at or behind the head); the
/// rename never leaves half a file on journalling file systems.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!("{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

fn warn_once_unkeyed() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "no audit key configured: audit entries are signed with a key that lives only in \
             this process and cannot be verified after it ends"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_and_a_changed_field_does_not_verify() {
        let keys = AuditKeys::parse(&"11".repeat(32), "test").unwrap();
        let head = ChainHead {
            seq: 42,
            hash: "ab".repeat(32),
            entries: 40,
        };
        let checkpoint = AuditCheckpoint::sign(keys.signing(), &head);
        let parsed = AuditCheckpoint::parse(&checkpoint.to_line()).unwrap();
        assert_eq!(parsed, checkpoint);
        assert!(parsed.verifies(&keys));
        let moved_back = parsed.to_line().replace("seq=42", "seq=41");
        assert!(!AuditCheckpoint::parse(&moved_back).unwrap().verifies(&keys));
        let other = AuditKeys::parse(&"22".repeat(32), "test").unwrap();
        assert!(!parsed.verifies(&other));
        assert_eq!(AuditCheckpoint::parse("seq=1"), None);
    }
}
