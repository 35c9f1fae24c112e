//! Texts and calls (SPEC §1 steps 1 and 2): signed webhooks into one thread
//! per person, STOP/START honoured by every outbound text, voicemails and
//! missed calls as callback tasks. Twilio's REST API is played by a local
//! HTTP server that records and checks every request.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use respite_domain::Role;
use respite_store::{AuditFilter, Engine, InquiryStatus};
use respite_web::access::Access;
use respite_web::routes::route_specs;
use respite_web::{MessagingConfig, WebConfig};

use crate::support::*;

const TOKEN: &str = "test-auth-token-0123456789";
const ACCOUNT: &str = "AC00000000000000000000000000000001";
const PUBLIC_URL: &str = "https://clinic.example.org";
const CLINIC_NUMBER: &str = "+15035550100";
const CALLER: &str = "+15037253000";

/// One request the stand-in for Twilio's REST API received.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    account: String,
    basic_auth_ok: bool,
    form: Vec<(String, String)>,
}

impl Recorded {
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A local HTTP server in Twilio's shape: `POST
/// /2010-04-01/Accounts/{sid}/Messages.json`, basic auth, form fields.
pub(crate) struct TwilioApi {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl TwilioApi {
    pub(crate) async fn start() -> TwilioApi {
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let app = axum::Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                axum::routing::post(messages),
            )
            .with_state(requests.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TwilioApi { url, requests }
    }

    pub(crate) fn received(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn messages(
    State(requests): State<Arc<Mutex<Vec<Recorded>>>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    );
    let basic_auth_ok = headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes() == expected.as_bytes());
    let form_encoded = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == b"application/x-www-form-urlencoded");
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let recorded = Recorded {
        account: account.clone(),
        basic_auth_ok,
        form,
    };
    let complete = ["To", "From", "Body"]
        .iter()
        .all(|f| recorded.field(f).is_some_and(|v| !v.is_empty()));
    let n = {
        let mut all = requests.lock().unwrap();
        all.push(recorded);
        all.len()
    };
    if !basic_auth_ok || account != ACCOUNT {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"code": 20003, "message": "Authenticate", "status": 401}"#,
        )
            .into_response();
    }
    if !form_encoded || !complete {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"code": 21604, "message": "A 'To' phone number is required.", "status": 400}"#,
        )
            .into_response();
    }
    (
        StatusCode::CREATED,
        format!(r#"{{"sid": "SM{n:032}", "status": "queued"}}"#),
    )
        .into_response()
}

pub(crate) fn config(api: Option<&TwilioApi>) -> WebConfig {
    WebConfig {
        clinic_name: "Respite Pain Clinic".into(),
        messaging: MessagingConfig {
            public_url: Some(PUBLIC_URL.into()),
            twilio_auth_token: Some(TOKEN.into()),
            twilio_account_sid: Some(ACCOUNT.into()),
            twilio_from: Some(CLINIC_NUMBER.into()),
            twilio_api_url: api.map_or_else(|| "http://127.0.0.1:9".into(), |a| a.url.clone()),
            clinic_phone: "(503) 555-0100".into(),
        },
        ..WebConfig::default()
    }
}

