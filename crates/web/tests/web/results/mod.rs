//! Clinic-wide results (SPEC §1 step 6): responder rates and Kaplan–Meier
//! durability by condition and protocol, on a hand-built clinic whose
//! numbers are worked out by hand below; the period filter; the CSV
//! exports (audited as exports); the front desk refused.
//!
//! The clinic. Day 0 = T0 (a Monday, noon UTC) is every patient's first
//! infusion unless said otherwise; sessions on days 0, 2, 4, so the series
//! ends on day 4 and durability counts from there. Baseline: pain 8 on days
//! −7 and −2 (mean 8; 30 % less is 5.6 or below, 50 % less is 4 or below).
//!
//! | patient | condition | protocol | first report after | then                       | verdict             |
//! |---------|-----------|----------|--------------------|----------------------------|---------------------|
//! | P1      | back      | Alpha    | day 5: 4 (−50 %)   | day 20: 6, day 27: 7       | ≥ 50 %; back at 16 d |
//! | P2      | back      | Alpha    | day 5: 5 (−37.5 %) | day 64: 5                  | ≥ 30 %; censored 60 d |
//! | P3      | back      | Alpha    | day 5: 3 (−62.5 %) | day 34: 7, day 41: 8       | ≥ 50 %; back at 30 d |
//! | P4      | back (+ CRPS entered in error) | Alpha | day 5: 6 (−25 %) |              | not a responder     |
//! | P5      | back      | Alpha    | day 5: 8           |                            | not a responder     |
//! | P6      | back      | Alpha    | day 5: 2 (−75 %)   | day 44: 7, 51: 3, 94: 4    | ≥ 50 %; censored 90 d |
//! | P7      | CRPS      | Beta     | day 5: 3 (baseline 6, −50 %, from a questionnaire) | day 15: 4.5, day 22: 5 | ≥ 50 %; back at 11 d |
//! | P8      | CRPS      | Beta     | none yet           |                            | awaiting a report   |
//! | P9      | back      | Alpha    | first infusion day −200; day −195: 8 | | not a responder (outside a period from day −10) |
//!
//! Back pain, any time: 7 patients, 7 assessed, ≥ 30 %: 4 of 7 (57 %), ≥ 50 %: 3 of 7 (43 %).
//! From day −10: 6 patients; 4 of 6 (67 %), 3 of 6 (50 %).
//! Kaplan–Meier, back pain responders (16 e, 30 e, 60 c, 90 c): at day 16, 4 at risk, S = 3/4;
//! at day 30, 3 at risk, S = 3/4 · 2/3 = 1/2; median 30 days. Greenwood V(16) = 1/(4·3),
//! V(30) = 1/12 + 1/(3·2); the log-log 95 % band S^exp(∓1.96 √V / ln S) gives
//! 0.1279–0.9605 at day 16 and 0.0578–0.8449 at day 30.
//! CRPS: 2 patients, 1 assessed: too few to read.

use jiff::{SignedDuration, Timestamp};
use respite_domain::Role;
use respite_store::ResultsPeriod;

use crate::support::*;

/// T0: Monday 2026-01-05 12:00 UTC.
fn t0() -> Timestamp {
    "2026-01-05T12:00:00Z".parse().unwrap()
}

fn day(d: i64) -> i64 {
    t0().saturating_add(SignedDuration::from_hours(24 * d))
        .unwrap()
        .as_millisecond()
}

async fn patient(app: &TestApp, mrn: &str) -> i64 {
    app.store
        .insert_patient(
            &respite_store::NewPatient {
                mrn,
                given_name: "Rita",
                family_name: "Result",
                birth_date: jiff::civil::date(1970, 3, 3),
                sex: "female",
                phone_e164: None,
                email: None,
                time_zone: "America/Los_Angeles",
            },
            t0(),
        )
        .await
        .unwrap()
}

async fn exec(conn: &mut sqlx::AnyConnection, sql: &str) {
    sqlx::query(sql).execute(&mut *conn).await.unwrap();
}

