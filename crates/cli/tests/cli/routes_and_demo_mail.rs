//! `respite routes` prints the server's one route table (the browser suite
//! enumerates the portal's routes from it), and `respite demo` refuses an
//! SMTP server whose links could name no reachable address.

use crate::support::*;

#[test]
fn respite_routes_prints_every_route_of_the_table_with_its_access() {
    let (ok, stdout, stderr) = run(&["routes"], "");
    assert!(ok, "{stderr}");
    let printed: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let table = respite_web::routes::route_specs();
    assert_eq!(printed.len(), table.len());
    for (line, spec) in printed.iter().zip(&table) {
        assert_eq!(line["method"], spec.method);
        assert_eq!(line["path"], spec.path);
    }
    let portal_question = printed
        .iter()
        .find(|r| r["method"] == "GET" && r["path"] == "/portal/questionnaires/{id}")
        .expect("the portal's questionnaire page is listed");
    assert_eq!(portal_question["access"], "patient");
    assert_eq!(
        portal_question["audited"]["resource"],
        "QuestionnaireResponse"
    );
    let audit = printed
        .iter()
        .find(|r| r["path"] == "/staff/audit")
        .expect("the audit page is listed");
    assert_eq!(audit["access"], "staff");
    assert_eq!(audit["permission"], "ReadAuditTrail");
}

#[test]
fn the_demo_with_an_smtp_server_needs_a_public_url_when_it_listens_everywhere() {
    let (ok, stdout, stderr) = run(
        &[
            "demo",
            "--bind",
            "0.0.0.0:0",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-tls",
            "plain-loopback-only",
            "--smtp-from",
            "clinic@demo.respite.test",
        ],
        "",
    );
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("RESPITE_PUBLIC_URL: is required with RESPITE_SMTP_HOST"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["demo", "--smtp-host", "127.0.0.1"], "");
    assert!(!ok);
    assert!(
        stderr.contains("RESPITE_SMTP_FROM: is required with RESPITE_SMTP_HOST"),
        "{stderr}"
    );
}
