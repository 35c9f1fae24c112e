//! The demo's decisions, records requests and plans (SPEC §1 steps 3–4), on
//! the screening spectrum's charts (`chart.rs`): decisions signed by the
//! demo's clinician (one of them made on facts that changed since, so out of
//! date), a records request still open and one received, a plan revised once
//! (two versions) and a plan due for review. Written through the same checks
//! as the pages (`respite_clinical`'s decision and plan rules) and the same
//! store methods, after the spectrum is committed; dates counted from the
//! demo's today, so the same day gives the same rows.

use jiff::civil::Date;
use jiff::Timestamp;
use respite_clinical::plan::{check_plan, ActivityDraft, GoalDraft, PlanDraft};
use respite_clinical::screening::decision::{
    check_decision, verdict_code, ClinicianOutcome, Override, ProposedDecision,
};
use respite_clinical::screening::{fingerprint, screen, Contraindication, RecordKind};

use super::chart::SpectrumPatient;
use super::DemoClock;
use crate::decisions::{DecisionContext, NewRecordsRequest};
use crate::{Store, StoreError, StoreResult};

/// Adds the decisions, requests and plans; returns what each patient shows.
pub(super) async fn seed_decisions(
    store: &Store,
    clock: &DemoClock,
    spectrum: &[SpectrumPatient],
) -> StoreResult<Vec<SpectrumPatient>> {
    let staff = |role: &'static str| async move {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM staff_users WHERE role = $1 ORDER BY id LIMIT 1")
                .bind(role)
                .fetch_optional(&store.pool)
                .await?;
        StoreResult::Ok(row.map(|(id,)| id))
    };
    let (Some(clinician), Some(nurse)) = (staff("clinician").await?, staff("nurse").await?) else {
        return Ok(Vec::new());
    };
    let seed = Seed {
        store,
        clock,
        clinician,
        nurse,
    };
    let mut shown = Vec::new();
    let mut note = |p: &SpectrumPatient, demonstrates: &'static str| {
        shown.push(SpectrumPatient {
            mrn: p.mrn.clone(),
            name: p.name.clone(),
            demonstrates,
        });
    };
    let find = |family: &str| spectrum.iter().find(|p| p.name.ends_with(family));

    if let Some(p) = find("Brandt") {
        let id = seed.patient_id(p).await?;
        seed.decide(id, ClinicianOutcome::NotEligible, "Known hypersensitivity to ketamine (anaphylaxis 2019): absolute contraindication. Discussed alternatives; letter to the GP.", &[], 2, None)
            .await?;
        note(
            p,
            "decided not eligible (absolute tier: no override offered)",
        );
    }
    if let Some(p) = find("Solberg") {
        let id = seed.patient_id(p).await?;
        seed.decide(
            id,
            ClinicianOutcome::Eligible,
            "Glaucoma treated and stable; lower-dose protocol.",
            &[(
                Contraindication::ElevatedIntraocularPressure,
                "Ophthalmologist confirms IOP controlled on latanoprost (16 mmHg both eyes); lower dose with monitoring.",
            )],
            1,
            None,
        )
        .await?;
        seed.plan(id, 1, 14, &first_plan(), 1).await?;
        seed.plan(id, 1, 17, &revised_plan(), 2).await?;
        note(
            p,
            "decided eligible with an override of the refer-for-review tier, with its reason; \
             plan in two versions (naproxen for ibuprofen)",
        );
    }
    if let Some(p) = find("Lindqvist") {
        let id = seed.patient_id(p).await?;
        // Decided before levothyroxine was added to the list: the facts have
        // changed since, so the decision shows out of date.
        seed.decide(
            id,
            ClinicianOutcome::Eligible,
            "Lorazepam and oxycodone reviewed: taper lorazepam, hold oxycodone on infusion days.",
            &[],
            6,
            Some("Levothyroxine"),
        )
        .await?;
        note(
            p,
            "decided eligible, now out of date: a medication was added after the decision",
        );
    }
    if let Some(p) = find("Reyes") {
        let id = seed.patient_id(p).await?;
        seed.decide(
            id,
            ClinicianOutcome::Deferred,
            "Awaiting the referral letter and the treatment history from Dr. Osei.",
            &[],
            4,
            None,
        )
        .await?;
        seed.request(id, p, "Dr. Samuel Osei", 4, None).await?;
        note(p, "deferred; records requested from the physician, not yet received (work list: awaiting records)");
    }
    if let Some(p) = find("Varga") {
        let id = seed.patient_id(p).await?;
        seed.decide(
            id,
            ClinicianOutcome::Deferred,
            "Records out of date: asked for a current letter and vitals.",
            &[],
            12,
            None,
        )
        .await?;
        seed.request(id, p, "Dr. Helen Park", 12, Some(1)).await?;
        note(
            p,
            "deferred; records request received yesterday (work list: awaiting decision)",
        );
    }
    // A patient of the older part of the demo, treated four months ago: the
    // plan written then is past its review date.
    let treated: Option<(i64, String, String, String)> = sqlx::query_as(
        "SELECT p.id, p.mrn, p.given_name, p.family_name FROM patients p \
         WHERE EXISTS (SELECT 1 FROM infusion_sessions s WHERE s.patient_id = p.id) \
         ORDER BY p.id LIMIT 1",
    )
    .fetch_optional(&store.pool)
    .await?;
    if let Some((id, mrn, given, family)) = treated {
        seed.plan(id, 130, 14, &first_plan(), 1).await?;
        shown.push(SpectrumPatient {
            mrn,
            name: format!("{given} {family}"),
            demonstrates: "plan due for review (review date passed; work list: plans due)",
        });
    }
    Ok(shown)
}