/// The `X-Twilio-Signature` of a request, computed here rather than by
/// `respite_web::twilio::signature` (the code under test), following
/// Twilio's published algorithm
/// (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>): the
/// full URL, then each parameter's name and value, sorted by name (and by
/// value within a name), HMAC-SHA1 keyed by the auth token, in base64.
pub(crate) fn twilio_signature(auth_token: &str, url: &str, fields: &[(&str, &str)]) -> String {
    use hmac::Mac as _;
    let mut sorted = fields.to_vec();
    sorted.sort();
    let mut text = url.to_owned();
    for (name, value) in sorted {
        text.push_str(name);
        text.push_str(value);
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The test's own signature agrees with Twilio's published example (the
/// request validator tests of the official twilio-python library,
/// tests/unit/test_request_validator.py: auth token "12345").
#[test]
fn the_tests_twilio_signature_matches_twilios_published_examples() {
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let call = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ];
    assert_eq!(
        twilio_signature("12345", url, &call),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    let repeated = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
    ];
    assert_eq!(
        twilio_signature("12345", url, &repeated),
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
}

/// Posts a webhook as Twilio would: form-encoded, signed with `token` over
/// `signed_url` (the URL Twilio was given), or unsigned.
async fn webhook(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    signature: Signature<'_>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(fields));
    let value = match signature {
        Signature::Valid => Some(twilio_signature(
            TOKEN,
            &format!("{PUBLIC_URL}{path}"),
            fields,
        )),
        Signature::Key(token) => Some(twilio_signature(
            token,
            &format!("{PUBLIC_URL}{path}"),
            fields,
        )),
        Signature::Url(url) => Some(twilio_signature(TOKEN, url, fields)),
        Signature::Literal(text) => Some(text.to_owned()),
        Signature::Missing => None,
    };
    if let Some(value) = value {
        request = request.header("X-Twilio-Signature", value);
    }
    request.send().await.unwrap()
}

#[derive(Clone, Copy)]
enum Signature<'a> {
    Valid,
    Key(&'a str),
    Url(&'a str),
    Literal(&'a str),
    Missing,
}

fn sms<'a>(from: &'a str, sid: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", from),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("To", CLINIC_NUMBER),
    ]
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let mut conn = app.raw().await;
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    n
}

async fn inquiry_ids(app: &TestApp) -> Vec<i64> {
    app.store
        .inquiries_with_status(InquiryStatus::New, 100)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect()
}

/// The TwiML reply's `<Message>` text, read with an XML parser.
fn twiml_messages(document: &str) -> Vec<String> {
    let elements = parse_twiml(document);
    elements
        .into_iter()
        .filter(|(name, _, _)| name == "Message")
        .map(|(_, _, text)| text)
        .collect()
}

/// A TwiML element: name, attributes, text.
type Element = (String, Vec<(String, String)>, String);

/// Every element under `<Response>` as (name, attributes, text), parsed by
/// quick-xml; panics unless the document is well-formed TwiML.
fn parse_twiml(document: &str) -> Vec<Element> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(document);
    let mut elements = Vec::new();
    let mut depth = 0;
    let mut root = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if depth == 0 && root.is_none() => {
                root = Some(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                depth = 1;
            }
            event @ (Event::Start(_) | Event::Empty(_)) => {
                let (e, empty) = match event {
                    Event::Start(e) => (e, false),
                    Event::Empty(e) => (e, true),
                    _ => unreachable!(),
                };
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                elements.push((name, attributes, String::new()));
                if !empty {
                    depth += 1;
                }
            }
            Event::Text(t) if depth == 2 => {
                let text = t.decode().unwrap().into_owned();
                let text = quick_xml::escape::unescape(&text).unwrap().into_owned();
                elements.last_mut().unwrap().2.push_str(&text);
            }
            Event::GeneralRef(r) if depth == 2 => {
                let name = r.decode().unwrap().into_owned();
                let text = quick_xml::escape::unescape(&format!("&{name};"))
                    .unwrap()
                    .into_owned();
                elements.last_mut().unwrap().2.push_str(&text);
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("Response"), "{document}");
    elements
}

async fn assert_twiml(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn webhooks_are_in_the_route_table_public_signature_checked_and_audited() {
    let specs = route_specs();
    for path in ["/webhooks/sms", "/webhooks/voice"] {
        let spec = specs
            .iter()
            .find(|s| s.path == path)
            .unwrap_or_else(|| panic!("{path} not in the route table"));
        assert_eq!(spec.method, "POST");
        assert_eq!(spec.access, Access::Public);
        assert_eq!(spec.audited.map(|a| a.resource), Some("Communication"));
        assert!(respite_web::routes::is_webhook(path));
    }
}

both_engines!(signed_texts_join_one_thread_per_person_and_a_repeated_webhook_stores_one_message);
async fn signed_texts_join_one_thread_per_person_and_a_repeated_webhook_stores_one_message(
    engine: Engine,
) {
    let app = spawn_with(engine, config(None)).await;

    let first = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0001", "Hello, I have had back pain for years."),
        Signature::Valid,
    )
    .await;
    let reply = assert_twiml(first).await;
    assert_eq!(
        twiml_messages(&reply),
        ["Respite Pain Clinic: thank you, we have your message and will get back to you soon."]
    );
    let ids = inquiry_ids(&app).await;
    assert_eq!(ids.len(), 1, "{engine:?}");
    let inquiry = app.store.inquiry(ids[0]).await.unwrap().unwrap();
    assert_eq!(inquiry.channel, "sms");
    assert_eq!(inquiry.phone_e164.as_deref(), Some(CALLER));

    // A second text from the same number joins the thread.
    let second = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0002", "Evenings are best."),
        Signature::Valid,
    )
    .await;
    assert_twiml(second).await;
    // The same webhook delivered again stores nothing new and answers
    // nothing again.
    let again = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0002", "Evenings are best."),
        Signature::Valid,
    )
    .await;
    assert!(twiml_messages(&assert_twiml(again).await).is_empty());
    assert_eq!(inquiry_ids(&app).await, ids, "{engine:?}");
    let thread = app.store.thread_messages(ids[0]).await.unwrap();
    let bodies: Vec<&str> = thread.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "Hello, I have had back pain for years.",
            "Evenings are best."
        ]
    );
    assert_eq!(count(&app, "messages").await, 2);

    // Another number is another person.
    let other = webhook(
        &app,
        "/webhooks/sms",
        &sms("+442079460958", "SM0003", "Hi"),
        Signature::Valid,
    )
    .await;
    assert_twiml(other).await;
    assert_eq!(inquiry_ids(&app).await.len(), 2);

    // The staff page lists the thread in order.
    let session = app.sign_in(Role::FrontDesk).await;
    let page = app
        .get(&format!("/staff/inquiries/{}", ids[0]), Some(&session))
        .await
        .text()
        .await
        .unwrap();
    let a = page
        .find("Hello, I have had back pain")
        .expect("first text");
    let b = page.find("Evenings are best.").expect("second text");
    assert!(a < b, "thread out of order");

    // Each webhook write is audited as a Communication.
    let entries = app
        .store
        .audit_entries(&AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.resource_type == "Communication" && e.outcome == "success")
            .count(),
        4
    );
}

