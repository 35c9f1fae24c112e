//! The keyed audit chain against a person who can write the database,
//! triggers included, but holds neither the server's audit key nor its data
//! directory: an edited entry re-hashed with plain SHA-256 or under another
//! key, entries removed from the end or the middle, plain entries slipped
//! in after keyed ones. And what the server itself must keep verifying:
//! entries signed before a key rotation, entries from before keyed hashing.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use respite_store::{
    audit_checkpoint_path, AuditChainStatus, AuditEntry, AuditKeys, DatabaseUrl, Engine, Outcome,
    PoolSettings, Store,
};
use sha2::{Digest, Sha256};

use crate::support::{fresh_database, unique, TempDir};

const KEY_A: &str = "8f1c2e3d4a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5";
const KEY_B: &str = "0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9fa";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn keys(hex_keys: &[&str]) -> AuditKeys {
    AuditKeys::parse(&hex_keys.join(","), "test").unwrap()
}

/// A migrated database, a data directory for the checkpoint, and a store
/// keyed with `KEY_A` that wrote `entries` entries.
struct Trail {
    store: Store,
    url: DatabaseUrl,
    engine: Engine,
    checkpoint: std::path::PathBuf,
    _database_dir: crate::support::Scratch,
    _data_dir: TempDir,
}

async fn trail(engine: Engine, entries: usize) -> Trail {
    let (url, database_dir) = fresh_database(engine).await;
    let data_dir = std::env::temp_dir().join(unique("respite_audit_data"));
    std::fs::create_dir_all(&data_dir).unwrap();
    let checkpoint = audit_checkpoint_path(&data_dir, &url);
    let store = Store::connect(&url, PoolSettings::default()).await.unwrap();
    store.migrate(jiff::Timestamp::now()).await.unwrap();
    let store = store
        .with_audit_key(keys(&[KEY_A]))
        .with_audit_checkpoint(checkpoint.clone());
    for n in 0..entries {
        store.append_audit(&entry(n)).await.unwrap();
    }
    Trail {
        store,
        url,
        engine,
        checkpoint,
        _database_dir: database_dir,
        _data_dir: TempDir(data_dir),
    }
}

impl Trail {
    /// Another server process on the same database and data directory,
    /// with `keys`: nothing verified yet in memory.
    async fn server_with(&self, hex_keys: &[&str]) -> Store {
        Store::connect(&self.url, PoolSettings::default())
            .await
            .unwrap()
            .with_audit_key(keys(hex_keys))
            .with_audit_checkpoint(self.checkpoint.clone())
    }

    /// The status by full verification, by incremental verification in the
    /// store that wrote the trail, and by a fresh server; all three agree.
    async fn status(&self) -> AuditChainStatus {
        let full = self.store.verify_audit_chain().await.unwrap();
        let incremental = self.store.verify_audit_chain_incrementally().await.unwrap();
        let fresh = self
            .server_with(&[KEY_A])
            .await
            .verify_audit_chain_incrementally()
            .await
            .unwrap();
        assert_eq!(full, incremental, "{:?}", self.engine);
        assert_eq!(full, fresh, "{:?}", self.engine);
        full
    }