struct Seed<'a> {
    store: &'a Store,
    clock: &'a DemoClock,
    clinician: i64,
    nurse: i64,
}

impl Seed<'_> {
    async fn patient_id(&self, p: &SpectrumPatient) -> StoreResult<i64> {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM patients WHERE mrn = $1")
            .bind(&p.mrn)
            .fetch_one(&self.store.pool)
            .await?;
        Ok(id)
    }

    fn at(&self, days_ago: i64, hour: i8) -> StoreResult<Timestamp> {
        self.clock.at(self.clock.days(-days_ago)?, hour, 0)
    }

    /// Signs a decision `days_ago`, checked by the engine's rules against the
    /// chart's screening; without the current medication named `without` when
    /// given (the facts as they were before it was added).
    async fn decide(
        &self,
        patient: i64,
        outcome: ClinicianOutcome,
        reason: &str,
        overrides: &[(Contraindication, &str)],
        days_ago: i64,
        without: Option<&str>,
    ) -> StoreResult<()> {
        let settings = self.store.screening_settings().await?.screening;
        let mut facts = self
            .store
            .screening_facts(patient, self.clock.today, &self.clock.tz)
            .await?
            .facts;
        if let Some(name) = without {
            facts.medications.retain(|m| !m.name.starts_with(name));
        }
        let screening = screen(&facts, &settings, self.clock.today);
        let checked = check_decision(
            &screening,
            ProposedDecision {
                outcome,
                reason: reason.into(),
                overrides: overrides
                    .iter()
                    .map(|(c, r)| Override {
                        contraindication: *c,
                        reason: (*r).into(),
                    })
                    .collect(),
            },
        )
        .map_err(|errors| StoreError::Corrupt(format!("demo decision: {errors:?}")))?;
        self.store
            .insert_screening_decision(
                patient,
                self.clinician,
                &checked,
                &DecisionContext {
                    engine_verdict: verdict_code(screening.decision),
                    facts_fingerprint: &fingerprint(&facts),
                },
                self.at(days_ago, 11)?,
            )
            .await?;
        Ok(())
    }

    /// A records request sent `days_ago`, received `received_days_ago`.
    async fn request(
        &self,
        patient: i64,
        p: &SpectrumPatient,
        physician: &str,
        days_ago: i64,
        received_days_ago: Option<i64>,
    ) -> StoreResult<()> {
        let settings = self.store.screening_settings().await?.screening;
        let sent = self.clock.days(-days_ago)?;
        let since =
            |kind: RecordKind| long_date(settings.record_windows.oldest_current(kind, sent));
        let items = vec![
            format!(
                "The diagnosis letter / referral, dated {} or later.",
                since(RecordKind::DiagnosisLetter)
            ),
            format!(
                "An up-to-date medication list, dated {} or later.",
                since(RecordKind::MedicationList)
            ),
            "The treatments tried for this pain, each with how long and why it was stopped."
                .to_owned(),
        ];
        let id = self
            .store
            .insert_records_request(
                patient,
                self.nurse,
                &NewRecordsRequest {
                    physician_name: physician,
                    physician_address:
                        "Pacific Family Practice\n1200 NW Everett St\nPortland, OR 97209",
                    items: &items,
                    note: &format!("Our patient {} has consented to this request.", p.name),
                },
                self.at(days_ago, 10)?,
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("demo request: no patient".into()))?;
        if let Some(received) = received_days_ago {
            self.store
                .mark_records_received(id, self.nurse, self.at(received, 15)?)
                .await?;
        }
        Ok(())
    }

    /// A plan version written `days_ago`, checked by the plan rules as of then.
    async fn plan(
        &self,
        patient: i64,
        days_ago: i64,
        hour: i8,
        draft: &dyn Fn(Date) -> PlanDraft,
        version: i64,
    ) -> StoreResult<()> {
        let written = self.clock.days(-days_ago)?;
        let plan = check_plan(&draft(written), written)
            .map_err(|errors| StoreError::Corrupt(format!("demo plan: {errors:?}")))?;
        let stored = self
            .store
            .insert_treatment_plan(patient, self.clinician, &plan, self.at(days_ago, hour)?)
            .await?
            .ok_or_else(|| StoreError::Corrupt("demo plan: no patient".into()))?;
        if stored.version != version {
            return Err(StoreError::Corrupt(format!(
                "demo plan: version {} where {version} was meant",
                stored.version
            )));
        }
        Ok(())
    }
}

