//! The clinic-wide results' page data at scale (docs/outcomes.md,
//! "Clinic-wide" and "Scale"): 100,000 treated patients with 50 pain scores
//! each, generated in the database by bulk `INSERT … SELECT` (PostgreSQL
//! `generate_series`, SQLite a recursive CTE; no HTTP, no per-row round
//! trip; the course triggers of migration 0021 fire as for any write, so
//! every patient is left marked stale). Then, timed: (a) the one-off
//! refresh of every course summary (`Store::refresh_courses`), and (b) the
//! steady-state page data, the exact calls the page makes —
//! `Store::assessed_courses` (refresh with nothing stale, then read the
//! summaries) and `respite_clinical::outcomes::summarise_clinic` — against
//! a baseline measured in the same run on the same database: a plain
//! `SELECT count(*)` over the scores. The page's answer is checked equal to
//! the old path's (every pain report judged from scratch: `treated_courses`
//! and `clinic_results`, also timed) unless `RESPITE_BENCH_OLD_PATH=0`.
//! Writes each query's plan (PostgreSQL `EXPLAIN (ANALYZE, BUFFERS)`,
//! SQLite `EXPLAIN QUERY PLAN`) to `RESPITE_BENCH_PLANS` (default
//! target/bench-outcomes-plans); the refresh's batch queries are explained
//! before the refresh, on the first batch.
//!
//! Run by bench/outcomes/run.sh. Engines: SQLite always (a file on /dev/shm
//! when there is one); PostgreSQL when `RESPITE_TEST_POSTGRES` names a
//! server (a database is created and dropped). Patients:
//! `RESPITE_BENCH_PATIENTS` (default 100,000).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use respite_clinical::outcomes::{
    clinic_results, summarise_clinic, BaselineSettings, ClinicResults,
};
use respite_store::{
    course_summary_queries, DatabaseUrl, ResultsPeriod, Store, COURSE_REFRESH_BATCH, PAIN_LOINC,
};

const SCORES_PER_PATIENT: i64 = 50;
const RUNS: usize = 3;

fn main() {
    let patients: i64 = std::env::var("RESPITE_BENCH_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let plans: PathBuf = std::env::var("RESPITE_BENCH_PLANS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target/bench-outcomes-plans"));
    let _ = std::fs::create_dir_all(&plans);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let mut figures = Vec::new();
        if let Ok(admin) = std::env::var("RESPITE_TEST_POSTGRES") {
            figures.push(postgres(&admin, patients, &plans).await);
        } else {
            eprintln!("RESPITE_TEST_POSTGRES is not set: PostgreSQL skipped");
        }
        if std::env::var("RESPITE_BENCH_ENGINES").map_or(true, |e| e.contains("sqlite")) {
            figures.push(sqlite(patients, &plans).await);
        }
        println!();
        println!(
            "Clinic-wide results page data: {patients} patients × {SCORES_PER_PATIENT} pain scores \
             (medians of {RUNS} runs; plans in {})",
            plans.display()
        );
        println!(
            "  {:<11} {:>12} {:>12} {:>12} {:>12} {:>12} {:>9} {:>12}",
            "engine", "count(*)", "refresh all", "store", "clinical", "page data", "ratio", "old path"
        );
        for f in &figures {
            println!(
                "  {:<11} {:>9.1} ms {:>9.1} ms {:>9.1} ms {:>9.1} ms {:>9.1} ms {:>8.1}x {:>9.1} ms",
                f.engine,
                ms(f.baseline),
                ms(f.refresh),
                ms(f.store),
                ms(f.clinical),
                ms(f.store + f.clinical),
                (f.store + f.clinical).as_secs_f64() / f.baseline.as_secs_f64(),
                f.old_path.map_or(f64::NAN, ms)
            );
        }
        println!(
            "  (refresh all: the one-off refresh of every course after the bulk generation; page \
             data: refresh with nothing stale + read + summarise_clinic, medians; ratio: page data \
             ÷ a plain SELECT count(*) over the scores, same database, same run; old path: every \
             pain report judged from scratch, once)"
        );
    });
}