both_engines!(concurrent_texts_from_a_new_number_open_one_thread);
/// Texts from one new number arriving together open one thread and keep
/// every message; copies of one webhook arriving together store it once.
async fn concurrent_texts_from_a_new_number_open_one_thread(engine: Engine) {
    let app = spawn_with(engine, config(None)).await;
    let sids: Vec<String> = (0..12).map(|n| format!("SM07{n:02}")).collect();
    let sends = sids.iter().map(|sid| {
        let app = &app;
        async move {
            let fields = sms(CALLER, sid, "Hello");
            webhook(app, "/webhooks/sms", &fields, Signature::Valid)
                .await
                .status()
        }
    });
    let copies = (0..6).map(|_| {
        let app = &app;
        async move {
            let fields = sms(CALLER, "SM0799", "Once");
            webhook(app, "/webhooks/sms", &fields, Signature::Valid)
                .await
                .status()
        }
    });
    let (a, b) = futures::future::join(
        futures::future::join_all(sends),
        futures::future::join_all(copies),
    )
    .await;
    assert!(
        a.iter().chain(&b).all(|s| s.as_u16() == 200),
        "{engine:?} {a:?} {b:?}"
    );
    let ids = inquiry_ids(&app).await;
    assert_eq!(ids.len(), 1, "{engine:?}");
    assert_eq!(count(&app, "messages").await, 13, "{engine:?}");
}

