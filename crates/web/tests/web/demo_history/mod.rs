//! The demo's history of infusions is documented whole (SPEC §1 step 5):
//! every past session has its order and second check, vitals at most 15
//! minutes apart while the pump runs (dosing.md, "Monitoring"), an Aldrete
//! of 9 or more before discharge (dosing.md, "Discharge"), the clinician's
//! sign-off, and a register administration that is what the pump delivered.

use std::collections::HashMap;

use crate::support::*;
use respite_domain::access::Role;

both_engines!(every_past_demo_session_is_documented_from_order_to_sign_off);
async fn every_past_demo_session_is_documented_from_order_to_sign_off(engine: Engine) {
    let app = spawn(engine).await;
    let consulting = vec![
        crate::orders::staff_id(&app, Role::FrontDesk).await,
        crate::orders::staff_id(&app, Role::Clinician).await,
    ];
    let now: jiff::Timestamp = "2026-11-27T18:00Z".parse().unwrap();
    let size = respite_store::demo::DemoSize {
        patients: 40,
        inquiries: 0,
    };
    let summary = respite_store::demo::seed(&app.store, now, size, &consulting)
        .await
        .unwrap();
    let mut raw = app.raw().await;
    let past: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM infusion_sessions WHERE started_at < $1 ORDER BY id")
            .bind(now.as_millisecond())
            .fetch_all(&mut raw)
            .await
            .unwrap();
    assert!(past.len() >= 60, "{engine:?}: {}", past.len());
    assert_eq!(summary.documented_sessions, past.len(), "{engine:?}");
    // Each session's administrations: micrograms given, and when.
    let given: HashMap<i64, (i64, Vec<jiff::Timestamp>)> = app
        .store
        .register_entries()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == respite_store::RegisterEntryKind::Administration)
        .filter_map(|e| Some((e.session_id?, e.amount.micrograms(), e.at)))
        .fold(HashMap::new(), |mut sums, (session, ug, at)| {
            let sum = sums.entry(session).or_insert((0, Vec::new()));
            sum.0 += ug;
            sum.1.push(at);
            sums
        });
    let (mut alarms, mut rescues, mut rate_changes, mut held) = (0, 0, 0, 0);
    for (id,) in &past {
        let s = app
            .store
            .infusion_session(*id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{engine:?}: session {id} is not documented"));
        assert_eq!(s.state.code(), "signed-off", "session {id}");
        assert!(s.signed_off_by.is_some() && s.signed_off_at.is_some());
        assert!(s.second_check, "session {id} has its second check");
        let order = app.store.infusion_order(s.order_id).await.unwrap().unwrap();
        assert_eq!(order.patient_id, s.patient_id);
        assert!(order.check.is_some());
        assert!(s.open_alarms().is_empty(), "session {id}");

        // Vitals at most 15 minutes apart from the start to the stop.
        let start = s.infusion_started_at.unwrap();
        let stop = s.stopped_at.unwrap();
        let mut times = vec![start];
        times.extend(
            s.events
                .iter()
                .filter(|e| e.kind == "vitals" && start < e.at && e.at < stop)
                .map(|e| e.at),
        );
        times.push(stop);
        for pair in times.windows(2) {
            let gap = pair[1].as_millisecond() - pair[0].as_millisecond();
            assert!(
                gap <= 15 * 60_000,
                "session {id}: {} min without vitals",
                gap / 60_000
            );
        }
        // Baseline vitals before the start, with pain.
        assert!(s.checklist().baseline_pain, "session {id}");

        // An Aldrete of 9 or more, the latest before the discharge.
        let discharged = s.discharged_at.unwrap();
        let last_aldrete = s
            .events
            .iter()
            .rev()
            .find(|e| e.kind == "aldrete" && e.at <= discharged)
            .and_then(|e| e.score)
            .unwrap_or_default();
        assert!(last_aldrete >= 9.0, "session {id}: Aldrete {last_aldrete}");
        if s.events
            .iter()
            .any(|e| e.kind == "aldrete" && e.score == Some(8.0))
        {
            held += 1;
        }

        // The register gave what the pump delivered, when it stopped.
        let delivered = s.delivered(now).unwrap().total_mg;
        let (ug, times) = given.get(id).cloned().unwrap_or_default();
        assert_eq!(ug, (delivered * 1000.0).round() as i64, "session {id}");
        assert!(
            times.iter().all(|at| *at == stop),
            "session {id}: {times:?}"
        );
        assert!(delivered <= order.total_mg + 0.5 * 4.0, "session {id}");

        alarms += s.alarms.len();
        rescues += s.events.iter().filter(|e| e.kind == "rescue-drug").count();
        rate_changes += s.events.iter().filter(|e| e.kind == "rate-change").count();
        for e in s.events.iter().filter(|e| e.kind == "rescue-drug") {
            let drug = e.drug.as_deref().unwrap_or_default();
            assert!(drug.contains("ondansetron"), "session {id}: {drug}");
        }
    }
    // Now and then, never the rule: a handful of alarms across the clinic.
    assert!(
        alarms * 10 < past.len(),
        "{engine:?}: {alarms} alarms in {} sessions",
        past.len()
    );
    assert!(rescues * 5 < past.len() && rate_changes * 5 < past.len());
    assert!(held * 5 < past.len());

    // The ids the bulk write gave: PostgreSQL's sequences continue past
    // them, so that the next order, event or alarm written live fits.
    if engine == Engine::Postgres {
        for table in [
            "infusion_orders",
            "infusion_order_checks",
            "infusion_session_events",
            "infusion_session_alarms",
        ] {
            let (next, max): (i64, i64) = sqlx::query_as(&format!(
                "SELECT nextval(pg_get_serial_sequence('{table}', 'id')), \
                 (SELECT MAX(id) FROM {table})"
            ))
            .fetch_one(&mut raw)
            .await
            .unwrap();
            assert!(next > max, "{table}: next {next}, largest {max}");
        }
    }

    // The sessions list shows the latest signed off below the day's.
    let clinician = app.sign_in(Role::Clinician).await;
    let list = app
        .get("/staff/sessions", Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Recently signed off"), "{list}");
    assert_eq!(
        list.matches("<a href=\"/staff/sessions/").count(),
        20,
        "{list}"
    );

    // The examples the start-up message names open as documented pages.
    assert!(!summary.example_sessions.is_empty());
    for example in &summary.example_sessions {
        let page = app
            .get(&format!("/staff/sessions/{}", example.id), Some(&clinician))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Planned and delivered"), "{page}");
        assert!(page.contains("Signed off"), "{page}");
    }
}
