//! Durability: no acknowledged inquiry is lost when the server is killed.

use std::time::Duration;

use respite_store::{DatabaseUrl, PoolSettings, Store};

use crate::support::*;

/// A CSRF token from the server, as a browser gets it: the cookie a page
/// sets (the token is signed by the server, so none can be made up).
async fn csrf_token(client: &reqwest::Client, base: &str) -> Option<String> {
    let response = client.get(format!("{base}/")).send().await.ok()?;
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("respite_csrf="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn post_inquiry(client: &reqwest::Client, base: &str, n: usize) -> u16 {
    let Some(csrf) = csrf_token(client, base).await else {
        return 0; // the server is gone
    };
    // One number per person: forms from one number join one thread.
    let line = 3000 + n;
    let body = format!(
        "csrf={csrf}&name=Crash+Test+{n}&phone=%28503%29+725-{line}&preferred_channel=phone\
         &window_days=weekdays&window_start=17%3A00&window_end=19%3A00&time_zone=America%2FChicago\
         &pain_area=back&pain_duration=1-5-years&message=&consent=yes"
    );
    client
        .post(format!("{base}/inquiries"))
        .header("cookie", format!("respite_csrf={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

both_engines!(a_crash_loses_no_acknowledged_inquiry);
/// A server killed with SIGKILL in the middle of a stream of submissions
/// keeps every inquiry it acknowledged (303), on SQLite and PostgreSQL.
async fn a_crash_loses_no_acknowledged_inquiry(engine: Engine) {
    let (db, _scratch) = fresh_database(engine, "crash").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut server = start_server(&db);
    let base = server.1.clone();
    let client2 = client.clone();
    // Submit in the background and kill the server while it runs.
    let submitter = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        for n in 0..400 {
            match post_inquiry(&client2, &base, n).await {
                303 => acknowledged.push(n),
                0 => break, // the server is gone
                other => panic!("unexpected status {other}"),
            }
        }
        acknowledged
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.0.kill().unwrap(); // SIGKILL: no graceful shutdown
    server.0.wait().unwrap();
    let acknowledged = submitter.await.unwrap();
    assert!(
        !acknowledged.is_empty(),
        "{db}: nothing was submitted before the crash"
    );

    // Restart on the same database: everything acknowledged is there.
    let restarted = start_server(&db);
    drop(restarted);
    let url: DatabaseUrl = db.parse().unwrap();
    let store = Store::connect(&url, PoolSettings::default()).await.unwrap();
    let stored = store
        .inquiries_with_status(respite_store::InquiryStatus::New, 10_000)
        .await
        .unwrap();
    for n in &acknowledged {
        let name = format!("Crash Test {n}");
        assert!(
            stored.iter().any(|i| i.name == name),
            "{db}: acknowledged {name} lost"
        );
    }
    store.close().await;
}