both_engines!(texts_and_calls_join_the_web_inquiry_of_the_same_number);
async fn texts_and_calls_join_the_web_inquiry_of_the_same_number(engine: Engine) {
    let app = spawn_with(engine, config(None)).await;
    let fields = inquiry_fields("Ana López");
    let response = app.post_form("/inquiries", None, &as_refs(&fields)).await;
    assert_eq!(response.status(), 303);
    let ids = inquiry_ids(&app).await;
    // The form's "(503) 725-3000" is the caller's +15037253000.
    let text = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0100", "Did you get my form?"),
        Signature::Valid,
    )
    .await;
    assert_twiml(text).await;
    let call = webhook(
        &app,
        "/webhooks/voice",
        &[
            ("CallSid", "CA0100"),
            ("CallStatus", "ringing"),
            ("From", CALLER),
            ("To", CLINIC_NUMBER),
        ],
        Signature::Valid,
    )
    .await;
    assert_twiml(call).await;
    assert_eq!(inquiry_ids(&app).await, ids, "{engine:?}");
    let thread = app.store.thread_messages(ids[0]).await.unwrap();
    let channels: Vec<&str> = thread.iter().map(|m| m.channel.as_str()).collect();
    assert_eq!(channels, ["sms", "voice"]);

    // A closed thread is not reopened: a new contact opens a new one.
    app.store
        .set_inquiry_status(
            ids[0],
            InquiryStatus::Closed,
            Some(respite_store::ClosedReason::NotACandidate),
        )
        .await
        .unwrap();
    let later = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0101", "Hello again"),
        Signature::Valid,
    )
    .await;
    assert_twiml(later).await;
    let open = inquiry_ids(&app).await;
    assert_eq!(open.len(), 1);
    assert_ne!(open[0], ids[0]);
}

both_engines!(unsigned_or_wrongly_signed_webhooks_are_refused_and_store_nothing);
async fn unsigned_or_wrongly_signed_webhooks_are_refused_and_store_nothing(engine: Engine) {
    let app = spawn_with(engine, config(None)).await;
    let text = sms(CALLER, "SM0200", "Hello");
    let call: Vec<(&str, &str)> = vec![
        ("CallSid", "CA0200"),
        ("CallStatus", "completed"),
        ("From", CALLER),
        ("RecordingUrl", "https://api.twilio.com/recordings/RE1"),
        ("To", CLINIC_NUMBER),
    ];
    let other_url = format!("{PUBLIC_URL}/webhooks/other");
    let cases = [
        Signature::Missing,
        Signature::Literal(""),
        Signature::Literal("RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        Signature::Key("another-token"),
        Signature::Url(&other_url),
        Signature::Url("http://clinic.example.org/webhooks/sms"),
    ];
    for (path, fields) in [("/webhooks/sms", &text), ("/webhooks/voice", &call)] {
        for signature in cases {
            let response = webhook(&app, path, fields, signature).await;
            assert_eq!(response.status(), 403, "{engine:?} {path}");
            let body = response.text().await.unwrap();
            assert!(body.contains("X-Twilio-Signature"), "{body}");
        }
        // A parameter changed after signing.
        let signed = twilio_signature(TOKEN, &format!("{PUBLIC_URL}{path}"), fields);
        let mut tampered = fields.clone();
        tampered.push(("Extra", "1"));
        let response = webhook(&app, path, &tampered, Signature::Literal(&signed)).await;
        assert_eq!(response.status(), 403, "{engine:?} {path} tampered");
    }
    assert_eq!(app.store.count_inquiries().await.unwrap(), 0, "{engine:?}");
    for table in [
        "messages",
        "callback_tasks",
        "sms_opt_outs",
        "contact_consents",
    ] {
        assert_eq!(count(&app, table).await, 0, "{engine:?} {table}");
    }

    // A server without a configured auth token verifies nothing.
    let unconfigured = spawn(engine).await;
    let response = webhook(&unconfigured, "/webhooks/sms", &text, Signature::Valid).await;
    assert_eq!(response.status(), 403);
    assert_eq!(unconfigured.store.count_inquiries().await.unwrap(), 0);
}

both_engines!(malformed_webhooks_are_refused_naming_the_field);
async fn malformed_webhooks_are_refused_naming_the_field(engine: Engine) {
    let app = spawn_with(engine, config(None)).await;
    let long = "x".repeat(4001);
    let check = |path: &'static str, fields: Vec<(&'static str, String)>, field: &str| {
        let app = &app;
        let field = field.to_owned();
        async move {
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = webhook(app, path, &refs, Signature::Valid).await;
            assert_eq!(response.status(), 400, "{path} {field}");
            let body = response.text().await.unwrap();
            assert!(body.starts_with(&format!("{field}: ")), "{body}");
        }
    };
    let s = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };
    check(
        "/webhooks/sms",
        s(&[("MessageSid", "SM1"), ("Body", "hi")]),
        "From",
    )
    .await;
    check(
        "/webhooks/sms",
        s(&[("From", "call me"), ("MessageSid", "SM1"), ("Body", "hi")]),
        "From",
    )
    .await;
    check(
        "/webhooks/sms",
        s(&[("From", "+1 503"), ("MessageSid", "SM1")]),
        "From",
    )
    .await;
    check(
        "/webhooks/sms",
        s(&[("From", CALLER), ("Body", "hi")]),
        "MessageSid",
    )
    .await;
    check(
        "/webhooks/sms",
        vec![
            ("From", CALLER.to_owned()),
            ("MessageSid", "SM1".to_owned()),
            ("Body", long.clone()),
        ],
        "Body",
    )
    .await;
    check("/webhooks/voice", s(&[("From", CALLER)]), "CallSid").await;
    check("/webhooks/voice", s(&[("CallSid", "CA1")]), "From").await;
    check(
        "/webhooks/voice",
        s(&[
            ("CallSid", "CA1"),
            ("From", CALLER),
            ("RecordingUrl", "javascript:alert(1)"),
        ]),
        "RecordingUrl",
    )
    .await;
    assert_eq!(app.store.count_inquiries().await.unwrap(), 0, "{engine:?}");
    assert_eq!(count(&app, "messages").await, 0);
}

