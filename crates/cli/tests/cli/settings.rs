//! Flags and settings: every bad input is refused naming the flag or setting and the rule.

use crate::support::*;

#[test]
fn user_add_creates_users_and_names_every_bad_input() {
    let (db, dir) = temp_sqlite("users");
    let check = |args: &[&str], stdin: &str, ok: bool, expected: &str| {
        let mut all = vec!["user", "add"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--db", &db]);
        let (success, stdout, stderr) = run(&all, stdin);
        assert_eq!(success, ok, "{args:?}: {stdout} {stderr}");
        let text = format!("{stdout}{stderr}");
        assert!(
            text.contains(expected),
            "{args:?}: expected `{expected}` in: {text}"
        );
    };
    check(
        &["--email", "nurse@clinic.example", "--role", "nurse"],
        "a long enough password\n",
        true,
        "created nurse user nurse@clinic.example",
    );
    check(
        &["--email", "nurse@clinic.example", "--role", "nurse"],
        "a long enough password\n",
        false,
        "exists already",
    );
    check(
        &["--email", "x@clinic.example", "--role", "doctor"],
        "a long enough password\n",
        false,
        "valid roles are front-desk, nurse, clinician, admin",
    );
    check(
        &["--email", "not-an-email", "--role", "admin"],
        "a long enough password\n",
        false,
        "--email: must look like",
    );
    check(
        &["--email", "y@clinic.example", "--role", "admin"],
        "short\n",
        false,
        "password: must be at least 12 characters",
    );
    check(
        &["--email", "z@clinic.example", "--role", "admin"],
        "",
        false,
        "password: none given",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_database_urls_and_addresses_name_the_flag() {
    let (ok, _, stderr) = run(&["migrate", "--db", "mysql://localhost/x"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--db") && stderr.contains("`mysql` is not a supported scheme"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["migrate", "--db", "sqlite://"], "");
    assert!(!ok);
    assert!(stderr.contains("sqlite:// needs a file path"), "{stderr}");
    let (ok, _, stderr) = run(&["serve", "--bind", "port eighty"], "");
    assert!(!ok);
    assert!(stderr.contains("--bind"), "{stderr}");
    let (ok, _, stderr) = run(
        &["migrate", "--db", "postgres://nobody@127.0.0.1:1/none"],
        "",
    );
    assert!(!ok);
    assert!(stderr.contains("cannot connect"), "{stderr}");
    let (ok, _, stderr) = run(&["user", "add", "--email", "a@b.org"], "");
    assert!(!ok);
    assert!(stderr.contains("--role"), "{stderr}");
}

#[test]
fn bad_messaging_settings_name_the_setting() {
    let (ok, _, stderr) = run(&["serve", "--public-url", "clinic.example.org"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--public-url") && stderr.contains("http(s) URL"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["serve", "--twilio-from", "call me"], "");
    assert!(!ok);
    assert!(stderr.contains("--twilio-from"), "{stderr}");
}

#[test]
fn bad_security_settings_name_the_setting_and_the_rule() {
    let (ok, _, stderr) = run(&["serve", "--trusted-proxy", "proxy.example.org"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--trusted-proxy") && stderr.contains("is not an IPv4 or IPv6 address"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["serve", "--header-timeout-seconds", "0"], "");
    assert!(!ok);
    assert!(stderr.contains("--header-timeout-seconds"), "{stderr}");
}

#[test]
fn bad_reminder_settings_name_the_setting_and_the_rule() {
    let (ok, _, stderr) = run(&["serve", "--reminders", "1d"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--reminders") && stderr.contains("like 24h,1h"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["serve", "--quiet-hours", "21:00-21:00"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--quiet-hours") && stderr.contains("HH:MM-HH:MM"),
        "{stderr}"
    );
}

#[test]
fn bad_mail_settings_name_the_setting() {
    let (ok, _, stderr) = run(&["serve", "--imap-tls", "plain"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--imap-tls") && stderr.contains("plain-loopback-only"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["serve", "--smtp-from", "clinic"], "");
    assert!(!ok);
    assert!(stderr.contains("--smtp-from"), "{stderr}");
    let (ok, _, stderr) = run(&["serve", "--imap-host", "127.0.0.1"], "");
    assert!(!ok);
    assert!(stderr.contains("RESPITE_IMAP_USER"), "{stderr}");

    // A CA file that is missing, or holds no PEM certificate.
    let (_, dir) = temp_sqlite("ca");
    let not_pem = dir.join("not-a-ca.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").unwrap();
    let not_pem = not_pem.to_str().unwrap();
    let check = |flag: &str, file: &str, setting: &str, rule: &str| {
        let (ok, _, stderr) = run(&["serve", flag, file], "");
        assert!(!ok);
        assert!(
            stderr.contains(&format!("{setting}: ")) && stderr.contains(rule),
            "{flag} {file}: {stderr}"
        );
    };
    check(
        "--imap-ca-file",
        "/no/such/ca.pem",
        "RESPITE_IMAP_CA_FILE",
        "cannot read /no/such/ca.pem",
    );
    check(
        "--smtp-ca-file",
        "/no/such/ca.pem",
        "RESPITE_SMTP_CA_FILE",
        "cannot read /no/such/ca.pem",
    );
    check(
        "--imap-ca-file",
        not_pem,
        "RESPITE_IMAP_CA_FILE",
        "holds no PEM certificate",
    );
    check(
        "--smtp-ca-file",
        not_pem,
        "RESPITE_SMTP_CA_FILE",
        "holds no PEM certificate",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_number_of_callback_tries_names_the_flag_and_the_rule() {
    for bad in ["0", "11", "three"] {
        let (ok, _, stderr) = run(&["serve", "--callback-tries", bad], "");
        assert!(!ok, "{bad}");
        assert!(
            stderr.contains("--callback-tries") && stderr.contains("from 1 to 10"),
            "{bad}: {stderr}"
        );
    }
}
