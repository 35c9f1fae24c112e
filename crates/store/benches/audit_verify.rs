//! Full against incremental verification of the keyed audit chain, in the
//! same run: the audit page used to re-hash the whole chain on every view
//! (57 ms at 8k entries, 262 ms at 38k); it now verifies from its anchor.
//!
//! `cargo bench --bench audit_verify` (rows: `RESPITE_BENCH_AUDIT_ROWS`,
//! default 40,000). The chain is written with the real `append_audit` into
//! a SQLite file on /dev/shm when there is one, so that setting it up does
//! not wait on the disk; verification reads through the same pool as the
//! server. Prints the median of each and their ratio.

use std::time::{Duration, Instant};

use respite_store::{AuditChainStatus, AuditEntry, AuditKeys, DatabaseUrl, Outcome, Store};

const KEY: &str = "3c2b1a09f8e7d6c5b4a392817f6e5d4c3b2a190807f6e5d4c3b2a19080706050";

fn main() {
    let rows: usize = std::env::var("RESPITE_BENCH_AUDIT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(rows));
}

async fn run(rows: usize) {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("respite-bench-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = DatabaseUrl::sqlite_file(&dir.join("bench.sqlite"));
    let store = Store::connect(&url, Default::default())
        .await
        .expect("connect");
    store
        .migrate(jiff::Timestamp::now())
        .await
        .expect("migrate");
    let store = store
        .with_audit_key(AuditKeys::parse(KEY, "bench").expect("key"))
        .with_audit_checkpoint(respite_store::audit_checkpoint_path(&dir, &url));
    let started = Instant::now();
    for n in 0..rows {
        store.append_audit(&entry(n)).await.expect("append");
    }
    eprintln!(
        "set-up: {rows} entries appended in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut full = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let status = store.verify_audit_chain().await.expect("verify");
        full.push(started.elapsed());
        assert!(status.is_intact(), "{status}");
    }
    // A page view after a few requests: each run first appends 3 entries
    // (not timed), as the requests between two views of the page would.
    let mut incremental = Vec::new();
    let mut next = rows;
    for _ in 0..31 {
        for _ in 0..3 {
            store.append_audit(&entry(next)).await.expect("append");
            next += 1;
        }
        let started = Instant::now();
        let status = store
            .verify_audit_chain_incrementally()
            .await
            .expect("verify");
        incremental.push(started.elapsed());
        assert_eq!(
            status,
            AuditChainStatus::Intact {
                entries: next as i64
            }
        );
    }
    let (full, incremental) = (median(full), median(incremental));
    println!(
        "audit chain of {rows} entries (SQLite): full verification {:.1} ms, incremental {:.2} ms (medians of 7 and 31): full / incremental = {:.1}",
        ms(full),
        ms(incremental),
        full.as_secs_f64() / incremental.as_secs_f64()
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn entry(n: usize) -> AuditEntry {
    AuditEntry {
        at: jiff::Timestamp::from_second(1_790_000_000 + n as i64).expect("a time"),
        actor: "nurse@clinic.test".into(),
        actor_role: "nurse".into(),
        action: "read".into(),
        resource_type: "Patient".into(),
        resource_id: (n % 500).to_string(),
        source_address: "192.0.2.10".into(),
        outcome: Outcome::Success,
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