struct Figures {
    engine: &'static str,
    baseline: Duration,
    refresh: Duration,
    store: Duration,
    clinical: Duration,
    old_path: Option<Duration>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn postgres(admin: &str, patients: i64, plans: &std::path::Path) -> Figures {
    let name = format!("respite_bench_outcomes_{}", std::process::id());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
        .await
        .expect("the PostgreSQL of RESPITE_TEST_POSTGRES");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    let url: DatabaseUrl = format!("{base}/{name}").parse().expect("url");
    let figures = measure("PostgreSQL", &url, patients, plans).await;
    if std::env::var("RESPITE_BENCH_KEEP").is_ok() {
        eprintln!("kept the database {name}");
        return figures;
    }
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop database");
    figures
}

async fn sqlite(patients: i64, plans: &std::path::Path) -> Figures {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("respite-bench-outcomes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let url = DatabaseUrl::sqlite_file(&dir.join("bench.sqlite"));
    let figures = measure("SQLite", &url, patients, plans).await;
    let _ = std::fs::remove_dir_all(&dir);
    figures
}

async fn measure(
    engine: &'static str,
    url: &DatabaseUrl,
    patients: i64,
    plans: &std::path::Path,
) -> Figures {
    let store = Store::connect(url, Default::default())
        .await
        .expect("connect");
    store
        .migrate(jiff::Timestamp::now())
        .await
        .expect("migrate");
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url.connection_string())
        .await
        .expect("connect");
    let started = Instant::now();
    generate(&mut conn, engine, patients).await;
    eprintln!(
        "{engine}: {patients} patients, {} scores generated in {:.1} s",
        patients * SCORES_PER_PATIENT,
        started.elapsed().as_secs_f64()
    );

    let settings = BaselineSettings::default();
    let now = jiff::Timestamp::now();
    let stale = store.stale_course_count().await.expect("stale");
    assert_eq!(stale, patients, "the triggers marked every patient");
    write_plans(
        &mut conn,
        engine,
        plans,
        "refresh",
        &["summaries", "stale marks"],
    )
    .await;

    // (a) The one-off refresh of every course.
    let started = Instant::now();
    let refreshed = store
        .refresh_courses(&settings, now)
        .await
        .expect("refresh");
    let refresh = started.elapsed();
    assert_eq!(refreshed as i64, patients);
    eprintln!(
        "{engine}: {refreshed} courses refreshed in {:.1} s",
        refresh.as_secs_f64()
    );

    // (b) The steady-state page data.
    let mut baseline = Vec::new();
    let mut store_times = Vec::new();
    let mut clinical_times = Vec::new();
    let mut last: Option<ClinicResults> = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM score_observations")
            .fetch_one(&mut conn)
            .await
            .expect("count");
        baseline.push(started.elapsed());
        assert_eq!(n, patients * SCORES_PER_PATIENT);

        let started = Instant::now();
        let courses = store
            .assessed_courses(ResultsPeriod::default(), &settings, now)
            .await
            .expect("courses");
        store_times.push(started.elapsed());
        let started = Instant::now();
        let results = summarise_clinic(&courses);
        clinical_times.push(started.elapsed());
        assert_eq!(results.all.patients as i64, patients);
        last = Some(results);
    }
    let results = last.expect("a run");
    let all = &results.all;
    eprintln!(
        "{engine}: {} assessed, ≥ 30 %: {}, ≥ 50 %: {}, responders followed: {}, median {:?} days; \
         {} condition groups, {} protocols",
        all.assessed,
        all.responders_30,
        all.responders_50,
        all.durability.responders,
        all.durability.median_days,
        results.by_condition.len(),
        results.by_protocol.len()
    );

