//! The screening rules as data: criteria, contraindications, interacting medications and
//! record requirements, each with its source (shared/clinical/screening.md).
//!
//! A reviewer reads this file, not the engine, to know what the screening checks.

use crate::dosing::Verification;

/// The six criteria of shared/clinical/screening.md, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CriterionId {
    Chronic,
    Diagnosed,
    RecordsCurrent,
    ConventionalCareTried,
    NoContraindication,
    InteractionsReviewed,
}

/// A criterion as the clinic reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriterionDefinition {
    pub id: CriterionId,
    /// 1–6, as numbered in screening.md.
    pub number: u8,
    pub title: &'static str,
    /// The rule in words, with the settings it uses named in braces.
    pub rule: &'static str,
    /// The [`super::ScreeningSettings`] fields the rule reads.
    pub parameters: &'static [&'static str],
    pub source: &'static str,
    pub verification: Verification,
}

pub const CRITERIA: [CriterionDefinition; 6] = [
    CriterionDefinition {
        id: CriterionId::Chronic,
        number: 1,
        title: "Pain is chronic",
        rule: "met when the evaluation date is strictly after the pain onset date plus \
               {chronic_minimum_months} calendar months (jiff calendar arithmetic: a day \
               of month missing in the target month clamps to its last day, so 30 Nov + \
               3 months = 28/29 Feb); on exactly that date it is not yet met",
        parameters: &["chronic_minimum_months"],
        source: "SPEC §1.3 (seed: longer than three months); Treede RD et al. Pain \
                 2015;156:1003–1007 and ICD-11 MG30: pain that persists or recurs for \
                 more than 3 months",
        // Seen verbatim in the abstract of the follow-up paper (Treede RD et al. Pain
        // 2019;160:19–27: "pain that persists or recurs for more than 3 months"); the 2015
        // text and ICD-11 MG30 not re-read here.
        verification: Verification::ToCheck,
    },
    CriterionDefinition {
        id: CriterionId::Diagnosed,
        number: 2,
        title: "Cause diagnosed by a qualified professional",
        rule: "met when a diagnosis carries a code from the condition table \
               {condition_codes}, the diagnosing professional (physician, nurse \
               practitioner or physician assistant; any other qualification is referred \
               to a clinician) and the diagnosis date, on or before the evaluation date",
        parameters: &["condition_codes"],
        source: "SPEC §1.3 (seed: a physician's diagnosis); codes: shared/clinical/codes.md",
        verification: Verification::Checked,
    },
    CriterionDefinition {
        id: CriterionId::RecordsCurrent,
        number: 3,
        title: "Medical records complete and current",
        rule: "met when every required record kind is present and dated within its \
               freshness window {record_windows} (current while evaluation date ≤ record \
               date + window); ECG required when cardiovascular disease is suspected or \
               risk is high; liver function tests when there is liver dysfunction, a risk \
               of liver toxicity, or high-dose frequent infusions are planned",
        parameters: &["record_windows"],
        source: "SPEC §1.3 (seed: complete and up-to-date medical records); windows are \
                 clinic settings with our defaults, not from the literature; ECG and LFT \
                 rules: Cohen SP et al. Reg Anesth Pain Med 2018;43:521–546 (checked via \
                 summaries)",
        verification: Verification::Checked,
    },
    CriterionDefinition {
        id: CriterionId::ConventionalCareTried,
        number: 4,
        title: "Conventional care tried",
        rule: "met when at least {minimum_conventional_classes} distinct classes of \
               conventional treatment were tried, each with a duration and stopped because \
               it was ineffective, not tolerated, or lost effect (tolerance)",
        parameters: &["minimum_conventional_classes"],
        source: "SPEC §1.3 (seed: not first-line; conventional treatments fail or \
                 tolerance); Cohen SP et al. Reg Anesth Pain Med 2018;43:521–546 (ketamine \
                 for refractory pain)",
        verification: Verification::Checked,
    },
    CriterionDefinition {
        id: CriterionId::NoContraindication,
        number: 5,
        title: "No contraindication",
        rule: "a contraindication review is recorded (a recorded allergy to ketamine counts \
               as known hypersensitivity without one); each contraindication present acts by \
               its tier {contraindication_tiers}: absolute → not eligible, no override; not \
               eligible unless a clinician overrides with a reason; refer for clinician \
               review. The strictest tier found decides",
        parameters: &["contraindication_tiers"],
        source: "Cohen SP et al. Reg Anesth Pain Med 2018;43:521–546 (relative \
                 contraindications, checked via guideline summaries); hypersensitivity: \
                 ketamine hydrochloride injection US prescribing information, section 4",
        verification: Verification::Checked,
    },
    CriterionDefinition {
        id: CriterionId::InteractionsReviewed,
        number: 6,
        title: "Interacting medications reviewed",
        rule: "a current medication list is on file; each current medication is matched \
               against the interaction table by RxNorm ingredient (where coded) and by \
               case-insensitive ingredient name; any match is a flag for clinician review",
        parameters: &[],
        source: "shared/clinical/screening.md interaction list; ketamine hydrochloride \
                 injection US prescribing information, section 7 (drug interactions) [to \
                 check each]",
        verification: Verification::ToCheck,
    },
];

