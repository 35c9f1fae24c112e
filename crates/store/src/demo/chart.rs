//! The demo's screening spectrum (SPEC §1.3): a handful of named patients,
//! each showing one outcome of the screening — eligible; not eligible for
//! each contraindication tier; awaiting records; records stale; interactions
//! flagged; pain not yet chronic — with medication histories, allergies,
//! vital signs that fit their weight, reviews and documents (a small PDF
//! letter made here). Fixed names and dates counted from the demo's today:
//! the same day gives the same charts.
//!
//! What each patient demonstrates is returned, for the start-up message.

use jiff::civil::Date;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::{add_days, DemoClock};
use crate::patients::{insert_patient, NewPatient};
use crate::{to_millis, StoreError, StoreResult};

/// A spectrum patient: who, and what their chart demonstrates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpectrumPatient {
    pub mrn: String,
    pub name: String,
    pub demonstrates: &'static str,
}

/// RxNorm ingredient codes of the demo's medications are as RxNav lists them
/// [to check each before clinical use]; the interaction ones (lorazepam 6470,
/// oxycodone 7804, levothyroxine 10582, gabapentin 25480) are respite-clinical's
/// table (shared/clinical/screening.md).
///
/// A current or past medication: name, RxNorm code, dose, days started
/// before today, days stopped before today, pain treatment class and stop reason.
struct Med {
    name: &'static str,
    rxnorm: Option<&'static str>,
    dose: &'static str,
    started: Option<i64>,
    stopped: Option<i64>,
    class: Option<&'static str>,
    reason: Option<&'static str>,
}

const fn current(
    name: &'static str,
    rxnorm: &'static str,
    dose: &'static str,
    started: i64,
) -> Med {
    Med {
        name,
        rxnorm: Some(rxnorm),
        dose,
        started: Some(started),
        stopped: None,
        class: None,
        reason: None,
    }
}

const fn tried(
    name: &'static str,
    rxnorm: Option<&'static str>,
    dose: &'static str,
    started: i64,
    stopped: i64,
    class: &'static str,
    reason: &'static str,
) -> Med {
    Med {
        name,
        rxnorm,
        dose,
        started: Some(started),
        stopped: Some(stopped),
        class: Some(class),
        reason: Some(reason),
    }
}

/// One spectrum chart.
struct Spectrum {
    given: &'static str,
    family: &'static str,
    female: bool,
    born: (i16, i8, i8),
    demonstrates: &'static str,
    /// ICD-10-CM (in the clinic's table), display, SNOMED CT.
    code: (&'static str, &'static str, Option<&'static str>),
    /// Days before today the pain began, and whether that is estimated.
    onset_days: i64,
    onset_estimated: bool,
    physician: &'static str,
    /// `None`: the qualification was not recorded.
    qualification: Option<&'static str>,
    diagnosed_days: i64,
    meds: &'static [Med],
    /// Substance, RxNorm, reaction, criticality.
    allergies: &'static [(
        &'static str,
        Option<&'static str>,
        &'static str,
        &'static str,
    )],
    /// Days before today the medication list, allergies and problems were reviewed.
    lists_reviewed_days: Option<i64>,
    /// Days before today; systolic, diastolic, heart rate, weight kg, height cm.
    vitals: Option<(i64, f64, f64, f64, f64, f64)>,
    /// Days before today of the review, and the contraindications present (codes).
    review: Option<(i64, &'static [&'static str])>,
    /// Cardiovascular risk, liver risk.
    risks: (bool, bool),
    /// Document kind, days before today, title.
    documents: &'static [(&'static str, i64, &'static str)],
}

const GABAPENTIN: Med = tried(
    "Gabapentin 300 mg capsule",
    Some("25480"),
    "300 mg three times daily",
    540,
    420,
    "gabapentinoid",
    "ineffective",
);
const IBUPROFEN: Med = tried(
    "Ibuprofen 400 mg tablet",
    Some("5640"),
    "400 mg up to three times daily",
    700,
    640,
    "nsaid",
    "not-tolerated",
);
const PHYSIOTHERAPY: Med = tried(
    "Physiotherapy, 12 weekly sessions",
    None,
    "weekly",
    400,
    316,
    "physiotherapy",
    "ineffective",
);
const DULOXETINE: Med = current("Duloxetine 60 mg capsule", "72625", "60 mg daily", 300);

