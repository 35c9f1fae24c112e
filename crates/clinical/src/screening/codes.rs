//! The code table of the conditions SPEC §1 names, from shared/clinical/codes.md.
//!
//! ICD-10-CM changes every 1 October: the table records the code system version it was
//! written against, and a clinic can replace it (it lives in [`super::ScreeningSettings`]).

use std::borrow::Cow;

use crate::dosing::Verification;

/// The ICD-10-CM release the seeded table was written against (codes.md cites the
/// FY2025 M51.36-/M51.37- expansion, effective 1 Oct 2024).
pub const ICD10CM_VERSION: &str = "ICD-10-CM FY2025";

/// How a table entry matches a diagnosis code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodePattern {
    /// The code itself or any code below it ("G90.5" matches G90.50, G90.511, …).
    Prefix(Cow<'static, str>),
    /// Any code from `from` to `to` at the category level ("M15"–"M19").
    CategoryRange {
        from: Cow<'static, str>,
        to: Cow<'static, str>,
    },
    /// A chapter-19 injury code (S00–T88) with 7th character "S" (sequela).
    InjurySequela,
}

/// One condition the clinic treats, as codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionCode {
    pub condition: Cow<'static, str>,
    pub pattern: CodePattern,
    pub system_version: Cow<'static, str>,
    pub verification: Verification,
    /// SNOMED CT concept, where codes.md gives one.
    pub snomed_ct: Option<Cow<'static, str>>,
    pub snomed_verification: Verification,
}

/// A code that was valid once and must be recoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredCode {
    pub code: Cow<'static, str>,
    pub retired_on: Cow<'static, str>,
    pub replaced_by: Cow<'static, str>,
}

/// The seeded table (shared/clinical/codes.md, "Conditions the seed names").
pub fn seeded_condition_codes() -> Vec<ConditionCode> {
    use Verification::{Checked, ToCheck};
    let entry = |condition: &'static str,
                 pattern: CodePattern,
                 verification: Verification,
                 snomed: Option<&'static str>,
                 snomed_verification: Verification| ConditionCode {
        condition: Cow::Borrowed(condition),
        pattern,
        system_version: Cow::Borrowed(ICD10CM_VERSION),
        verification,
        snomed_ct: snomed.map(Cow::Borrowed),
        snomed_verification,
    };
    let prefix = |p: &'static str| CodePattern::Prefix(Cow::Borrowed(p));
    let range = |from: &'static str, to: &'static str| CodePattern::CategoryRange {
        from: Cow::Borrowed(from),
        to: Cow::Borrowed(to),
    };
    vec![
        // Low back pain: M54.50/M54.51/M54.59 [checked]; M54.5 retired 1 Oct 2021.
        entry(
            "low back pain, unspecified",
            prefix("M54.50"),
            Checked,
            Some("279039007"),
            ToCheck,
        ),
        entry(
            "vertebrogenic low back pain",
            prefix("M54.51"),
            Checked,
            Some("279039007"),
            ToCheck,
        ),
        entry(
            "other low back pain",
            prefix("M54.59"),
            Checked,
            Some("279039007"),
            ToCheck,
        ),
        // Lumbar / lumbosacral degenerative disc disease, 6th character since FY2025
        // (M51.360, M51.370 [checked]; siblings [to check]).
        entry(
            "degenerative disc disease, lumbar",
            prefix("M51.36"),
            Checked,
            Some("77547008"),
            ToCheck,
        ),
        entry(
            "degenerative disc disease, lumbosacral",
            prefix("M51.37"),
            Checked,
            Some("77547008"),
            ToCheck,
        ),
        entry(
            "scoliosis",
            prefix("M41"),
            ToCheck,
            Some("298382003"),
            ToCheck,
        ),
        // Tension-type headache G44.2- (G44.221 [checked], G44.229 [to check]).
        entry(
            "tension-type headache",
            prefix("G44.2"),
            Checked,
            Some("398057008"),
            ToCheck,
        ),
        entry(
            "eye strain (asthenopia)",
            prefix("H53.14"),
            ToCheck,
            None,
            ToCheck,
        ),
        entry(
            "migraine",
            prefix("G43"),
            ToCheck,
            Some("37796009"),
            ToCheck,
        ),
        // Cluster headache G44.00x/G44.01x/G44.02x [checked].
        entry(
            "cluster headache",
            prefix("G44.0"),
            Checked,
            Some("193031009"),
            ToCheck,
        ),
        // Osteoarthritis M15–M19 [to check].
        entry(
            "osteoarthritis",
            range("M15", "M19"),
            ToCheck,
            Some("396275006"),
            ToCheck,
        ),
        // Rheumatoid arthritis M05–M06 [to check].
        entry(
            "rheumatoid arthritis",
            range("M05", "M06"),
            ToCheck,
            Some("69896004"),
            ToCheck,
        ),
        entry(
            "repetitive-motion injury (soft-tissue disorders of use, overuse, pressure)",
            prefix("M70"),
            ToCheck,
            None,
            ToCheck,
        ),
        entry(
            "sports injury, chronic sequela",
            CodePattern::InjurySequela,
            ToCheck,
            None,
            ToCheck,
        ),
        // Fibromyalgia M79.7 [checked, weak]; SNOMED 203082005 [checked in FHIR test data].
        entry(
            "fibromyalgia",
            prefix("M79.7"),
            Checked,
            Some("203082005"),
            Checked,
        ),
        // Endometriosis N80.- (expanded FY2023) [checked]; SNOMED [checked, weak].
        entry(
            "endometriosis",
            prefix("N80"),
            Checked,
            Some("129103003"),
            Checked,
        ),
        // CRPS type I G90.50/G90.51x/G90.52x/G90.59 [checked]; SNOMED 128200000 [checked, weak].
        entry(
            "CRPS type I",
            prefix("G90.5"),
            Checked,
            Some("128200000"),
            Checked,
        ),
        // CRPS type II (causalgia) G56.4- upper limb, G57.7- lower limb [checked at category].
        entry(
            "CRPS type II, upper limb (causalgia)",
            prefix("G56.4"),
            Checked,
            None,
            ToCheck,
        ),
        entry(
            "CRPS type II, lower limb (causalgia)",
            prefix("G57.7"),
            Checked,
            None,
            ToCheck,
        ),
        // Chronic pain, other G89.29, due to trauma G89.21, chronic pain syndrome G89.4 [checked].
        entry(
            "other chronic pain",
            prefix("G89.29"),
            Checked,
            Some("82423001"),
            Checked,
        ),
        entry(
            "chronic pain due to trauma",
            prefix("G89.21"),
            Checked,
            Some("82423001"),
            Checked,
        ),
        entry(
            "chronic pain syndrome",
            prefix("G89.4"),
            Checked,
            Some("82423001"),
            Checked,
        ),
    ]
}