    // The old path, once: the same answer.
    let old_path = if std::env::var("RESPITE_BENCH_OLD_PATH").map_or(true, |v| v != "0") {
        let started = Instant::now();
        let courses = store
            .treated_courses(ResultsPeriod::default(), settings.window_days)
            .await
            .expect("courses");
        let old = clinic_results(&courses, &settings);
        let took = started.elapsed();
        assert_eq!(
            old, results,
            "{engine}: the summaries give the old path's answer"
        );
        eprintln!(
            "{engine}: the old path gives the same answer ({:.1} s)",
            took.as_secs_f64()
        );
        Some(took)
    } else {
        None
    };
    write_plans(&mut conn, engine, plans, "page", &[]).await;
    store.close().await;
    Figures {
        engine,
        baseline: median(baseline),
        refresh,
        store: median(store_times),
        clinical: median(clinical_times),
        old_path,
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The generated clinic. Patient p (1..=N): first infusion on day p mod 730
/// after 2024-01-01 (two years of starts), six sessions (days 0, 2, 4, 7, 9,
/// 11: the series ends on day 11), one of three protocols, one condition of
/// seven groups (every tenth patient a second); 8 weekly pain scores before
/// the first infusion (two in the 14-day baseline window) and 42 weekly
/// after the series. Baseline 5–9; a third respond strongly (−60 %), a third
/// moderately (−40 %), a third hardly (−10 %); relief lasts 14 to 182 days;
/// ±1 of noise. Every score is a scored NRS questionnaire
/// (questionnaire_assignments + score_observations, the portal's tables).
async fn generate(conn: &mut sqlx::AnyConnection, engine: &str, patients: i64) {
    // Milliseconds are 64-bit: on PostgreSQL an int4 product would overflow.
    const DAY: &str = "CAST(86400000 AS BIGINT)";
    const T0: i64 = 1_704_103_200_000; // 2024-01-01T10:00:00Z
    let first = format!("({T0} + (p % 730) * {DAY})");
    let series_end = format!("({first} + 11 * {DAY})");
    // Score w (0..49): w < 8 before the first infusion, else after the series.
    let at = format!(
        "(CASE WHEN w < 8 THEN {first} - (8 - w) * 7 * {DAY} \
         ELSE {series_end} + ((w - 8) * 7 + 1) * {DAY} END)"
    );
    let baseline = "(5 + p % 5)";
    let percent = "(CASE WHEN p % 3 = 0 THEN 60 WHEN p % 3 = 1 THEN 40 ELSE 10 END)";
    let lasts = "(14 + (p % 13) * 14)";
    let relieved = format!("(w >= 8 AND (w - 8) * 7 + 1 < {lasts})");
    let noise = "((p * 7 + w * 13) % 3 - 1)";
    let raw = format!(
        "({baseline} - (CASE WHEN {relieved} THEN {baseline} * {percent} / 100 ELSE 0 END) + {noise})"
    );
    let value = format!("(CASE WHEN {raw} < 0 THEN 0 WHEN {raw} > 10 THEN 10 ELSE {raw} END)");
    let (patients_from, scores_from) = match engine {
        "PostgreSQL" => (
            format!("generate_series(1, {patients}) AS g(p)"),
            format!(
                "generate_series(1, {patients}) AS g(p) CROSS JOIN generate_series(0, {}) AS h(w)",
                SCORES_PER_PATIENT - 1
            ),
        ),
        _ => (
            format!(
                "(WITH RECURSIVE g(p) AS (SELECT 1 UNION ALL SELECT p + 1 FROM g WHERE p < {patients}) \
                 SELECT p FROM g)"
            ),
            format!(
                "(WITH RECURSIVE g(p) AS (SELECT 1 UNION ALL SELECT p + 1 FROM g WHERE p < {patients}), \
                 h(w) AS (SELECT 0 UNION ALL SELECT w + 1 FROM h WHERE w < {}) \
                 SELECT p, w FROM g CROSS JOIN h)",
                SCORES_PER_PATIENT - 1
            ),
        ),
    };
    let codes = [
        "M54.50", "G43.709", "M17.9", "M79.7", "N80.9", "G90.511", "G89.4",
    ];
    let code_case = codes
        .iter()
        .enumerate()
        .map(|(i, c)| format!("WHEN {i} THEN '{c}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let protocols = [
        "Outpatient series, 0.5 mg/kg/h for 3.5 h",
        "CRPS, outpatient 10-day (Schwartzman 2009)",
        "Low-dose series, 0.3 mg/kg/h for 4 h",
    ];
    let protocol_case = protocols
        .iter()
        .enumerate()
        .map(|(i, c)| format!("WHEN {i} THEN '{c}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let statements = [
        format!(
            "INSERT INTO patients (id, mrn, given_name, family_name, birth_date, sex, time_zone, created_at) \
             SELECT p, 'BENCH-' || p, 'Bench', 'Patient', '1970-01-01', 'female', 'America/Chicago', {T0} \
             FROM {patients_from}"
        ),
        format!(
            "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, diagnosed_by, diagnosed_on) \
             SELECT p, CASE p % 7 {code_case} END, 'bench', '2020-01-01', 'Dr Bench', '2020-02-01' \
             FROM {patients_from}"
        ),
        format!(
            "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, diagnosed_by, diagnosed_on) \
             SELECT p, CASE (p / 10) % 7 {code_case} END, 'bench', '2020-01-01', 'Dr Bench', '2020-02-01' \
             FROM {patients_from} WHERE p % 10 = 0"
        ),
        format!(
            "INSERT INTO infusion_sessions (patient_id, started_at, protocol, total_mg, minutes) \
             SELECT p, {first} + d * {DAY}, CASE p % 3 {protocol_case} END, 100.0, 210 \
             FROM {patients_from} CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 2 UNION ALL SELECT 4 \
             UNION ALL SELECT 7 UNION ALL SELECT 9 UNION ALL SELECT 11) AS days"
        ),
        format!(
            "INSERT INTO questionnaire_assignments (id, patient_id, instrument, source, assigned_at, \
             assigned_by, submitted_at) \
             SELECT (p - 1) * {SCORES_PER_PATIENT} + w + 1, p, 'nrs-pain', 'portal', {at}, 'bench', {at} \
             FROM {scores_from}"
        ),
        format!(
            "INSERT INTO score_observations (assignment_id, patient_id, scale, code_system, code, value, \
             effective_at) \
             SELECT (p - 1) * {SCORES_PER_PATIENT} + w + 1, p, 'score', 'http://loinc.org', '{PAIN_LOINC}', \
             {value}, {at} FROM {scores_from}"
        ),
    ];
    for sql in statements {
        sqlx::query(&sql)
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}\n{sql}"));
    }
    // Fresh statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize`
    // (SQLite) would have by the time a clinic this size looks.
    sqlx::query("ANALYZE")
        .execute(&mut *conn)
        .await
        .expect("analyze");
}

/// Appends the plans of the course summaries' queries to the engine's
/// file: `stage` "refresh" (every patient stale; the batch queries on the
/// first batch, whose marked ids are 1..=COURSE_REFRESH_BATCH) starts the
/// file, "page" (nothing stale) adds the page's queries. `skip`: names left
/// for the other stage.
async fn write_plans(
    conn: &mut sqlx::AnyConnection,
    engine: &str,
    dir: &std::path::Path,
    stage: &str,
    skip: &[&str],
) {
    let mut out = String::new();
    let queries = course_summary_queries();
    for (name, sql) in &queries {
        let batch_query = !matches!(*name, "summaries" | "all summaries" | "stale marks");
        if skip.contains(name) || (stage == "page" && batch_query) {
            continue;
        }
        let explain = if engine == "PostgreSQL" {
            format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")
        } else {
            format!("EXPLAIN QUERY PLAN {sql}")
        };
        let query = sqlx::query(&explain);
        let query = match *name {
            "summaries" => query.bind(i64::MIN).bind(i64::MAX),
            "all summaries" => query,
            "stale marks" => query.bind(i64::MIN).bind(COURSE_REFRESH_BATCH),
            "courses" | "conditions" => query.bind(1i64).bind(COURSE_REFRESH_BATCH),
            _ => query
                .bind(1i64)
                .bind(COURSE_REFRESH_BATCH)
                .bind(14 * 86_400_000i64)
                .bind(PAIN_LOINC),
        };
        let rows = query.fetch_all(&mut *conn).await.expect("explain");
        let title = if batch_query {
            format!("refresh batch: {name} (every patient stale, the first batch)")
        } else {
            format!(
                "{name} ({stage}: {})",
                if stage == "page" {
                    "nothing stale"
                } else {
                    "every patient stale"
                }
            )
        };
        out.push_str(&format!("== {title}\n{sql}\n\n"));
        for row in rows {
            use sqlx::Row;
            let line: String = if engine == "PostgreSQL" {
                row.try_get(0).unwrap_or_default()
            } else {
                let id: i64 = row.try_get(0).unwrap_or_default();
                let parent: i64 = row.try_get(1).unwrap_or_default();
                let detail: String = row.try_get(3).unwrap_or_default();
                format!("{id:>4} {parent:>4}  {detail}")
            };
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    let file = dir.join(format!("{}.txt", engine.to_lowercase()));
    if stage == "refresh" {
        std::fs::write(&file, out).expect("write the plans");
    } else {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .expect("the plans");
        f.write_all(out.as_bytes()).expect("write the plans");
    }
}