/// A patient with a condition, three sessions from `first` and pain reports
/// (day, score) in `observations`.
async fn treated(
    app: &TestApp,
    conn: &mut sqlx::AnyConnection,
    mrn: &str,
    code: &str,
    protocol: &str,
    first: i64,
    pain: &[(i64, f64)],
) -> i64 {
    let id = patient(app, mrn).await;
    exec(
        conn,
        &format!(
            "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, diagnosed_by, \
             diagnosed_on) VALUES ({id}, '{code}', 'x', '2024-01-01', 'Dr X', '2024-02-01')"
        ),
    )
    .await;
    for d in [first, first + 2, first + 4] {
        exec(
            conn,
            &format!(
                "INSERT INTO infusion_sessions (patient_id, started_at, protocol, total_mg, minutes) \
                 VALUES ({id}, {}, '{protocol}', 100.0, 240)",
                day(d)
            ),
        )
        .await;
    }
    for &(d, score) in pain {
        exec(
            conn,
            &format!(
                "INSERT INTO observations (patient_id, observed_at, code_system, code, display, \
                 value, unit) VALUES ({id}, {}, 'http://loinc.org', '72514-3', 'Pain', {score}, '{{score}}')",
                day(d)
            ),
        )
        .await;
    }
    id
}

async fn clinic(app: &TestApp) {
    let mut conn = app.raw().await;
    let c = &mut conn;
    let base = [(-7, 8.0), (-2, 8.0)];
    let with =
        |after: &[(i64, f64)]| -> Vec<(i64, f64)> { base.iter().chain(after).copied().collect() };
    treated(
        app,
        c,
        "R-1",
        "M54.50",
        "Alpha",
        0,
        &with(&[(5, 4.0), (20, 6.0), (27, 7.0)]),
    )
    .await;
    treated(
        app,
        c,
        "R-2",
        "M51.360",
        "Alpha",
        0,
        &with(&[(5, 5.0), (64, 5.0)]),
    )
    .await;
    treated(
        app,
        c,
        "R-3",
        "M54.59",
        "Alpha",
        0,
        &with(&[(5, 3.0), (34, 7.0), (41, 8.0)]),
    )
    .await;
    // A report during the series (day 3) is no rule's: it must not count.
    let p4 = treated(
        app,
        c,
        "R-4",
        "M41.9",
        "Alpha",
        0,
        &with(&[(3, 1.0), (5, 6.0)]),
    )
    .await;
    exec(
        c,
        &format!(
            "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, diagnosed_by, \
             diagnosed_on, entered_in_error_at) VALUES ({p4}, 'G90.50', 'x', '2024-01-01', 'Dr X', \
             '2024-02-01', {})",
            day(1)
        ),
    )
    .await;
    treated(app, c, "R-5", "M54.50", "Alpha", 0, &with(&[(5, 8.0)])).await;
    treated(
        app,
        c,
        "R-6",
        "M54.50",
        "Alpha",
        0,
        &with(&[(5, 2.0), (44, 7.0), (51, 3.0), (94, 4.0)]),
    )
    .await;
    // P7: baseline 6 from a report 30 days before (outside the 14-day
    // window: the last report before it is the baseline); the day-5 score
    // comes from a scored questionnaire.
    let p7 = treated(
        app,
        c,
        "R-7",
        "G90.511",
        "Beta",
        0,
        &[(-30, 6.0), (15, 4.5), (22, 5.0)],
    )
    .await;
    exec(
        c,
        &format!(
            "INSERT INTO questionnaire_assignments (id, patient_id, instrument, source, assigned_at, \
             assigned_by, submitted_at) VALUES (900, {p7}, 'nrs-pain', 'portal', {d}, 'nurse', {d})",
            d = day(5)
        ),
    )
    .await;
    exec(
        c,
        &format!(
            "INSERT INTO score_observations (assignment_id, patient_id, scale, code_system, code, \
             value, effective_at) VALUES (900, {p7}, 'score', 'http://loinc.org', '72514-3', 3.0, {})",
            day(5)
        ),
    )
    .await;
    // Another instrument's score at the same time: not pain.
    exec(
        c,
        &format!(
            "INSERT INTO score_observations (assignment_id, patient_id, scale, code_system, code, \
             value, effective_at) VALUES (900, {p7}, 'total', 'http://loinc.org', '44261-6', 20.0, {})",
            day(6)
        ),
    )
    .await;
    treated(app, c, "R-8", "G90.50", "Beta", 0, &with(&[])).await;
    treated(
        app,
        c,
        "R-9",
        "M54.50",
        "Alpha",
        -200,
        &[(-210, 8.0), (-195, 8.0)],
    )
    .await;
}