const ALL_CLEAR: &[&str] = &[];

const SPECTRUM: &[Spectrum] = &[
    Spectrum {
        given: "Grace",
        family: "Okafor",
        female: true,
        born: (1979, 4, 12),
        demonstrates: "eligible — clinician decision needed: every criterion met, records current",
        code: ("G90.521", "Complex regional pain syndrome I of right lower limb", Some("128200000")),
        onset_days: 610,
        onset_estimated: false,
        physician: "Dr. Samuel Osei",
        qualification: Some("physician"),
        diagnosed_days: 480,
        meds: &[GABAPENTIN, IBUPROFEN, PHYSIOTHERAPY, DULOXETINE],
        allergies: &[("Penicillin", Some("7980"), "hives", "low")],
        lists_reviewed_days: Some(6),
        vitals: Some((6, 124.0, 78.0, 72.0, 68.0, 165.0)),
        review: Some((6, ALL_CLEAR)),
        risks: (false, false),
        documents: &[("referral-letter", 40, "Referral from Dr. Samuel Osei")],
    },
    Spectrum {
        given: "Daniel",
        family: "Brandt",
        female: false,
        born: (1971, 9, 3),
        demonstrates: "not eligible (absolute): hypersensitivity to ketamine recorded — no override",
        code: ("M79.7", "Fibromyalgia", Some("203082005")),
        onset_days: 1500,
        onset_estimated: false,
        physician: "Dr. Priya Raman",
        qualification: Some("physician"),
        diagnosed_days: 1300,
        meds: &[GABAPENTIN, IBUPROFEN, DULOXETINE],
        allergies: &[("Ketamine", Some("6130"), "anaphylaxis during anaesthesia, 2019", "high")],
        lists_reviewed_days: Some(10),
        vitals: Some((10, 128.0, 82.0, 76.0, 84.0, 180.0)),
        review: Some((10, &["ketamine-hypersensitivity"])),
        risks: (false, false),
        documents: &[("referral-letter", 60, "Referral from Dr. Priya Raman")],
    },
    Spectrum {
        given: "Leah",
        family: "Marsh",
        female: true,
        born: (1991, 2, 21),
        demonstrates: "not eligible unless a clinician overrides with a reason: pregnancy",
        code: ("N80.9", "Endometriosis, unspecified", Some("129103003")),
        onset_days: 900,
        onset_estimated: false,
        physician: "Dr. Alicia Torres",
        qualification: Some("physician"),
        diagnosed_days: 700,
        meds: &[IBUPROFEN, tried(
            "Norethindrone 5 mg tablet",
            Some("7514"),
            "5 mg daily",
            600,
            300,
            "other:hormonal therapy",
            "ineffective",
        )],
        allergies: &[],
        lists_reviewed_days: Some(4),
        vitals: Some((4, 112.0, 70.0, 80.0, 61.0, 168.0)),
        review: Some((4, &["pregnancy"])),
        risks: (false, false),
        documents: &[("referral-letter", 30, "Referral from Dr. Alicia Torres")],
    },
    Spectrum {
        given: "Walter",
        family: "Haines",
        female: false,
        born: (1958, 11, 30),
        demonstrates: "not eligible unless overridden: poorly controlled hypertension (BP 172/104), baseline ECG on file",
        code: ("M51.360", "Other intervertebral disc degeneration, lumbar region with discogenic back pain only", Some("77547008")),
        onset_days: 2100,
        onset_estimated: false,
        physician: "Dr. Jonas Weber",
        qualification: Some("physician"),
        diagnosed_days: 1900,
        meds: &[GABAPENTIN, PHYSIOTHERAPY, current("Amlodipine 10 mg tablet", "17767", "10 mg daily", 900)],
        allergies: &[],
        lists_reviewed_days: Some(8),
        vitals: Some((8, 172.0, 104.0, 88.0, 97.0, 178.0)),
        review: Some((8, &["poorly-controlled-cardiovascular-disease"])),
        risks: (true, false),
        documents: &[
            ("referral-letter", 50, "Referral from Dr. Jonas Weber"),
            ("ecg", 20, "Resting 12-lead ECG"),
        ],
    },
    Spectrum {
        given: "Ingrid",
        family: "Solberg",
        female: true,
        born: (1966, 6, 8),
        demonstrates: "refer for clinician review: elevated intraocular pressure (glaucoma)",
        code: ("G43.709", "Chronic migraine without aura, not intractable, without status migrainosus", Some("37796009")),
        onset_days: 3000,
        onset_estimated: false,
        physician: "Dr. Marcus Bell",
        qualification: Some("physician"),
        diagnosed_days: 2800,
        meds: &[
            tried("Topiramate 50 mg tablet", Some("38404"), "50 mg twice daily", 800, 650, "other:anticonvulsant prophylaxis", "not-tolerated"),
            tried("Amitriptyline 25 mg tablet", Some("704"), "25 mg at night", 600, 420, "antidepressant", "ineffective"),
            current("Timolol 0.5 % eye drops", "10600", "1 drop twice daily", 500),
        ],
        allergies: &[("Sulfonamides", None, "rash", "low")],
        lists_reviewed_days: Some(12),
        vitals: Some((12, 118.0, 74.0, 66.0, 59.0, 163.0)),
        review: Some((12, &["elevated-intraocular-pressure"])),
        risks: (false, false),
        documents: &[("referral-letter", 75, "Referral from Dr. Marcus Bell")],
    },
    Spectrum {
        given: "Tomas",
        family: "Reyes",
        female: false,
        born: (1984, 1, 17),
        demonstrates: "needs information (awaiting records): no referral letter, who diagnosed not qualified on file, one treatment class only",
        code: ("M54.50", "Low back pain, unspecified", Some("279039007")),
        onset_days: 400,
        onset_estimated: true,
        physician: "Dr. Helen Park",
        qualification: None,
        diagnosed_days: 350,
        meds: &[IBUPROFEN],
        allergies: &[],
        lists_reviewed_days: Some(3),
        vitals: Some((3, 130.0, 84.0, 70.0, 91.0, 183.0)),
        review: None,
        risks: (false, false),
        documents: &[],
    },
    Spectrum {
        given: "Helen",
        family: "Varga",
        female: true,
        born: (1962, 8, 25),
        demonstrates: "needs information (records stale): letter 14 months old, vitals 45 days old, lists reviewed 120 days ago",
        code: ("M17.9", "Osteoarthritis of knee, unspecified", Some("396275006")),
        onset_days: 2600,
        onset_estimated: false,
        physician: "Dr. Priya Raman",
        qualification: Some("physician"),
        diagnosed_days: 2400,
        meds: &[IBUPROFEN, PHYSIOTHERAPY, current("Paracetamol 500 mg tablet", "161", "1 g up to three times daily", 800)],
        allergies: &[],
        lists_reviewed_days: Some(120),
        vitals: Some((45, 136.0, 86.0, 74.0, 77.0, 160.0)),
        review: Some((120, ALL_CLEAR)),
        risks: (false, false),
        documents: &[("referral-letter", 425, "Referral from Dr. Priya Raman")],
    },
    Spectrum {
        given: "Marcus",
        family: "Lindqvist",
        female: false,
        born: (1975, 5, 2),
        demonstrates: "refer for clinician review: interactions flagged (lorazepam, oxycodone, levothyroxine)",
        code: ("G89.4", "Chronic pain syndrome", Some("82423001")),
        onset_days: 1800,
        onset_estimated: false,
        physician: "Dr. Samuel Osei",
        qualification: Some("physician"),
        diagnosed_days: 1500,
        meds: &[
            GABAPENTIN,
            PHYSIOTHERAPY,
            current("Lorazepam 1 mg tablet", "6470", "1 mg at night", 200),
            current("Oxycodone 5 mg tablet", "7804", "5 mg up to four times daily", 365),
            current("Levothyroxine 100 mcg tablet", "10582", "100 mcg daily", 2000),
        ],
        allergies: &[("Codeine", Some("2670"), "nausea and vomiting", "low")],
        lists_reviewed_days: Some(5),
        vitals: Some((5, 126.0, 80.0, 68.0, 88.0, 175.0)),
        review: Some((5, ALL_CLEAR)),
        risks: (false, false),
        documents: &[("referral-letter", 35, "Referral from Dr. Samuel Osei")],
    },
    Spectrum {
        given: "Aisha",
        family: "Rahman",
        female: true,
        born: (1995, 10, 14),
        demonstrates: "not eligible: pain began 60 days ago, not yet chronic (more than 3 months)",
        code: ("G89.21", "Chronic pain due to trauma", Some("82423001")),
        onset_days: 60,
        onset_estimated: false,
        physician: "Dr. Jonas Weber",
        qualification: Some("physician"),
        diagnosed_days: 30,
        meds: &[
            tried("Naproxen 500 mg tablet", Some("7258"), "500 mg twice daily", 55, 25, "nsaid", "ineffective"),
            tried("Physiotherapy, 4 sessions", None, "twice weekly", 40, 10, "physiotherapy", "ineffective"),
        ],
        allergies: &[],
        lists_reviewed_days: Some(2),
        vitals: Some((2, 116.0, 72.0, 78.0, 57.0, 162.0)),
        review: Some((2, ALL_CLEAR)),
        risks: (false, false),
        documents: &[("referral-letter", 20, "Referral from Dr. Jonas Weber")],
    },
];