/// The definition of a criterion.
pub fn criterion(id: CriterionId) -> &'static CriterionDefinition {
    match id {
        CriterionId::Chronic => &CRITERIA[0],
        CriterionId::Diagnosed => &CRITERIA[1],
        CriterionId::RecordsCurrent => &CRITERIA[2],
        CriterionId::ConventionalCareTried => &CRITERIA[3],
        CriterionId::NoContraindication => &CRITERIA[4],
        CriterionId::InteractionsReviewed => &CRITERIA[5],
    }
}

/// Contraindications (Cohen 2018) plus hypersensitivity (product label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contraindication {
    PoorlyControlledCardiovascularDisease,
    Pregnancy,
    ActivePsychosis,
    SevereHepaticDisease,
    ModerateHepaticDisease,
    ElevatedIntracranialPressure,
    ElevatedIntraocularPressure,
    ActiveSubstanceAbuse,
    KetamineHypersensitivity,
    /// The product label's "patients in whom a significant elevation of blood pressure
    /// would constitute a serious hazard".
    SignificantBloodPressureRiseHazard,
}

/// What a contraindication found present does to the screening (shared/clinical/
/// screening.md, "Contraindications"). A clinic may move a contraindication between
/// tiers (audited), except the label's hypersensitivity, which stays absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContraindicationTier {
    /// Not eligible; no override.
    Absolute,
    /// Not eligible unless a clinician overrides with a reason.
    NotEligibleUnlessOverridden,
    /// Refer for clinician review.
    ReferForClinicianReview,
}

impl ContraindicationTier {
    pub const ALL: [ContraindicationTier; 3] = [
        ContraindicationTier::Absolute,
        ContraindicationTier::NotEligibleUnlessOverridden,
        ContraindicationTier::ReferForClinicianReview,
    ];