/// Codes retired and to be recoded (codes.md: M54.5 retired 1 Oct 2021 [checked]).
pub fn retired_codes() -> Vec<RetiredCode> {
    vec![RetiredCode {
        code: Cow::Borrowed("M54.5"),
        retired_on: Cow::Borrowed("2021-10-01"),
        replaced_by: Cow::Borrowed("M54.50, M54.51 or M54.59"),
    }]
}

/// Upper case, without the dot and spaces: "m54.50 " → "M5450".
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .flat_map(char::to_uppercase)
        .collect()
}

impl CodePattern {
    /// Whether `code` (any spelling: "g90.511", "G90511") falls under this pattern.
    pub fn matches(&self, code: &str) -> bool {
        let code = normalize_code(code);
        match self {
            CodePattern::Prefix(prefix) => code.starts_with(&normalize_code(prefix)),
            CodePattern::CategoryRange { from, to } => {
                let category: String = code.chars().take(3).collect();
                category.len() == 3
                    && normalize_code(from) <= category
                    && category <= normalize_code(to)
            }
            CodePattern::InjurySequela => {
                // ICD-10-CM chapter 19 (S00–T88): injury codes carry a 7th character,
                // "S" for sequela (ICD-10-CM guidelines I.C.19.a) [to check].
                let chapter_19 = code.starts_with('S')
                    || (code.starts_with('T') && code.get(0..3).is_some_and(|c| c <= "T88"));
                chapter_19 && code.chars().count() == 7 && code.ends_with('S')
            }
        }
    }
}

impl std::fmt::Display for CodePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodePattern::Prefix(p) => write!(f, "{p}"),
            CodePattern::CategoryRange { from, to } => write!(f, "{from}–{to}"),
            CodePattern::InjurySequela => f.write_str("S00–T88 with 7th character S"),
        }
    }
}