/// Adds the spectrum's charts. Entries are entered by the demo's nurse
/// (the first staff user with the nurse role), at 09:00 on their day.
pub(super) async fn seed_spectrum(
    conn: &mut sqlx::AnyConnection,
    clock: &DemoClock,
) -> StoreResult<Vec<SpectrumPatient>> {
    let nurse: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM staff_users WHERE role = 'nurse' ORDER BY id LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let nurse = nurse.map(|(id,)| id);
    let mut out = Vec::new();
    for (index, s) in SPECTRUM.iter().enumerate() {
        out.push(chart(conn, clock, nurse, index, s).await?);
    }
    Ok(out)
}

async fn chart(
    conn: &mut sqlx::AnyConnection,
    clock: &DemoClock,
    nurse: Option<i64>,
    index: usize,
    s: &Spectrum,
) -> StoreResult<SpectrumPatient> {
    let day = |n: i64| clock.days(-n);
    let at = |n: i64| -> StoreResult<Timestamp> { clock.at(clock.days(-n)?, 9, 0) };
    let mrn = format!("RSP-S{:05}", index + 1);
    let born = Date::new(s.born.0, s.born.1, s.born.2)
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let email = format!(
        "{}.{}@example.org",
        s.given.to_ascii_lowercase(),
        s.family.to_ascii_lowercase()
    );
    let phone = format!("+1503555{:04}", 9100 + index);
    let patient = insert_patient(
        conn,
        &NewPatient {
            mrn: &mrn,
            given_name: s.given,
            family_name: s.family,
            birth_date: born,
            sex: if s.female { "female" } else { "male" },
            phone_e164: Some(&phone),
            email: Some(&email),
            time_zone: super::DEMO_CLINIC_TIME_ZONE,
        },
        at(400)?,
    )
    .await?;

    // The problem, with who diagnosed it.
    let (code, display, snomed) = s.code;
    sqlx::query(
        "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, diagnosed_by, \
         diagnosed_on, onset_estimated, snomed_ct, code_system_version, \
         diagnosed_by_qualification, recorded_on, entered_by_user_id, entered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'ICD-10-CM FY2025', $9, $10, $11, $12)",
    )
    .bind(patient)
    .bind(code)
    .bind(display)
    .bind(day(s.onset_days)?.to_string())
    .bind(s.physician)
    .bind(day(s.diagnosed_days)?.to_string())
    .bind(i64::from(s.onset_estimated))
    .bind(snomed)
    .bind(s.qualification.unwrap_or(""))
    .bind(day(s.lists_reviewed_days.unwrap_or(30))?.to_string())
    .bind(nurse)
    .bind(to_millis(at(s.lists_reviewed_days.unwrap_or(30))?))
    .execute(&mut *conn)
    .await?;

    let recorded = s.lists_reviewed_days.unwrap_or(30);
    for m in s.meds {
        sqlx::query(
            "INSERT INTO medications (patient_id, name, rxnorm_code, rxnorm_ingredient, dose, \
             started_on, stopped_on, treatment_class, stop_reason, recorded_on, \
             entered_by_user_id, entered_at) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(patient)
        .bind(m.name)
        .bind(m.rxnorm)
        .bind(m.dose)
        .bind(m.started.map(day).transpose()?.map(|d| d.to_string()))
        .bind(m.stopped.map(day).transpose()?.map(|d| d.to_string()))
        .bind(m.class)
        .bind(m.reason)
        .bind(day(recorded)?.to_string())
        .bind(nurse)
        .bind(to_millis(at(recorded)?))
        .execute(&mut *conn)
        .await?;
    }
    for (substance, rxnorm, reaction, criticality) in s.allergies {
        sqlx::query(
            "INSERT INTO allergies (patient_id, substance, rxnorm_code, rxnorm_ingredient, kind, \
             category, criticality, reaction, recorded_on, entered_by_user_id, entered_at) \
             VALUES ($1, $2, $3, $3, 'allergy', 'medication', $4, $5, $6, $7, $8)",
        )
        .bind(patient)
        .bind(*substance)
        .bind(*rxnorm)
        .bind(*criticality)
        .bind(*reaction)
        .bind(day(recorded)?.to_string())
        .bind(nurse)
        .bind(to_millis(at(recorded)?))
        .execute(&mut *conn)
        .await?;
    }
    if let Some(days) = s.lists_reviewed_days {
        for list in ["medications", "allergies", "problems"] {
            sqlx::query(
                "INSERT INTO chart_list_reviews (patient_id, list, reviewed_on, \
                 entered_by_user_id, entered_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(patient)
            .bind(list)
            .bind(day(days)?.to_string())
            .bind(nurse)
            .bind(to_millis(at(days)?))
            .execute(&mut *conn)
            .await?;
        }
    }
    if let Some((days, systolic, diastolic, heart_rate, weight, height)) = s.vitals {
        // LOINC and UCUM: shared/clinical/codes.md.
        let measures = [
            ("8480-6", "Systolic blood pressure", systolic, "mm[Hg]"),
            ("8462-4", "Diastolic blood pressure", diastolic, "mm[Hg]"),
            ("8867-4", "Heart rate", heart_rate, "/min"),
            ("9279-1", "Respiratory rate", 14.0, "/min"),
            (
                "59408-5",
                "Oxygen saturation in Arterial blood by Pulse oximetry",
                98.0,
                "%",
            ),
            ("29463-7", "Body weight", weight, "kg"),
            ("8302-2", "Body height", height, "cm"),
        ];
        let taken = clock.at(day(days)?, 9, 15)?;
        for (loinc, name, value, unit) in measures {
            sqlx::query(
                "INSERT INTO observations (patient_id, observed_at, code_system, code, display, \
                 value, unit, entered_by_user_id, entered_at) \
                 VALUES ($1, $2, 'http://loinc.org', $3, $4, $5, $6, $7, $8)",
            )
            .bind(patient)
            .bind(to_millis(taken))
            .bind(loinc)
            .bind(name)
            .bind(value)
            .bind(unit)
            .bind(nurse)
            .bind(to_millis(taken))
            .execute(&mut *conn)
            .await?;
        }
    }
    if let Some((days, present)) = s.review {
        let (review,): (i64,) = sqlx::query_as(
            "INSERT INTO contraindication_reviews (patient_id, reviewed_on, note, \
             entered_by_user_id, entered_at) VALUES ($1, $2, '', $3, $4) RETURNING id",
        )
        .bind(patient)
        .bind(day(days)?.to_string())
        .bind(nurse)
        .bind(to_millis(at(days)?))
        .fetch_one(&mut *conn)
        .await?;
        for definition in &respite_clinical::screening::CONTRAINDICATIONS {
            let code = crate::chart::contraindication_code(definition.id);
            sqlx::query(
                "INSERT INTO contraindication_review_findings (review_id, contraindication, \
                 present) VALUES ($1, $2, $3)",
            )
            .bind(review)
            .bind(code)
            .bind(i64::from(present.contains(&code)))
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(
            "INSERT INTO pre_infusion_risk_assessments (patient_id, assessed_on, \
             cardiovascular_risk, liver_risk, high_dose_frequent, note, entered_by_user_id, \
             entered_at) VALUES ($1, $2, $3, $4, 0, '', $5, $6)",
        )
        .bind(patient)
        .bind(day(days)?.to_string())
        .bind(i64::from(s.risks.0))
        .bind(i64::from(s.risks.1))
        .bind(nurse)
        .bind(to_millis(at(days)?))
        .execute(&mut *conn)
        .await?;
    }
    for (kind, days, title) in s.documents {
        let dated = day(*days)?;
        let name = format!("{} {}", s.given, s.family);
        let pdf = letter_pdf(&[
            title.to_string(),
            format!("Date: {dated}"),
            String::new(),
            format!("Re: {name}, born {born}"),
            format!("Diagnosis: {display} (ICD-10-CM {code})"),
            format!("Pain since: {}", day(s.onset_days)?),
            String::new(),
            "Conventional treatment tried without lasting relief; referred for".to_owned(),
            "assessment for sub-anaesthetic ketamine infusions.".to_owned(),
            String::new(),
            s.physician.to_owned(),
            "(synthetic demo document)".to_owned(),
        ]);
        let received = add_days(dated, 2)?.min(clock.today);
        sqlx::query(
            "INSERT INTO chart_documents (patient_id, kind, document_date, title, author, \
             file_name, media_type, size_bytes, sha256, content, entered_by_user_id, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'application/pdf', $7, $8, $9, $10, $11)",
        )
        .bind(patient)
        .bind(*kind)
        .bind(dated.to_string())
        .bind(*title)
        .bind(s.physician)
        .bind(format!("{kind}-{}.pdf", s.family.to_ascii_lowercase()))
        .bind(i64::try_from(pdf.len()).unwrap_or(i64::MAX))
        .bind(hex::encode(Sha256::digest(&pdf)))
        .bind(pdf)
        .bind(nurse)
        .bind(to_millis(clock.at(received, 11, 0)?))
        .execute(&mut *conn)
        .await?;
    }
    Ok(SpectrumPatient {
        mrn,
        name: format!("{} {}", s.given, s.family),
        demonstrates: s.demonstrates,
    })
}

/// A one-page PDF (ISO 32000-1) of plain lines in Helvetica: enough for a
/// demo letter that a browser opens. Characters outside ASCII become `?`.
pub fn letter_pdf(lines: &[String]) -> Vec<u8> {
    let mut text = String::from("BT /F1 12 Tf 72 720 Td 16 TL\n");
    for line in lines {
        let escaped: String = line
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '?'
                }
            })
            .flat_map(|c| match c {
                '(' | ')' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        text.push_str(&format!("({escaped}) '\n"));
    }
    text.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
         /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}endstream", text.len()),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_letter_is_a_pdf_whose_cross_reference_points_at_its_objects() {
        let pdf = letter_pdf(&["Referral (test) \\ Müller".to_owned()]);
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8(pdf.clone()).unwrap();
        assert!(text.contains("(Referral \\(test\\) \\\\ M?ller) '"));
        // Each xref entry is the byte offset of "N 0 obj".
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(text[xref_at..].starts_with("xref\n0 6\n"));
        for (i, line) in text[xref_at..].lines().skip(3).take(5).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(text[offset..].starts_with(&format!("{} 0 obj", i + 1)));
        }
    }

    #[test]
    fn every_spectrum_code_is_in_the_migration_table() {
        let sqlite = include_str!("../../migrations/sqlite/0012_chart.sql");
        for s in SPECTRUM {
            assert!(
                sqlite.contains(&format!("('{}',", s.code.0)),
                "{}",
                s.code.0
            );
        }
    }
}