    /// A stable code for storage and forms.
    pub fn code(self) -> &'static str {
        match self {
            ContraindicationTier::Absolute => "absolute",
            ContraindicationTier::NotEligibleUnlessOverridden => "not-eligible-unless-overridden",
            ContraindicationTier::ReferForClinicianReview => "refer-for-review",
        }
    }

    pub fn from_code(code: &str) -> Option<ContraindicationTier> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Whether a clinician may override it with a reason.
    pub fn allows_override(self) -> bool {
        self == ContraindicationTier::NotEligibleUnlessOverridden
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContraindicationDefinition {
    pub id: Contraindication,
    pub name: &'static str,
    /// What the source advises.
    pub guidance: &'static str,
    pub source: &'static str,
    pub verification: Verification,
    /// The tier screening.md gives it; a clinic setting may change it.
    pub default_tier: ContraindicationTier,
}

const COHEN_2018: &str = "Cohen SP et al. Reg Anesth Pain Med 2018;43:521–546";

pub const CONTRAINDICATIONS: [ContraindicationDefinition; 10] = [
    ContraindicationDefinition {
        id: Contraindication::PoorlyControlledCardiovascularDisease,
        name: "poorly controlled cardiovascular disease (e.g. uncontrolled hypertension, recent MI, unstable angina)",
        guidance: "should not be used (relative contraindication, grade B)",
        source: COHEN_2018,
        verification: Verification::Checked,
        default_tier: ContraindicationTier::NotEligibleUnlessOverridden,
    },
    ContraindicationDefinition {
        id: Contraindication::Pregnancy,
        name: "pregnancy",
        guidance: "relative contraindication (grade B)",
        source: COHEN_2018,
        verification: Verification::Checked,
        default_tier: ContraindicationTier::NotEligibleUnlessOverridden,
    },
    ContraindicationDefinition {
        id: Contraindication::ActivePsychosis,
        name: "active psychosis",
        guidance: "avoid in certain poorly controlled psychoses (relative, grade B)",
        source: COHEN_2018,
        verification: Verification::Checked,
        default_tier: ContraindicationTier::NotEligibleUnlessOverridden,
    },
    ContraindicationDefinition {
        id: Contraindication::SevereHepaticDisease,
        name: "severe hepatic disease",
        guidance: "avoid (grade C)",
        source: COHEN_2018,
        verification: Verification::Checked,
        default_tier: ContraindicationTier::NotEligibleUnlessOverridden,
    },
    ContraindicationDefinition {
        id: Contraindication::ModerateHepaticDisease,
        name: "moderate hepatic disease",
        guidance: "caution, with monitoring (grade C)",
        source: COHEN_2018,
        verification: Verification::Checked,
        default_tier: ContraindicationTier::ReferForClinicianReview,
    },
    ContraindicationDefinition {
        id: Contraindication::ElevatedIntracranialPressure,
        name: "elevated intracranial pressure",
        guidance: "avoid, or lower doses with extreme caution (grade C)",
        source: COHEN_2018,
        verification: Verification::Checked,
        default_tier: ContraindicationTier::ReferForClinicianReview,
    },
    ContraindicationDefinition {
        id: Contraindication::ElevatedIntraocularPressure,
        name: "elevated intraocular pressure",
        guidance: "avoid, or lower doses with extreme caution (grade C)",
        source: COHEN_2018,
        verification: Verification::Checked,
        default_tier: ContraindicationTier::ReferForClinicianReview,
    },
    ContraindicationDefinition {
        id: Contraindication::ActiveSubstanceAbuse,
        name: "active substance abuse",
        guidance: "no serial infusions (grade C)",
        source: COHEN_2018,
        verification: Verification::Checked,
        default_tier: ContraindicationTier::ReferForClinicianReview,
    },
    ContraindicationDefinition {
        id: Contraindication::KetamineHypersensitivity,
        name: "known hypersensitivity to ketamine",
        guidance: "contraindicated (product label)",
        source: "ketamine hydrochloride injection (Ketalar) US prescribing information, section 4 \
                 Contraindications: known hypersensitivity to ketamine or any excipient",
        // Seen in label summaries, not yet in the DailyMed text itself.
        verification: Verification::ToCheck,
        default_tier: ContraindicationTier::Absolute,
    },
    ContraindicationDefinition {
        id: Contraindication::SignificantBloodPressureRiseHazard,
        name: "a significant rise in blood pressure would be a serious hazard",
        guidance: "contraindicated (product label)",
        source: "ketamine hydrochloride injection (Ketalar) US prescribing information, section 4 \
                 Contraindications: patients for whom a significant elevation of blood pressure \
                 would constitute a serious hazard",
        verification: Verification::ToCheck,
        // screening.md: "not eligible unless a clinician overrides with a reason".
        default_tier: ContraindicationTier::NotEligibleUnlessOverridden,
    },
];

pub fn contraindication(id: Contraindication) -> &'static ContraindicationDefinition {
    // The table is in enum order; the position is the discriminant.
    &CONTRAINDICATIONS[id as usize]
}

/// An ingredient to match: RxNorm ingredient RXCUI and the ingredient's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingredient {
    pub name: &'static str,
    /// RxNorm ingredient (TTY=IN) RXCUI [to check each in RxNav before release].
    pub rxcui: &'static str,
}

/// The interaction groups of screening.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InteractionGroup {
    Benzodiazepines,
    Lamotrigine,
    Opioids,
    OtherCnsDepressants,
    Alcohol,
    StrongCyp3a4Inhibitors,
    Cyp3a4Inducers,
    Sympathomimetics,
    MaoInhibitors,
    ThyroidHormones,
    OtherNmdaAntagonists,
    Methylxanthines,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InteractionRule {
    pub group: InteractionGroup,
    pub name: &'static str,
    pub effect: &'static str,
    pub ingredients: &'static [Ingredient],
    pub source: &'static str,
    pub verification: Verification,
}

const fn ing(name: &'static str, rxcui: &'static str) -> Ingredient {
    Ingredient { name, rxcui }
}