async fn text(app: &TestApp, path: &str, session: &str) -> (u16, String) {
    let response = app.get(path, Some(session)).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn results_by_condition_and_protocol(engine: Engine) {
    let app = spawn(engine).await;
    clinic(&app).await;

    // The store: P7's courses carry the window's fallback and the
    // questionnaire's score; P4's report during the series is not read.
    let courses = app
        .store
        .treated_courses(ResultsPeriod::default(), 14)
        .await
        .unwrap();
    assert_eq!(courses.len(), 9);
    assert!(courses[3].pain.iter().all(|r| r.score != 1.0));
    let p7 = &courses[6];
    assert_eq!(p7.protocol, "Beta");
    let p7_scores: Vec<f64> = p7.pain.iter().map(|r| r.score).collect();
    assert_eq!(p7_scores, vec![6.0, 3.0, 4.5, 5.0]);

    let nurse = app.sign_in(Role::Nurse).await;
    let (status, page) = text(&app, "/staff/results", &nurse).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>Clinic-wide results</h1>"));
    let back = section(&page, "responders-by-condition", "Chronic back pain");
    assert!(
        back.contains("<td>7</td><td>7</td><td>4 of 7 (57 %)</td><td>3 of 7 (43 %)</td>"),
        "{back}"
    );
    let crps = section(
        &page,
        "responders-by-condition",
        "Complex regional pain syndrome",
    );
    assert!(crps.contains("Too few to read"), "{crps}");
    assert!(
        crps.contains("<td>2</td><td>1</td><td>1 of 1 (100 %)</td><td>1 of 1 (100 %)</td>"),
        "{crps}"
    );
    assert!(
        crps.contains("1 without a pain score after the series yet"),
        "{crps}"
    );
    let alpha = section(&page, "responders-by-protocol", "Alpha");
    assert!(
        alpha.contains("<td>7</td><td>7</td><td>4 of 7 (57 %)</td>"),
        "{alpha}"
    );
    // P4's CRPS was entered in error: CRPS has only P7 and P8.
    assert!(!page.contains("Other chronic pain"));

    // From day −10 (P9 left out), to day +1.
    let from = t0()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_sub(jiff::Span::new().days(10))
        .unwrap();
    let to = t0()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(1))
        .unwrap();
    let query = format!("from={from}&to={to}");
    let (status, page) = text(&app, &format!("/staff/results?{query}"), &nurse).await;
    assert_eq!(status, 200);
    let back = section(&page, "responders-by-condition", "Chronic back pain");
    assert!(
        back.contains("<td>6</td><td>6</td><td>4 of 6 (67 %)</td><td>3 of 6 (50 %)</td>"),
        "{back}"
    );
    // The durability table: read at days 0, 7, 14, 28, 60, 90.
    let table = section(&page, "table-condition-back-pain", "");
    for row in [
        "<th scope=\"row\">14</th><td>4</td><td>100.0 %</td>",
        "<th scope=\"row\">28</th><td>3</td><td>75.0 %</td><td>12.8 – 96.1 %</td><td>1</td><td>0</td>",
        "<th scope=\"row\">60</th><td>2</td><td>50.0 %</td><td>5.8 – 84.5 %</td><td>2</td><td>1</td>",
        "<th scope=\"row\">90</th><td>1</td><td>50.0 %</td><td>5.8 – 84.5 %</td><td>2</td><td>2</td>",
    ] {
        assert!(table.contains(row), "{row} in {table}");
    }
    // Each curve is drawn (SVG with its band) with the number at risk under it.
    let figure = &page[page.find("id=\"durability-condition-back-pain\"").unwrap()..];
    assert!(figure.contains("<svg"), "{figure}");
    assert!(figure.contains("class=\"confidence km\""), "{figure}");
    assert!(figure.contains(
        "Number at risk — day 0: 4 · day 7: 4 · day 14: 4 · day 28: 3 · day 60: 2 · day 90: 1"
    ));
    assert!(page.contains("4 responders followed: 2 with pain back, 2 still relieved at their last report; median 30 days."));

    // The CSV behind the curves, with the period, exact to 6 decimals.
    let before = export_entries(&app).await;
    let (status, csv) = text(
        &app,
        &format!("/staff/results.csv?table=durability-by-condition&{query}"),
        &nurse,
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "condition,day,at_risk,returned,censored,still_relieved,lower_95,upper_95"
    );
    assert!(
        lines.contains(&"back-pain,16,4,1,0,0.750000,0.127947,0.960549"),
        "{csv}"
    );
    assert!(
        lines.contains(&"back-pain,30,3,1,0,0.500000,0.057847,0.844861"),
        "{csv}"
    );
    assert!(
        lines.contains(&"back-pain,60,2,0,1,0.500000,0.057847,0.844861"),
        "{csv}"
    );
    assert!(lines.contains(&"crps,11,1,1,0,0.000000,,"), "{csv}");
    assert_eq!(export_entries(&app).await, before + 1);
    let (_, csv) = text(
        &app,
        "/staff/results.csv?table=responders-by-protocol",
        &nurse,
    )
    .await;
    assert!(
        csv.contains("Alpha,7,0,0,7,4,0.571429,3,0.428571,false"),
        "{csv}"
    );
    assert!(
        csv.contains("Beta,2,0,1,1,1,1.000000,1,1.000000,true"),
        "{csv}"
    );

    // Bad input names the field and the rule.
    let (status, body) = text(&app, "/staff/results.csv?table=patients", &nurse).await;
    assert_eq!(status, 422);
    assert!(body.contains("must be one of"), "{body}");
    let (status, body) = text(&app, "/staff/results?from=2026-13-01", &nurse).await;
    assert_eq!(status, 422);
    assert!(body.contains("YYYY-MM-DD"), "{body}");
    let (status, _) = text(&app, "/staff/results?from=2026-02-01&to=2026-01-01", &nurse).await;
    assert_eq!(status, 422);

    // The front desk never sees clinical results (SPEC §2).
    let front = app.sign_in(Role::FrontDesk).await;
    assert_eq!(
        app.get("/staff/results", Some(&front))
            .await
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        app.get(
            "/staff/results.csv?table=responders-by-condition",
            Some(&front)
        )
        .await
        .status()
        .as_u16(),
        403
    );
}
both_engines!(results_by_condition_and_protocol);

async fn export_entries(app: &TestApp) -> i64 {
    let mut conn = app.raw().await;
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'export' AND resource_type = 'MeasureReport' \
         AND outcome = 'success'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

/// The part of `page` from the element with id `id` on, starting at the row
/// that names `row` (or the element itself), up to the end of that row or table.
fn section<'a>(page: &'a str, id: &str, row: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let rest = &page[start..];
    let rest = match row {
        "" => rest,
        row => {
            &rest[rest
                .find(row)
                .unwrap_or_else(|| panic!("no {row} in #{id}"))..]
        }
    };
    let end = if row.is_empty() {
        rest.find("</table>").unwrap_or(rest.len())
    } else {
        rest.find("</tr>").unwrap_or(rest.len())
    };
    &rest[..end]
}