fn long_date(date: Date) -> String {
    date.strftime("%-d %B %Y").to_string()
}

fn activity(kind: &str, status: &str, description: &str, duration: &str) -> ActivityDraft {
    ActivityDraft {
        kind: kind.into(),
        status: status.into(),
        description: description.into(),
        duration: duration.into(),
        ..ActivityDraft::default()
    }
}

/// A first plan: a first trial infusion (Cohen 2018: at least 80 mg over more
/// than 2 h, then reassess), NSAID, physiotherapy, exercise and sleep, and the
/// underlying condition; review in 90 days.
fn first_plan() -> impl Fn(Date) -> PlanDraft {
    move |written: Date| PlanDraft {
        title: "Chronic pain: multimodal care plan".into(),
        addresses: "The diagnosed condition on the chart".into(),
        goals: vec![
            GoalDraft {
                template: "pain-reduction-30".into(),
                description: String::new(),
            },
            GoalDraft {
                template: "peg-reduction-30".into(),
                description: String::new(),
            },
            GoalDraft {
                template: "custom".into(),
                description: "Back to gardening an hour at a time".into(),
            },
        ],
        activities: vec![
            ActivityDraft {
                kind: "ketamine-series".into(),
                status: "scheduled".into(),
                protocol: "first-trial-guideline".into(),
                sessions: "1".into(),
                ..ActivityDraft::default()
            },
            activity(
                "medication",
                "in-progress",
                "Ibuprofen 400 mg three times a day with food",
                "4 weeks, then as needed",
            ),
            activity(
                "physical",
                "scheduled",
                "Physiotherapy with graded motor imagery; heat packs for stiffness",
                "twice a week for 8 weeks",
            ),
            activity(
                "non-medicinal",
                "not-started",
                "Walking programme, and sleep hygiene: fixed wake time, no screens after 22:00",
                "daily",
            ),
            activity(
                "underlying-condition",
                "in-progress",
                "Follow-up with the diagnosing specialist",
                "every 3 months",
            ),
        ],
        review_on: written
            .checked_add(jiff::ToSpan::days(90))
            .map(|d| d.to_string())
            .unwrap_or_default(),
        note: "Baseline pain 7/10 (NRS), PEG 6.7.".into(),
    }
}

/// The second version: naproxen for ibuprofen (dyspepsia), physiotherapy
/// under way.
fn revised_plan() -> impl Fn(Date) -> PlanDraft {
    move |written: Date| {
        let mut plan = first_plan()(written);
        plan.activities[1] = activity(
            "medication",
            "in-progress",
            "Naproxen 250 mg twice a day with food (ibuprofen stopped: dyspepsia)",
            "4 weeks",
        );
        plan.activities[2].status = "in-progress".into();
        plan.note = "Version 2: ibuprofen caused dyspepsia at the first week's call.".into();
        plan
    }
}