/// Ketamine, RxNorm ingredient RXCUI 6130 (shared/clinical/codes.md, [to check in RxNav]).
pub const KETAMINE: Ingredient = ing("ketamine", "6130");

/// Esketamine is ketamine's S-enantiomer: a hypersensitivity to it is taken as one to
/// ketamine (label section 4 names ketamine; same molecule) — matched by name only,
/// its RXCUI is not in shared/clinical yet.
pub const KETAMINE_NAMES: [&str; 3] = ["ketamine", "esketamine", "ketalar"];

/// Product (clinical drug) RXCUIs mapped to their ingredient before matching
/// (shared/clinical/screening.md: "map a product to its ingredient before matching";
/// ketamine injection products 238082/238083/238084 [to check in RxNav]).
pub const PRODUCT_INGREDIENTS: [(&str, Ingredient); 3] = [
    ("238082", KETAMINE),
    ("238083", KETAMINE),
    ("238084", KETAMINE),
];

/// The ingredient RXCUI of an RxNorm code: a known product maps to its ingredient; any
/// other code is taken as an ingredient already (trimmed).
pub fn ingredient_of(rxcui: &str) -> &str {
    let code = rxcui.trim();
    PRODUCT_INGREDIENTS
        .iter()
        .find(|(product, _)| *product == code)
        .map(|(_, ingredient)| ingredient.rxcui)
        .unwrap_or(code)
}

const LABEL_7: &str = "ketamine hydrochloride injection US prescribing information, section 7";

/// The interaction table. Ingredient lists are the common members of each group, not
/// exhaustive: a drug not listed is not flagged, which the explanation says.
pub const INTERACTIONS: [InteractionRule; 12] = [
    InteractionRule {
        group: InteractionGroup::Benzodiazepines,
        name: "benzodiazepines",
        effect: "may blunt the response to ketamine; additive sedation",
        ingredients: &[
            ing("alprazolam", "596"),
            ing("clonazepam", "2598"),
            ing("diazepam", "3322"),
            ing("lorazepam", "6470"),
            ing("midazolam", "6960"),
            ing("temazepam", "10355"),
            ing("chlordiazepoxide", "2356"),
            ing("oxazepam", "7781"),
        ],
        source: "shared/clinical/screening.md; label section 7 (benzodiazepines, CNS depressants) [to check]",
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::Lamotrigine,
        name: "lamotrigine",
        effect: "may attenuate ketamine's effects",
        ingredients: &[ing("lamotrigine", "28439")],
        source: "shared/clinical/screening.md [to check against a drug reference]",
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::Opioids,
        name: "opioids",
        effect: "additive sedation and respiratory depression",
        ingredients: &[
            ing("morphine", "7052"),
            ing("oxycodone", "7804"),
            ing("hydrocodone", "5489"),
            ing("hydromorphone", "3423"),
            ing("fentanyl", "4337"),
            ing("methadone", "6813"),
            ing("buprenorphine", "1819"),
            ing("tramadol", "10689"),
            ing("tapentadol", "787390"),
            ing("codeine", "2670"),
            ing("oxymorphone", "7814"),
        ],
        source: LABEL_7,
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::OtherCnsDepressants,
        name: "other CNS depressants",
        effect: "additive sedation and respiratory depression",
        ingredients: &[
            ing("gabapentin", "25480"),
            ing("pregabalin", "187832"),
            ing("zolpidem", "39993"),
            ing("phenobarbital", "8134"),
            ing("cyclobenzaprine", "21949"),
            ing("baclofen", "1292"),
        ],
        source: LABEL_7,
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::Alcohol,
        name: "alcohol",
        effect: "additive sedation and respiratory depression",
        ingredients: &[ing("alcohol", "448"), ing("ethanol", "448")],
        source: LABEL_7,
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::StrongCyp3a4Inhibitors,
        name: "strong CYP3A4 inhibitors",
        effect: "raise ketamine levels",
        ingredients: &[
            ing("clarithromycin", "21212"),
            ing("ketoconazole", "6135"),
            ing("itraconazole", "28031"),
            ing("ritonavir", "85762"),
            ing("voriconazole", "121243"),
        ],
        source: "shared/clinical/screening.md; label section 7 (CYP3A4 inhibitors) [to check]",
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::Cyp3a4Inducers,
        name: "CYP3A4 inducers",
        effect: "lower ketamine levels",
        ingredients: &[
            ing("rifampin", "9384"),
            ing("rifampicin", "9384"),
            ing("carbamazepine", "2002"),
            ing("phenytoin", "8183"),
        ],
        source: "shared/clinical/screening.md; label section 7 (CYP3A4 inducers) [to check]",
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::Sympathomimetics,
        name: "sympathomimetics",
        effect: "hypertension, tachycardia",
        ingredients: &[
            ing("amphetamine", "725"),
            ing("dextroamphetamine", "3288"),
            ing("lisdexamfetamine", "700810"),
            ing("methylphenidate", "6901"),
            ing("pseudoephedrine", "8787"),
            ing("ephedrine", "3966"),
            ing("phenylephrine", "8163"),
        ],
        source: LABEL_7,
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::MaoInhibitors,
        name: "MAO inhibitors",
        effect: "hypertension, tachycardia",
        ingredients: &[
            ing("phenelzine", "8123"),
            ing("tranylcypromine", "10734"),
            ing("isocarboxazid", "6011"),
            ing("selegiline", "9639"),
            ing("rasagiline", "134748"),
        ],
        source: "shared/clinical/screening.md [to check against a drug reference]",
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::ThyroidHormones,
        name: "thyroid hormone",
        effect: "hypertension, tachycardia",
        ingredients: &[ing("levothyroxine", "10582"), ing("liothyronine", "10814")],
        source: "shared/clinical/screening.md; ketamine product information (thyroid hormones: \
                 hypertension and tachycardia) [to check]",
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::OtherNmdaAntagonists,
        name: "other NMDA antagonists",
        effect: "additive NMDA antagonism",
        ingredients: &[ing("memantine", "6719"), ing("dextromethorphan", "3289")],
        source: "shared/clinical/screening.md [to check against a drug reference]",
        verification: Verification::ToCheck,
    },
    InteractionRule {
        group: InteractionGroup::Methylxanthines,
        name: "theophylline / aminophylline",
        effect: "lowered seizure threshold",
        ingredients: &[ing("theophylline", "10438"), ing("aminophylline", "689")],
        source: LABEL_7,
        verification: Verification::ToCheck,
    },
];

