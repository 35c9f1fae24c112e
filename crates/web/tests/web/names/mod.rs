//! Names with control, bidirectional or zero-width characters are refused with
//! a named error and nothing is stored (a NUL that truncates the name in other
//! programs, a right-to-left override that reverses it on a staff page).

use respite_store::{Engine, InquiryStatus};

use crate::support::*;

both_engines!(an_inquiry_name_with_invisible_characters_is_refused);
async fn an_inquiry_name_with_invisible_characters_is_refused(engine: Engine) {
    let app = spawn(engine).await;
    for (name, code_point) in [
        ("Ana\u{0}López", "U+0000"),
        ("Ana\u{202E}zepóL", "U+202E"),
        ("Ana\u{200D}López", "U+200D"),
    ] {
        let fields = inquiry_fields(name);
        let response = app.post_form("/inquiries", None, &as_refs(&fields)).await;
        assert_eq!(response.status(), 422, "{engine:?} {code_point}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("must not contain control or invisible formatting characters")
                && body.contains(code_point),
            "{engine:?} {code_point}: the refusal names the rule and the character"
        );
    }
    let stored = app
        .store
        .inquiries_with_status(InquiryStatus::New, 10)
        .await
        .unwrap();
    assert!(stored.is_empty(), "{engine:?}: nothing stored");
}