    /// The attacker's connection, with the append-only triggers gone.
    async fn attacker(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        let mut conn =
            <sqlx::AnyConnection as sqlx::Connection>::connect(self.url.connection_string())
                .await
                .unwrap();
        let drop_guards: &[&str] = match self.engine {
            Engine::Sqlite => &[
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ],
            Engine::Postgres => &["ALTER TABLE audit_log DISABLE TRIGGER USER"],
        };
        for statement in drop_guards {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        conn
    }
}

fn entry(n: usize) -> AuditEntry {
    AuditEntry {
        at: Timestamp::from_second(1_790_000_000 + n as i64).unwrap(),
        actor: "nurse@clinic.test".into(),
        actor_role: "nurse".into(),
        action: "read".into(),
        resource_type: "Patient".into(),
        resource_id: n.to_string(),
        source_address: "127.0.0.1".into(),
        outcome: Outcome::Success,
    }
}

/// One stored entry as the attacker reads it.
struct Row {
    seq: i64,
    at: i64,
    fields: Vec<String>,
    hash: String,
    entry_count: i64,
}

async fn rows(conn: &mut sqlx::AnyConnection) -> Vec<Row> {
    type Tuple = (
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
        i64,
    );
    let tuples: Vec<Tuple> = sqlx::query_as(
        "SELECT seq, at, actor, actor_role, action, resource_type, resource_id, source_address, \
         outcome, hash, entry_count FROM audit_log ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    tuples
        .into_iter()
        .map(|(seq, at, a, b, c, d, e, f, g, hash, entry_count)| Row {
            seq,
            at,
            fields: vec![a, b, c, d, e, f, g],
            hash,
            entry_count,
        })
        .collect()
}

/// The attacker re-hashes every entry from `from_seq` on with `rehash`
/// (previous hash, entry) → (key id, hash), and relinks the chain.
async fn rewrite(
    conn: &mut sqlx::AnyConnection,
    from_seq: i64,
    rehash: impl Fn(&str, &Row) -> (String, String),
) {
    let mut prev = GENESIS.to_owned();
    for row in rows(conn).await {
        if row.seq < from_seq {
            prev = row.hash;
            continue;
        }
        let (key_id, hash) = rehash(&prev, &row);
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2, key_id = $3 WHERE seq = $4")
            .bind(&prev)
            .bind(&hash)
            .bind(&key_id)
            .bind(row.seq)
            .execute(&mut *conn)
            .await
            .unwrap();
        prev = hash;
    }
}

/// The chain's hash before keyed hashing, as the code of that time computed
/// it (SHA-256 over the previous hash, the time, and each field with its
/// length): what anyone can compute.
fn plain_sha256(prev: &str, at: i64, fields: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(at.to_be_bytes());
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The keyed hash as the attacker, who has read the open source, computes
/// it under a key of their choosing and any key id.
fn hmac_under(key_hex: &str, key_id: &str, prev: &str, row: &Row) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&hex::decode(key_hex).unwrap()).unwrap();
    mac.update(b"respite audit entry v2\0");
    for part in [key_id, prev] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(&row.entry_count.to_be_bytes());
    mac.update(&row.at.to_be_bytes());
    for field in &row.fields {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

fn key_id(key_hex: &str) -> String {
    keys(&[key_hex]).ids()[0].to_owned()
}

async fn edit_entry_3(conn: &mut sqlx::AnyConnection) {
    sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 3")
        .execute(&mut *conn)
        .await
        .unwrap();
}

async fn an_edit_rehashed_with_plain_sha256_is_detected(engine: Engine) {
    let trail = trail(engine, 6).await;
    assert_eq!(
        trail.status().await,
        AuditChainStatus::Intact { entries: 6 }
    );
    let mut attacker = trail.attacker().await;
    edit_entry_3(&mut attacker).await;

    // Plain SHA-256 in place of the keyed hash.
    rewrite(&mut attacker, 3, |prev, row| {
        (key_id(KEY_A), plain_sha256(prev, row.at, &row.fields))
    })
    .await;
    assert_eq!(trail.status().await, AuditChainStatus::BrokenAt { seq: 3 });

    // The same, dressed as entries from before keyed hashing.
    rewrite(&mut attacker, 3, |prev, row| {
        (String::new(), plain_sha256(prev, row.at, &row.fields))
    })
    .await;
    assert_eq!(trail.status().await, AuditChainStatus::BrokenAt { seq: 3 });

    // The whole trail dressed as from before keyed hashing links and
    // hashes; the signed checkpoint of entry 6 no longer matches it.
    rewrite(&mut attacker, 1, |prev, row| {
        (String::new(), plain_sha256(prev, row.at, &row.fields))
    })
    .await;
    assert_eq!(trail.status().await, AuditChainStatus::BrokenAt { seq: 6 });
}
crate::both_engines!(an_edit_rehashed_with_plain_sha256_is_detected);

async fn an_edit_rehashed_under_another_key_is_detected(engine: Engine) {
    let trail = trail(engine, 6).await;
    let mut attacker = trail.attacker().await;
    edit_entry_3(&mut attacker).await;

    // Another key, claiming the server's key id.
    rewrite(&mut attacker, 3, |prev, row| {
        let id = key_id(KEY_A);
        let hash = hmac_under(KEY_B, &id, prev, row);
        (id, hash)
    })
    .await;
    assert_eq!(trail.status().await, AuditChainStatus::BrokenAt { seq: 3 });

    // Another key under its own id.
    rewrite(&mut attacker, 3, |prev, row| {
        let id = key_id(KEY_B);
        (id.clone(), hmac_under(KEY_B, &id, prev, row))
    })
    .await;
    assert_eq!(
        trail.status().await,
        AuditChainStatus::UnknownKey {
            seq: 3,
            key_id: key_id(KEY_B)
        }
    );

    // Control: the same rewrite under the server's own key is accepted by
    // the chain (so the attacker's hash above is the real format), and only
    // the checkpoint outside the database still catches it.
    rewrite(&mut attacker, 3, |prev, row| {
        let id = key_id(KEY_A);
        (id.clone(), hmac_under(KEY_A, &id, prev, row))
    })
    .await;
    let without_checkpoint = Store::connect(&trail.url, PoolSettings::default())
        .await
        .unwrap()
        .with_audit_key(keys(&[KEY_A]));
    assert_eq!(
        without_checkpoint.verify_audit_chain().await.unwrap(),
        AuditChainStatus::Intact { entries: 6 }
    );
    assert_eq!(trail.status().await, AuditChainStatus::BrokenAt { seq: 6 });
}
crate::both_engines!(an_edit_rehashed_under_another_key_is_detected);

async fn removing_the_newest_entries_is_detected_by_the_checkpoint(engine: Engine) {
    let trail = trail(engine, 6).await;
    assert_eq!(
        trail.status().await,
        AuditChainStatus::Intact { entries: 6 }
    );
    let mut attacker = trail.attacker().await;
    sqlx::query("DELETE FROM audit_log WHERE seq > 4")
        .execute(&mut attacker)
        .await
        .unwrap();
    // What is left links and hashes: only the checkpoint shows the loss.
    let without_checkpoint = Store::connect(&trail.url, PoolSettings::default())
        .await
        .unwrap()
        .with_audit_key(keys(&[KEY_A]));
    assert_eq!(
        without_checkpoint.verify_audit_chain().await.unwrap(),
        AuditChainStatus::Intact { entries: 4 }
    );
    assert_eq!(
        trail.status().await,
        AuditChainStatus::Truncated {
            checkpoint_seq: 6,
            checkpoint_entries: 6,
            head_seq: 4,
            entries: 4
        }
    );

    // A checkpoint the attacker moves back does not verify.
    let moved_back = std::fs::read_to_string(&trail.checkpoint)
        .unwrap()
        .replace("seq=6 entries=6", "seq=4 entries=4");
    std::fs::write(&trail.checkpoint, moved_back).unwrap();
    assert!(matches!(
        trail.status().await,
        AuditChainStatus::CheckpointInvalid { .. }
    ));
}
crate::both_engines!(removing_the_newest_entries_is_detected_by_the_checkpoint);

async fn rotated_keys_keep_earlier_entries_verifiable(engine: Engine) {
    let trail = trail(engine, 3).await;
    // Rotation: the new key is appended to the list; it signs from the next
    // entry on, and the old one stays for what it signed.
    let rotated = trail.server_with(&[KEY_A, KEY_B]).await;
    for n in 3..6 {
        rotated.append_audit(&entry(n)).await.unwrap();
    }
    assert_eq!(
        rotated.verify_audit_chain().await.unwrap(),
        AuditChainStatus::Intact { entries: 6 }
    );
    let mut conn = trail.attacker().await;
    let ids: Vec<(String, i64)> =
        sqlx::query_as("SELECT key_id, entry_count FROM audit_log ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let (a, b) = (key_id(KEY_A), key_id(KEY_B));
    assert_eq!(
        ids,
        [
            (a.clone(), 1),
            (a.clone(), 2),
            (a.clone(), 3),
            (b.clone(), 4),
            (b.clone(), 5),
            (b.clone(), 6)
        ]
    );
    // Dropping the old key from the list leaves its entries unverifiable,
    // and says which key is missing.
    let new_key_only = trail.server_with(&[KEY_B]).await;
    assert_eq!(
        new_key_only.verify_audit_chain().await.unwrap(),
        AuditChainStatus::UnknownKey { seq: 1, key_id: a }
    );
    let old_key_only = trail.server_with(&[KEY_A]).await;
    assert_eq!(
        old_key_only.verify_audit_chain().await.unwrap(),
        AuditChainStatus::UnknownKey { seq: 4, key_id: b }
    );
}
crate::both_engines!(rotated_keys_keep_earlier_entries_verifiable);

/// Inserts `count` entries as the code before keyed hashing wrote them.
async fn insert_plain_entries(conn: &mut sqlx::AnyConnection, count: usize) {
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let last: Option<(String,)> =
        sqlx::query_as("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .unwrap();
    let mut prev = last.map_or_else(|| GENESIS.to_owned(), |(hash,)| hash);
    for n in 0..count {
        let e = entry(n);
        let fields: Vec<String> = vec![
            e.actor,
            e.actor_role,
            e.action,
            e.resource_type,
            e.resource_id,
            e.source_address,
            e.outcome.as_str().to_owned(),
        ];
        let at = e.at.as_millisecond();
        let hash = plain_sha256(&prev, at, &fields);
        sqlx::query(
            "INSERT INTO audit_log (at, actor, actor_role, action, resource_type, resource_id, \
             source_address, outcome, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(at)
        .bind(&fields[0])
        .bind(&fields[1])
        .bind(&fields[2])
        .bind(&fields[3])
        .bind(&fields[4])
        .bind(&fields[5])
        .bind(&fields[6])
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .unwrap();
        prev = hash;
    }
    tx.commit().await.unwrap();
}

async fn entries_from_before_keyed_hashing_verify_only_as_a_prefix(engine: Engine) {
    let trail = trail(engine, 0).await;
    let mut conn = trail.attacker().await;
    insert_plain_entries(&mut conn, 3).await;
    for n in 3..5 {
        trail.store.append_audit(&entry(n)).await.unwrap();
    }
    assert_eq!(
        trail.status().await,
        AuditChainStatus::Intact { entries: 5 }
    );
    // A plain entry after keyed ones is anyone's forgery.
    insert_plain_entries(&mut conn, 1).await;
    let (head,): (i64,) = sqlx::query_as("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        trail
            .server_with(&[KEY_A])
            .await
            .verify_audit_chain()
            .await
            .unwrap(),
        AuditChainStatus::BrokenAt { seq: head }
    );
}
crate::both_engines!(entries_from_before_keyed_hashing_verify_only_as_a_prefix);

/// The audit page verifies incrementally from an anchor 1,000 entries
/// behind the head; what happens before the anchor still shows: a removed
/// entry (its place count changes) at once, an edit at the next full pass.
async fn incremental_verification_sees_a_removal_before_its_anchor(engine: Engine) {
    let trail = trail(engine, 0).await;
    let mut conn = trail.attacker().await;
    insert_plain_entries(&mut conn, 1_100).await;
    trail.store.append_audit(&entry(1_100)).await.unwrap();
    let store = &trail.store;
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        AuditChainStatus::Intact { entries: 1_101 }
    );
    store.append_audit(&entry(1_101)).await.unwrap();
    assert_eq!(
        store.verify_audit_chain_incrementally().await.unwrap(),
        AuditChainStatus::Intact { entries: 1_102 }
    );
    sqlx::query("DELETE FROM audit_log WHERE seq = 5")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        store.verify_audit_chain_incrementally().await.unwrap(),
        AuditChainStatus::BrokenAt { .. }
    ));
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        AuditChainStatus::BrokenAt { seq: 6 }
    );
}
crate::both_engines!(incremental_verification_sees_a_removal_before_its_anchor);

/// The admin's audit page on a server keyed and checkpointed like
/// `respite serve`: intact, then TRUNCATED once the newest entries are gone.
async fn the_audit_page_shows_a_truncated_trail(engine: Engine) {
    use crate::support::{csrf_from, encode, session_from, PASSWORD};
    let trail = trail(engine, 0).await;
    let hash = respite_web::auth::hash_password(PASSWORD).unwrap();
    trail
        .store
        .create_staff_user(
            "admin@clinic.test",
            "Admin",
            respite_domain::Role::Admin,
            &hash,
            Timestamp::now(),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = respite_web::AppState::new(
        trail.store.clone(),
        std::sync::Arc::new(respite_web::WebConfig::default()),
    );
    tokio::spawn(respite_web::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // A token as a browser gets it: from the page's cookie.
    let home = client.get(format!("{base}/")).send().await.unwrap();
    let csrf = csrf_from(&home).expect("csrf cookie");
    let signed_in = client
        .post(format!("{base}/staff/login"))
        .header("cookie", format!("respite_csrf={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("csrf", csrf.as_str()),
            ("email", "admin@clinic.test"),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    let session = session_from(&signed_in).expect("signed in");
    let csrf = csrf_from(&signed_in).expect("csrf rotated at sign-in");
    let page = || async {
        client
            .get(format!("{base}/staff/audit"))
            .header(
                "cookie",
                format!("respite_csrf={csrf}; respite_session={session}"),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    for _ in 0..3 {
        assert!(
            page().await.contains("Hash chain: Intact: all"),
            "{engine:?}"
        );
    }
    let mut attacker = trail.attacker().await;
    let (head,): (i64,) = sqlx::query_as("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&mut attacker)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
        .bind(head - 1)
        .execute(&mut attacker)
        .await
        .unwrap();
    // The view itself appends its own entry after the check.
    let shown = page().await;
    assert!(
        shown.contains(&format!(
            "TRUNCATED: the signed checkpoint names entry {head}, but the trail ends at entry {}",
            head - 2
        )),
        "{engine:?}: {shown}"
    );
    // The requests after it do not overwrite the evidence: their entries
    // extend the shortened chain, not the checkpointed one.
    for _ in 0..4 {
        let shown = page().await;
        assert!(
            shown.contains("chain-broken") && !shown.contains("Intact"),
            "{engine:?}: {shown}"
        );
    }
    assert_eq!(
        trail
            .server_with(&[KEY_A])
            .await
            .verify_audit_chain()
            .await
            .unwrap(),
        AuditChainStatus::BrokenAt { seq: head },
        "{engine:?}"
    );
}
crate::both_engines!(the_audit_page_shows_a_truncated_trail);