/// The record kinds the clinic needs (SPEC §1.3 and screening.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    MedicationList,
    Allergies,
    ProblemList,
    VitalSigns,
    DiagnosisLetter,
    Ecg,
    LiverFunctionTests,
}

/// When a record kind is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    Always,
    /// Cohen 2018: baseline ECG when cardiovascular disease is suspected or risk is high.
    WhenCardiovascularRisk,
    /// Cohen 2018: LFTs for baseline liver dysfunction, risk of liver toxicity, or
    /// high-dose frequent infusions.
    WhenLiverRisk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRequirement {
    pub kind: RecordKind,
    pub name: &'static str,
    pub required: Requirement,
    pub source: &'static str,
}

pub const RECORD_REQUIREMENTS: [RecordRequirement; 7] = [
    RecordRequirement {
        kind: RecordKind::MedicationList,
        name: "medication list",
        required: Requirement::Always,
        source: "SPEC §1.3",
    },
    RecordRequirement {
        kind: RecordKind::Allergies,
        name: "allergies",
        required: Requirement::Always,
        source: "SPEC §1.3",
    },
    RecordRequirement {
        kind: RecordKind::ProblemList,
        name: "problem list / history",
        required: Requirement::Always,
        source: "SPEC §1.3",
    },
    RecordRequirement {
        kind: RecordKind::VitalSigns,
        name: "vital signs including weight",
        required: Requirement::Always,
        source: "SPEC §1.3",
    },
    RecordRequirement {
        kind: RecordKind::DiagnosisLetter,
        name: "diagnosis letter / referral",
        required: Requirement::Always,
        source: "SPEC §1.3",
    },
    RecordRequirement {
        kind: RecordKind::Ecg,
        name: "ECG",
        required: Requirement::WhenCardiovascularRisk,
        source: COHEN_2018,
    },
    RecordRequirement {
        kind: RecordKind::LiverFunctionTests,
        name: "liver function tests",
        required: Requirement::WhenLiverRisk,
        source: COHEN_2018,
    },
];

pub fn record_requirement(kind: RecordKind) -> &'static RecordRequirement {
    &RECORD_REQUIREMENTS[kind as usize]
}