both_engines!(after_stop_no_text_reaches_the_provider_until_start);
async fn after_stop_no_text_reaches_the_provider_until_start(engine: Engine) {
    let api = TwilioApi::start().await;
    let app = spawn_with(engine, config(Some(&api))).await;
    let session = app.sign_in(Role::FrontDesk).await;

    // The person texts first: replying by text is allowed.
    let response = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0300", "Can you help with migraines?"),
        Signature::Valid,
    )
    .await;
    assert_twiml(response).await;
    let id = inquiry_ids(&app).await[0];
    let send = |text: &'static str| {
        let app = &app;
        let session = session.clone();
        async move {
            app.post_form(
                &format!("/staff/inquiries/{id}/sms"),
                Some(&session),
                &[("body", text)],
            )
            .await
        }
    };
    let response = send("Yes. When may we call you?").await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let received = api.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].account, ACCOUNT);
    assert!(received[0].basic_auth_ok);
    assert_eq!(received[0].field("To"), Some(CALLER));
    assert_eq!(received[0].field("From"), Some(CLINIC_NUMBER));
    assert_eq!(
        received[0].field("Body"),
        Some("Yes. When may we call you?")
    );
    let thread = app.store.thread_messages(id).await.unwrap();
    assert_eq!(thread.len(), 2);
    assert!(!thread[1].inbound);
    assert_eq!(thread[1].external_id, format!("SM{:032}", 1));

    // STOP: confirmed once, then nothing more is sent.
    let response = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0301", "Stop"),
        Signature::Valid,
    )
    .await;
    let reply = twiml_messages(&assert_twiml(response).await);
    assert_eq!(reply.len(), 1);
    assert!(reply[0].contains("no more texts"), "{reply:?}");
    let response = send("Are you still there?").await;
    assert_eq!(response.status(), 409, "{engine:?}");
    assert!(response.text().await.unwrap().contains("STOP"));
    // A message that is not START does not undo the STOP.
    let response = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0302", "hello?"),
        Signature::Valid,
    )
    .await;
    assert!(twiml_messages(&assert_twiml(response).await).is_empty());
    assert_eq!(send("Hello!").await.status(), 409);
    assert_eq!(api.received().len(), 1, "{engine:?}: a text passed STOP");

    // HELP answers with the clinic's name and phone.
    let response = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0303", "HELP"),
        Signature::Valid,
    )
    .await;
    let reply = twiml_messages(&assert_twiml(response).await);
    assert!(
        reply[0].contains("Respite Pain Clinic") && reply[0].contains("(503) 555-0100"),
        "{reply:?}"
    );
    // Once the administrator set the clinic's details, HELP gives those.
    let profile = respite_domain::clinic::ClinicProfileForm {
        name: "Lakeside Pain Clinic".into(),
        phone: "+1 312 555 0147".into(),
        privacy_notice: "Private.".into(),
        ..Default::default()
    }
    .validate("US")
    .unwrap();
    app.store
        .save_clinic_profile(&profile, "admin@clinic.test", jiff::Timestamp::now())
        .await
        .unwrap();
    let response = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0313", "HELP"),
        Signature::Valid,
    )
    .await;
    let reply = twiml_messages(&assert_twiml(response).await);
    assert!(
        reply[0].starts_with("Lakeside Pain Clinic: call us at (312) 555-0147."),
        "{reply:?}"
    );

    // START: texts flow again.
    let response = webhook(
        &app,
        "/webhooks/sms",
        &sms(CALLER, "SM0304", "start"),
        Signature::Valid,
    )
    .await;
    assert_twiml(response).await;
    assert_eq!(send("Welcome back.").await.status(), 303);
    let received = api.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].field("Body"), Some("Welcome back."));

    // The consent history keeps each decision with its time and source.
    let mut conn = app.raw().await;
    let history: Vec<(i64, String)> = sqlx::query_as(
        "SELECT granted, source FROM contact_consents WHERE address = $1 AND channel = 'sms' \
         ORDER BY id",
    )
    .bind(CALLER)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        history,
        [
            (1, "texted the clinic".to_owned()),
            (0, "text keyword STOP".to_owned()),
            (1, "text keyword START".to_owned()),
        ]
    );
}

both_engines!(texts_need_recorded_consent_and_the_web_form_gives_it);
async fn texts_need_recorded_consent_and_the_web_form_gives_it(engine: Engine) {
    let api = TwilioApi::start().await;
    let app = spawn_with(engine, config(Some(&api))).await;
    let session = app.sign_in(Role::Clinician).await;

    // A caller who only left a voicemail has not agreed to texts.
    let response = webhook(
        &app,
        "/webhooks/voice",
        &[
            ("CallSid", "CA0400"),
            ("CallStatus", "completed"),
            ("From", "+442079460958"),
            ("RecordingUrl", "https://api.twilio.com/recordings/RE400"),
            ("To", CLINIC_NUMBER),
        ],
        Signature::Valid,
    )
    .await;
    assert_twiml(response).await;
    let caller_thread = inquiry_ids(&app).await[0];
    let response = app
        .post_form(
            &format!("/staff/inquiries/{caller_thread}/sms"),
            Some(&session),
            &[("body", "Hello")],
        )
        .await;
    assert_eq!(response.status(), 409, "{engine:?}");
    assert!(response.text().await.unwrap().contains("consent"));
    assert!(api.received().is_empty());

    // The web form's consent covers texts to the number it gave.
    let fields = inquiry_fields("Ana López");
    app.post_form("/inquiries", None, &as_refs(&fields)).await;
    let form_thread = *inquiry_ids(&app).await.last().unwrap();
    assert_ne!(form_thread, caller_thread);
    let response = app
        .post_form(
            &format!("/staff/inquiries/{form_thread}/sms"),
            Some(&session),
            &[("body", "Thank you for your inquiry.")],
        )
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    assert_eq!(api.received().len(), 1);

    // An empty text is refused before anything is sent.
    let response = app
        .post_form(
            &format!("/staff/inquiries/{form_thread}/sms"),
            Some(&session),
            &[("body", "  ")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Message: is required"));
    assert_eq!(api.received().len(), 1);
}

#[tokio::test]
async fn a_rejected_send_is_reported_and_not_recorded() {
    for engine in [Engine::Sqlite] {
        let api = TwilioApi::start().await;
        let mut settings = config(Some(&api));
        settings.messaging.twilio_auth_token = Some(TOKEN.into());
        settings.messaging.twilio_account_sid = Some("ACwrong".into());
        let app = spawn_with(engine, settings).await;
        let fields = inquiry_fields("Ana López");
        app.post_form("/inquiries", None, &as_refs(&fields)).await;
        let id = inquiry_ids(&app).await[0];
        let session = app.sign_in(Role::FrontDesk).await;
        let response = app
            .post_form(
                &format!("/staff/inquiries/{id}/sms"),
                Some(&session),
                &[("body", "Hello")],
            )
            .await;
        assert_eq!(response.status(), 502);
        assert!(response.text().await.unwrap().contains("20003"));
        assert_eq!(api.received().len(), 1);
        assert!(app.store.thread_messages(id).await.unwrap().is_empty());
    }
}

both_engines!(calls_answer_twiml_and_voicemails_and_missed_calls_become_callback_tasks);
async fn calls_answer_twiml_and_voicemails_and_missed_calls_become_callback_tasks(engine: Engine) {
    let app = spawn_with(engine, config(None)).await;

    // The call rings: a greeting, then a recording that posts back here.
    let ringing = [
        ("AccountSid", ACCOUNT),
        ("CallSid", "CA0500"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("To", CLINIC_NUMBER),
    ];
    let response = webhook(&app, "/webhooks/voice", &ringing, Signature::Valid).await;
    let document = assert_twiml(response).await;
    let elements = parse_twiml(&document);
    let names: Vec<&str> = elements.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["Say", "Record", "Say"], "{document}");
    assert!(elements[0].2.contains("Respite Pain Clinic"));
    let record = &elements[1].1;
    let attribute = |name: &str| {
        record
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        attribute("action"),
        Some("https://clinic.example.org/webhooks/voice")
    );
    assert_eq!(attribute("method"), Some("POST"));

    // The recording's action: a voicemail, once even if posted twice.
    let recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0500";
    let voicemail = [
        ("AccountSid", ACCOUNT),
        ("CallSid", "CA0500"),
        ("CallStatus", "completed"),
        ("From", CALLER),
        ("RecordingDuration", "14"),
        ("RecordingSid", "RE0500"),
        ("RecordingUrl", recording),
        ("To", CLINIC_NUMBER),
    ];
    for _ in 0..2 {
        let response = webhook(&app, "/webhooks/voice", &voicemail, Signature::Valid).await;
        let document = assert_twiml(response).await;
        let names: Vec<String> = parse_twiml(&document).into_iter().map(|e| e.0).collect();
        assert_eq!(names, ["Say", "Hangup"]);
    }
    // The call's final status after a voicemail adds no missed call.
    let completed = [
        ("CallSid", "CA0500"),
        ("CallStatus", "completed"),
        ("From", CALLER),
        ("To", CLINIC_NUMBER),
    ];
    let response = webhook(&app, "/webhooks/voice", &completed, Signature::Valid).await;
    assert_twiml(response).await;

    // Another caller hangs up unanswered: a missed call.
    let missed = [
        ("CallSid", "CA0501"),
        ("CallStatus", "no-answer"),
        ("From", "+442079460958"),
        ("To", CLINIC_NUMBER),
    ];
    let response = webhook(&app, "/webhooks/voice", &missed, Signature::Valid).await;
    assert_twiml(response).await;

    let mut conn = app.raw().await;
    let tasks: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT reason, phone_e164, recording_url FROM callback_tasks ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        tasks,
        [
            (
                "voicemail".to_owned(),
                Some(CALLER.to_owned()),
                Some(recording.to_owned())
            ),
            (
                "missed-call".to_owned(),
                Some("+442079460958".to_owned()),
                None
            ),
        ],
        "{engine:?}"
    );
    let ids = inquiry_ids(&app).await;
    assert_eq!(ids.len(), 2);
    let thread = app.store.thread_messages(ids[0]).await.unwrap();
    let bodies: Vec<&str> = thread.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["Incoming call", "Voicemail, 14 s", "Call ended"]);

    // The staff page links the recording.
    let session = app.sign_in(Role::FrontDesk).await;
    let page = app
        .get(&format!("/staff/inquiries/{}", ids[0]), Some(&session))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("href=\"{recording}\"")), "{page}");
}
